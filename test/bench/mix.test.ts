/**
 * The timed mix (bench/suites/mix.ts): on plain data, how its figures are made (tinybench's
 * statistics of given samples, stalls, deadlocks, per-op figures, the cost and benefit lines);
 * on real threads with a small budget, that each broken version surfaces its bug in the timed mix
 * and the fixes stay clean. No timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../bench/bench-result.js';
import { latencyStats, quantileSorted } from '../../bench/latency.js';
import { formatMixHeadline, formatMixTable, mixHeadline } from '../../bench/report.js';
import type { OpTimes } from '../../src/runner/op-timing.js';
import type { FindingSummary, VariantVerdict } from '../../src/runner/verdict.js';
import { compiledPath } from '../helpers/compiled.js';

type Mix = typeof import('../../bench/suites/mix.js');
const loadMix = async (): Promise<Mix> => (await import(compiledPath('bench/suites/mix.js'))) as Mix;

const verdict = (name: string, extra: Partial<VariantVerdict> = {}): VariantVerdict => ({
  name,
  description: '',
  expect: 'clean',
  seen: [],
  pass: true,
  status: 'pass',
  note: '',
  rounds: 10,
  stride: 1,
  durationMs: 100,
  roundsPerSec: 100,
  acquisitionsPerSec: 1000,
  findings: [],
  lockStats: [],
  coverage: { ops: [], pairsOverlapped: 0, pairsPossible: 0, overlapped: [] },
  abortedRounds: 0,
  firstDeadlockMs: null,
  stoppedBy: 'duration',
  errors: [],
  exploration: null,
  reproducer: null,
  lockOrder: [],
  ...extra,
});

const deadlock = (count: number): FindingSummary =>
  ({ kind: 'deadlock', key: `k${count}`, count, firstRound: 1, locks: [], message: '', first: {} }) as unknown as FindingSummary;

describe('latency statistics of externally measured samples', () => {
  it('are tinybench\'s, over exactly the samples given, in µs', () => {
    // 1, 2, ..., 100 µs, shuffled: p50 interpolates between the 50th and 51st.
    const ns = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) * 1000 + 1000);
    const s = latencyStats('t', ns);
    expect(s.samples).toBe(100);
    expect(s.p50).toBeCloseTo(50.5, 6);
    expect(s.p99).toBeCloseTo(99.01, 6);
    expect(s.min).toBeCloseTo(1, 6);
    expect(s.max).toBeCloseTo(100, 6);
    expect(s.mean).toBeCloseTo(50.5, 6);
    expect(s.sortedUs).toHaveLength(100);
    expect(quantileSorted(s.sortedUs, 0.5)).toBeCloseTo(s.p50, 9);
    expect(quantileSorted(s.sortedUs, 0.999)).toBeCloseTo(s.p999, 9);
  });

  it('refuses an empty set', () => {
    expect(() => latencyStats('t', [])).toThrow('no samples');
  });
});

describe('a version\'s mix result', () => {
  it('counts stalls over 100x the median, deadlocked rounds, leaked references and each op', async () => {
    const { mixResult } = await loadMix();
    const times: OpTimes = {
      durationsNs: [...Array.from({ length: 98 }, () => 2000), 150_000, 250_000],
      ops: [...Array.from({ length: 98 }, (_, i) => i % 2), 1, 2],
      opNames: ['DEV_OPEN', 'DEV_CLOSE', 'KVFIO_CLOSE'],
      dropped: 0,
      tornDown: 1,
      leakedRefs: 7,
    };
    const { result, sortedUs } = mixResult(
      verdict('51cdc8bc', { seen: ['deadlock', 'lock-order-cycle'], findings: [deadlock(3), deadlock(2)] }),
      times,
      4,
    );
    expect(result).toMatchObject({
      name: 'vfio-kvm/mix/51cdc8bc',
      threads: 4,
      samples: 100,
      p50: 2,
      deadlocks: 5,
      stalls: 1, // 250 µs > 100 x 2 µs; 150 µs is not
      leakedRefs: 7,
      tornDownOps: 1,
      findings: ['deadlock', 'lock-order-cycle'],
    });
    for (const key of ['p50', 'p75', 'p99', 'p999', 'max'] as const) expect(result[key]).toBeGreaterThan(0);
    expect(result.perOp?.DEV_OPEN?.ops).toBe(49);
    expect(result.perOp?.DEV_CLOSE?.ops).toBe(50);
    expect(result.perOp?.KVFIO_CLOSE).toMatchObject({ ops: 1, p50: 250, max: 250 });
    expect(sortedUs).toHaveLength(100);
  });
});

describe('the mix table and the cost and benefit lines', () => {
  const mix = (name: string, extra: Partial<BenchResult>): BenchResult => ({
    name: `vfio-kvm/mix/${name}`,
    threads: 4,
    nsPerOp: 1,
    opsPerSec: 1,
    rme: 0,
    samples: 1000,
    rounds: 100,
    p50: 3,
    p75: 4,
    p99: 30,
    p999: 500,
    max: 5000,
    deadlocks: 0,
    stalls: 2,
    leakedRefs: 0,
    findings: [],
    ...extra,
  });
  const bare = (name: string, nsPerOp: number): BenchResult => ({ name: `vfio-kvm/open-close/${name}`, threads: 1, nsPerOp, opsPerSec: 1, rme: 0, samples: 1 });
  const results = [
    mix('51cdc8bc', { p50: 17, p999: 8400, max: 8900, deadlocks: 158, rounds: 293, findings: ['deadlock', 'lock-order-cycle'] }),
    mix('2b48f52f2bff', { p50: 3.5, rounds: 2877 }),
    mix('missing-put', { leakedRefs: 12369, findings: ['invariant', 'refcount-leak'] }),
    bare('51cdc8bc', 1560),
    bare('2b48f52f2bff', 2360),
  ];

  it('puts the versions side by side with their deadlocks and leaked references', () => {
    const text = formatMixTable('mix', results.filter((r) => r.name.includes('/mix/')));
    const lines = text.split('\n');
    expect(lines[1]).toMatch(/^version +p50 +p99 +p99\.9 +max +deadlocks +stalls +leaked refs +ops +rounds +findings$/);
    expect(lines[2]).toMatch(/^51cdc8bc +17\.0 µs +30\.0 µs +8\.40 ms +8\.90 ms +158 +2 +0 +1000 +293 +deadlock, lock-order-cycle$/);
    expect(lines[4]).toMatch(/^missing-put .* 12369 .*invariant, refcount-leak$/);
    expect(lines[3]).toMatch(/clean$/);
  });

  it('state the fix\'s cost and benefit from the results of the run', () => {
    const h = mixHeadline(results);
    expect(h?.cost).toBe(
      '2b48f52f2bff: p50 -13.5 µs vs 51cdc8bc in the mix (3.50 µs vs 17.0 µs, each on its own plan); the bare open+close path, one thread: +0.80 µs (2.36 µs vs 1.56 µs)',
    );
    expect(h?.benefit).toBe(
      "2b48f52f2bff: p99.9 500 µs, bounded (no deadlock in 2877 rounds) vs 51cdc8bc's 8.40 ms tail (158 of 293 rounds deadlocked and torn down, max 8.90 ms)",
    );
    expect(formatMixHeadline(h ?? { cost: '', benefit: '' })).toMatch(/^the fix in the timed mix \(this run\):\n  cost: +2b48f52f2bff.*\n  benefit: 2b48f52f2bff/);
  });

  it('say so when the fix deadlocked, and are absent without both versions', () => {
    const broken = results.map((r) => (r.name === 'vfio-kvm/mix/2b48f52f2bff' ? { ...r, deadlocks: 2 } : r));
    expect(mixHeadline(broken)?.benefit).toContain('NOT bounded (2 deadlocked rounds)');
    expect(mixHeadline(results.filter((r) => !r.name.endsWith('/mix/51cdc8bc')))).toBeNull();
  });
});

describe('the timed mix on real threads, small budget', () => {
  it('the broken versions surface their bug: deadlocks for 51cdc8bc and pre-51cdc8bc, leaked references for missing-put', async () => {
    const { runMix } = await loadMix();
    const output = await runMix({ durationMs: 5000, threads: 4, variants: ['pre-51cdc8bc', '51cdc8bc', 'missing-put'], untilExpected: true });
    const by = Object.fromEntries(output.results.map((r) => [r.name, r]));
    expect(Object.keys(by)).toEqual(['vfio-kvm/mix/pre-51cdc8bc', 'vfio-kvm/mix/51cdc8bc', 'vfio-kvm/mix/missing-put']);
    for (const v of ['pre-51cdc8bc', '51cdc8bc']) {
      const r = by[`vfio-kvm/mix/${v}`];
      expect(r?.deadlocks, v).toBeGreaterThan(0);
      expect(r?.findings, v).toContain('deadlock');
      // The deadlocked ops are in the distribution, not dropped.
      expect(r?.tornDownOps, v).toBeGreaterThan(0);
    }
    const leak = by['vfio-kvm/mix/missing-put'];
    expect(leak?.leakedRefs).toBeGreaterThan(0);
    expect(leak?.findings).toContain('refcount-leak');
    expect(leak?.deadlocks).toBe(0);
    for (const r of output.results) {
      for (const key of ['p50', 'p75', 'p99', 'p999', 'max', 'stalls'] as const) expect(Number.isFinite(r[key]) && (r[key] ?? -1) >= 0, key).toBe(true);
      expect(r.samplesDropped).toBe(0);
    }
    expect(output.versions.map((v) => v.sortedUs.length)).toEqual(output.results.map((r) => r.samples));
  }, 60_000);

  it('the fixes stay clean in the timed mix: no deadlock, no leaked reference, no finding', async () => {
    const { runMix } = await loadMix();
    const output = await runMix({ durationMs: 300, threads: 4, variants: ['fix-v2', '2b48f52f2bff'] });
    expect(output.results.map((r) => r.name)).toEqual(['vfio-kvm/mix/fix-v2', 'vfio-kvm/mix/2b48f52f2bff']);
    for (const r of output.results) {
      expect(r).toMatchObject({ deadlocks: 0, leakedRefs: 0, tornDownOps: 0, findings: [] });
      expect(r.samples).toBeGreaterThan(0);
    }
  }, 60_000);

  it('an aborted mix runs nothing', async () => {
    const { runMix } = await loadMix();
    expect(await runMix({ durationMs: 100, threads: 2, signal: AbortSignal.abort() })).toEqual({ results: [], unavailable: [], versions: [] });
  });
});
