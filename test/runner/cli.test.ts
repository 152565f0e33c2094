/** The stress CLI as a user runs it: exit codes, one-line errors, JSON on stdout. */
import { describe, expect, it } from 'vitest';
import { compiledPath } from '../helpers/compiled.js';
import { type NodeRun, runNode } from '../helpers/run-node.js';

const cli = compiledPath('src/cli/stress.js');
const abba = compiledPath('test/fixtures/scenarios/forced-abba.js');
const misuse = compiledPath('test/fixtures/scenarios/misuse.js');

const runCli = (args: string[], env: Record<string, string> = {}, sigintWhenStderr?: string): Promise<NodeRun> =>
  runNode(cli, args, env, { killAfterMs: 50_000, sigintWhenStderr });

describe('stress CLI', () => {
  it.each([
    [['--threads', 'abc'], {}, '--threads="abc"'],
    [['--threads', '0'], {}, '--threads="0"'],
    [['--threads', '1e9'], {}, '--threads="1e9"'],
    [[], { LOCKSTRESS_THREADS: 'abc' }, 'LOCKSTRESS_THREADS="abc"'],
    [['--seed', 'abc'], {}, '--seed="abc"'],
    [['--bogus'], {}, 'unknown flag "--bogus"'],
    [['--variant', 'no-such-variant'], {}, '--variant "no-such-variant": not a variant of vfio-kvm'],
    [['--scenario', './missing.js'], {}, '--scenario "./missing.js": no such file'],
    [['--scenario', compiledPath('test/fixtures/scenarios/throws-on-load.js')], {}, 'does not load'],
    [['--scenario', compiledPath('test/fixtures/scenarios/not-a-scenario.js')], {}, 'not a scenario'],
  ])('bad input %o exits 2 with one line naming it', async (args, env, named) => {
    const r = await runCli(args, env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(named);
    expect(r.stderr).not.toContain('    at ');
  });

  it('--json prints exactly one JSON document on stdout and the human text on stderr', async () => {
    const r = await runCli(['--json', '--scenario', abba, '--rounds', '2', '--threads', '2', '--seed', '9']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { tool: string; seed: number; threads: number; ok: boolean; variants: Array<{ name: string; pass: boolean; findings: Array<{ kind: string; locks: string[] }> }> };
    expect(doc).toMatchObject({ tool: 'lockstress', seed: 9, threads: 2, ok: true });
    expect(doc.variants[0]?.findings.map((f) => f.kind).sort()).toEqual(['deadlock', 'lock-order-cycle']);
    const v = doc.variants[0] as unknown as { rounds: number; durationMs: number; roundsPerSec: number; acquisitionsPerSec: number };
    expect(v.roundsPerSec).toBe(Math.round((v.rounds * 1000) / v.durationMs));
    expect(v.acquisitionsPerSec).toBeGreaterThan(0);
    expect(r.stderr).toContain('INFO: task');
  });

  it('exits 1 when a variant does not show what it expects', async () => {
    const r = await runCli(['--scenario', abba, '--rounds', '3', '--threads', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/abba\s+deadlock \+ lock-order-cycle\s+lock-order-cycle\s+FAIL/);
  });

  it('--list names every variant with its expectation', async () => {
    const r = await runCli(['--list', '--scenario', misuse]);
    expect(r.code).toBe(0);
    for (const name of ['clean', 'self-deadlock', 'leaky-error-path', 'forgot-unlock']) expect(r.stdout).toContain(name);
  });

  it('SIGINT stops the run, prints what was found and exits 130', async () => {
    const r = await runCli(['--scenario', misuse, '--variant', 'clean', '--duration-ms', '60000'], {}, 'lockstress: running');
    expect(r.code).toBe(130);
    expect(r.stdout).toContain('INTERRUPTED');
    // An interrupted clean variant is neither a pass nor a fail.
    expect(r.stdout).toMatch(/\nclean\s+clean\s+\S+\s+INTERRUPTED\s/);
  });

  it('with one thread, a variant that needs two is skipped, not failed', async () => {
    const r = await runCli(['--threads', '1', '--variant', '51cdc8bc', '--variant', '2b48f52f2bff', '--duration-ms', '400']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/51cdc8bc\s+deadlock \+ lock-order-cycle\s+lock-order-cycle\s+SKIP\s+\d+\s+\d+\s+\d+ ms\s+\(needs 2 threads\)/);
    expect(r.stdout).toMatch(/2b48f52f2bff\s+clean\s+clean\s+PASS/);
  }, 30_000);

  it('12 threads run without a MaxListenersExceededWarning', async () => {
    const r = await runCli(['--scenario', misuse, '--variant', 'clean', '--threads', '12', '--rounds', '30']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('MaxListenersExceededWarning');
  });

  it('too few rounds to say is inconclusive, with exit 3', async () => {
    const r = await runCli(['--scenario', misuse, '--variant', 'clean', '--duration-ms', '1', '--min-rounds', '1000']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/clean\s+clean\s+clean\s+INCONCLUSIVE\s+\d+\s+\d+\s+\d+ ms\s+\(\d+ rounds, fewer than 1000\)/);
  });
});
