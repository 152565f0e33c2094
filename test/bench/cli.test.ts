/** `npm run bench` as a user runs it: --json parses, bad input is one line and exit 2. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compiledPath } from '../helpers/compiled.js';
import { type NodeRun, runNode } from '../helpers/run-node.js';

const main = compiledPath('bench/main.js');

const runBench = (args: string[], env: Record<string, string>): Promise<NodeRun> => runNode(main, args, env);

describe('bench CLI', () => {
  it.each(['0', 'abc', '2,,4'])('LOCKSTRESS_BENCH_THREADS=%j exits 2 with one line naming it', async (value) => {
    const run = await runBench([], { LOCKSTRESS_BENCH_THREADS: value });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`LOCKSTRESS_BENCH_THREADS=${JSON.stringify(value)}`);
  });

  it.each([
    [['--repeat', '0'], {}, '--repeat="0"'],
    [['--repeat'], {}, '--repeat: missing value'],
    [[], { LOCKSTRESS_BENCH_REPEAT: 'x' }, 'LOCKSTRESS_BENCH_REPEAT="x"'],
  ] as const)('bad repeat %j %j exits 2 with one line naming it', async (args, env, message) => {
    const run = await runBench([...args], { ...env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
  });

  it('--json prints one JSON document with every result name', async () => {
    const plotDir = join(mkdtempSync(join(tmpdir(), 'lockstress-plot-')), 'charts');
    const run = await runBench(['--json', '--repeat', '2', '--plot', plotDir], { LOCKSTRESS_BENCH_TIME_MS: '10', LOCKSTRESS_BENCH_THREADS: '1,2', LOCKSTRESS_THREADS: '2' });
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as {
      tool: string;
      node: string;
      cpus: number;
      results: Array<{ name: string; threads: number; nsPerOp: number; opsPerSec: number; rme: number; samples: number; findings?: string[] } & Record<string, unknown>>;
      targets: Record<string, { op: string; value: number }>;
      ratios: Record<string, number | null>;
      ratioStats: Record<string, { median: number; min: number; max: number; rounds: number } | null>;
      ratioRepeats: Record<string, { medians: number[] } | null>;
      repeat: number;
      interrupted: boolean;
    };
    expect(doc).toMatchObject({ tool: 'lockstress', node: process.version });
    expect(doc.cpus).toBeGreaterThanOrEqual(1);
    const names = new Set(doc.results.map((r) => r.name));
    for (const name of [
      'raw-cas/uncontended',
      'futex-mutex/uncontended',
      'futex-mutex+tracking/uncontended',
      'spinlock/uncontended',
      'ticket-spinlock/uncontended',
      'async-mutex/uncontended',
      'async-mutex/run-exclusive',
      'futex-mutex/contended',
      'spinlock/contended',
      'ticket-spinlock/contended',
      'handoff/futex',
      'handoff/spin',
      'vfio-kvm/open-close/51cdc8bc',
      'vfio-kvm/open-close/2b48f52f2bff',
      'stress/2b48f52f2bff',
      'barrier/limit',
      'stress-rounds/2b48f52f2bff',
      'vfio-kvm/mix/pre-51cdc8bc',
      'vfio-kvm/mix/51cdc8bc',
      'vfio-kvm/mix/fix-v2',
      'vfio-kvm/mix/2b48f52f2bff',
      'vfio-kvm/mix/missing-put',
    ]) {
      expect(names, name).toContain(name);
    }
    // The timed mix: tinybench's latency figures and what the timing surfaced, on every version.
    for (const r of doc.results.filter((x) => x.name.startsWith('vfio-kvm/mix/'))) {
      for (const key of ['p50', 'p75', 'p99', 'p999', 'max', 'deadlocks', 'stalls', 'leakedRefs']) expect(typeof r[key], `${r.name} ${key}`).toBe('number');
      expect(Array.isArray(r.findings), r.name).toBe(true);
    }
    expect(doc.results.filter((r) => r.name === 'barrier/limit').map((r) => r.threads)).toEqual([1, 2, 4]);
    expect(doc.results.filter((r) => r.name === 'stress-rounds/2b48f52f2bff').map((r) => r.threads)).toEqual([2, 4]);
    expect(doc.targets.roundsVsBarrierLimit4).toMatchObject({ op: '>=', value: 0.5 });
    expect(doc.targets.roundsVsBarrierLimit2).toMatchObject({ op: '>=', value: 0.3 });
    // The chart: one self-contained SVG.
    const svg = readFileSync(join(plotDir, 'mix-latency.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    for (const v of ['pre-51cdc8bc', '51cdc8bc', 'fix-v2', '2b48f52f2bff', 'missing-put']) expect(svg).toContain(`>${v}</text>`);
    expect(doc.results.filter((r) => r.name === 'spinlock/contended').map((r) => r.threads)).toEqual([1, 2]);
    expect(Object.keys(doc.ratios).sort()).toEqual([
      'asyncMutexVsMutex',
      'mutexVsRawCas',
      'mutexVsV8Mutex',
      'roundsVsBarrierLimit2',
      'roundsVsBarrierLimit4',
      'trackingOnVsOff',
    ]);
    for (const value of Object.values(doc.ratios)) expect(value === null || typeof value === 'number').toBe(true);
    // Beside each ratio: its per-round spread, and with --repeat 2 the two medians.
    expect(doc).toMatchObject({ repeat: 2, interrupted: false });
    for (const key of ['mutexVsRawCas', 'trackingOnVsOff', 'asyncMutexVsMutex']) {
      const stats = doc.ratioStats[key];
      expect(stats?.median, key).toBe(doc.ratios[key]);
      expect(stats?.rounds, key).toBe(40);
      expect(stats !== null && stats !== undefined && stats.min <= stats.median && stats.median <= stats.max, key).toBe(true);
      expect(doc.ratioRepeats[key]?.medians, key).toHaveLength(2);
    }
    expect(doc.ratioStats.mutexVsV8Mutex?.median ?? null).toBe(doc.ratios.mutexVsV8Mutex);
    // The tables go to stderr with --json, so stdout stays one document.
    expect(run.stderr).toContain('headline ratios');
    expect(run.stderr).toContain('headline medians of 2 repeats');
  }, 60_000);

  it('--plot onto a file, not a folder, exits 2 with one line naming it, before running anything', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lockstress-plot-')), 'a-file');
    writeFileSync(file, '');
    const run = await runBench(['--plot', file], {});
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`--plot=${JSON.stringify(file)}`);
  });

  it('--help prints the variables and exits 0', async () => {
    const run = await runBench(['--help'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('LOCKSTRESS_BENCH_THREADS');
    expect(run.stdout).toContain('LOCKSTRESS_BENCH_REPEAT');
    expect(run.stdout).toContain('--repeat N');
    expect(run.stdout).toContain('--plot DIR');
  });
});
