/**
 * Controlled schedules on real threads: one thread runs at a time, a seeded policy picks it, so
 * a seed gives the same rounds every time, and a replay token gives back the same round exactly.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { type StressOptions, resolveStressOptions } from '../../src/runner/options.js';
import { runStress, withReplay } from '../../src/runner/run-stress.js';
import { shrink } from '../../src/runner/shrink.js';
import type { VariantVerdict } from '../../src/runner/verdict.js';
import { fileURLToPath } from 'node:url';

const readmeExample = fileURLToPath(new URL('../fixtures/scenarios/my-scenario.js', import.meta.url));
import { decodeReplayToken, encodeReplayToken } from '../../src/schedule/replay-token.js';

function options(extra: StressOptions): ReturnType<typeof resolveStressOptions> {
  return resolveStressOptions({ seed: 3, threads: 2, durationMs: 60_000, hangMs: 200, ...extra });
}

async function only(extra: StressOptions): Promise<VariantVerdict> {
  const run = await runStress(withReplay(options(extra)));
  expect(run.variants).toHaveLength(1);
  return run.variants[0] as VariantVerdict;
}

describe('replay tokens', () => {
  it('carry scenario, variant, threads, seed, round, policy and every decision', () => {
    const token = { scenario: './s.js', variant: 'v', threads: 3, seed: 7, round: 12, policy: 'pct', decisions: [0, 0, 0, 2, 1, 1, 0] };
    const text = encodeReplayToken(token);
    expect(text.startsWith('lsr1.')).toBe(true);
    expect(decodeReplayToken('--replay', text)).toEqual(token);
  });

  it.each([['nope'], ['lsr1.###'], ['lsr1.' + Buffer.from('{"s":1}').toString('base64url')]])('a damaged token %s is one ConfigError naming --replay', (text) => {
    expect(() => decodeReplayToken('--replay', text)).toThrow(ConfigError);
    expect(() => decodeReplayToken('--replay', text)).toThrow('--replay=');
  });
});

describe('controlled schedules on real threads', () => {
  it('pct finds the 51cdc8bc ABBA, with a replay token on each finding', async () => {
    const v = await only({ schedule: 'pct', variants: ['51cdc8bc'], rounds: 60, untilExpected: true });
    expect(v.status).toBe('pass');
    for (const f of v.findings) expect(f.first.replay).toMatch(/^lsr1\./);
  }, 60_000);

  it('the same seed gives the same rounds: the first deadlock comes in the same round twice', async () => {
    const a = await only({ schedule: 'pct', variants: ['51cdc8bc'], rounds: 40 });
    const b = await only({ schedule: 'pct', variants: ['51cdc8bc'], rounds: 40 });
    const first = (v: VariantVerdict): number | undefined => v.findings.find((f) => f.kind === 'deadlock')?.firstRound;
    expect(first(a)).toBeDefined();
    expect(first(a)).toBe(first(b));
    expect(a.abortedRounds).toBe(b.abortedRounds);
  }, 60_000);

  it('--replay runs that one round again: the same finding, the same report text', async () => {
    const hunt = await only({ schedule: 'pct', variants: ['51cdc8bc'], rounds: 60, untilExpected: true });
    const deadlock = hunt.findings.find((f) => f.kind === 'deadlock');
    const token = deadlock?.first.replay;
    if (token === undefined) throw new Error('no replay token on the deadlock');
    const reports: string[] = [];
    for (let i = 0; i < 3; i++) {
      const again = await only({ replay: token });
      expect(again.rounds).toBe(1);
      const same = again.findings.find((f) => f.kind === 'deadlock');
      expect(same?.firstRound).toBe(deadlock?.firstRound);
      expect(same?.message).toBe(deadlock?.message);
      reports.push(same?.first.report ?? '');
    }
    expect(new Set(reports).size).toBe(1);
    expect(reports[0]).toBe(deadlock?.first.report);
  }, 60_000);

  it('the fixed version stays clean under random and pct schedules', async () => {
    for (const schedule of ['random', 'pct'] as const) {
      const v = await only({ schedule, variants: ['2b48f52f2bff'], rounds: 40 });
      expect([schedule, v.status, v.seen]).toEqual([schedule, 'pass', []]);
    }
  }, 60_000);
});

describe('bounded exhaustive exploration on real threads', () => {
  it('proves the fixed twin of the README example clean over every schedule with at most 2 preemptions', async () => {
    const a = await only({ scenario: readmeExample, schedule: 'exhaustive', preemptions: 2, variants: ['fixed'] });
    expect(a.status).toBe('pass');
    expect(a.seen).toEqual([]);
    expect(a.exploration?.complete).toBe(true);
    expect(a.exploration?.plans).toEqual(['thread 0: AB | thread 1: BA']);
    expect(a.exploration?.schedules).toBeGreaterThan(10);
    // Deterministic: the same exploration again runs the same number of schedules.
    const b = await only({ scenario: readmeExample, schedule: 'exhaustive', preemptions: 2, variants: ['fixed'] });
    expect(b.exploration?.schedules).toBe(a.exploration?.schedules);
  }, 60_000);

  it('fewer preemptions, fewer schedules: the bound is what limits the exploration', async () => {
    const none = await only({ scenario: readmeExample, schedule: 'exhaustive', preemptions: 0, variants: ['fixed'] });
    const two = await only({ scenario: readmeExample, schedule: 'exhaustive', preemptions: 2, variants: ['fixed'] });
    expect(none.exploration?.schedules).toBe(2); // who starts; then each runs to its end
    expect(two.exploration?.schedules ?? 0).toBeGreaterThan(none.exploration?.schedules ?? 0);
  }, 60_000);

  it('finds the ABBA of the broken variant, and its replay token gives the same deadlock', async () => {
    const v = await only({ scenario: readmeExample, schedule: 'exhaustive', preemptions: 2, variants: ['broken'] });
    expect(v.exploration?.complete).toBe(true);
    expect(v.seen).toEqual(['deadlock', 'lock-order-cycle']);
    const deadlock = v.findings.find((f) => f.kind === 'deadlock');
    const token = deadlock?.first.replay;
    if (token === undefined) throw new Error('no replay token');
    const again = await only({ replay: token });
    expect(again.findings.find((f) => f.kind === 'deadlock')?.first.report).toBe(deadlock?.first.report);
  }, 60_000);
});

describe('shrinking', () => {
  it('shrinks the 51cdc8bc deadlock to the ABBA of the real splat: 2 threads, at most 4 ops', async () => {
    const hunt = await only({ schedule: 'pct', variants: ['51cdc8bc'], rounds: 60, untilExpected: true });
    const token = hunt.findings.find((f) => f.kind === 'deadlock')?.first.replay;
    if (token === undefined) throw new Error('no replay token on the deadlock');
    const result = await shrink(options({}), token);
    expect(result.kind).toBe('deadlock');
    const r = result.reproducer;
    expect(r.threads).toBe(2);
    expect(r.ops).toBeLessThanOrEqual(4);
    const line = (s: { thread: number; action: string; site: string }): string => `${s.action} at ${s.site}`;
    const steps = r.steps.map(line);
    // kvm->lock held in kvm_device_release while group_lock is wanted in vfio_file_set_kvm ...
    const release = steps.indexOf('mutex_lock(kvm->lock) at kvm_device_release');
    expect(release).toBeGreaterThanOrEqual(0);
    expect(steps.indexOf('mutex_lock(group->group_lock) at vfio_file_set_kvm')).toBeGreaterThan(release);
    // ... against group_lock, then dev_set->lock, then guests_lock, then kvm->lock on the other thread.
    const chain = ['group_lock', 'dev_set->lock', 'guests_lock', 'kvm->lock'];
    const opener = r.steps.filter((s) => s.thread !== r.steps[release]?.thread && s.action.startsWith('mutex_lock') && chain.includes(s.lock));
    expect(opener.map((s) => s.lock)).toEqual(chain);
    // The shrunk token replays to the same deadlock.
    const again = await only({ replay: result.to });
    expect(again.seen).toContain('deadlock');
    expect(again.reproducer?.steps).toEqual(r.steps);
  }, 120_000);
});
