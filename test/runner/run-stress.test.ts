/**
 * The runner on real threads, with small fixture scenarios written on the public contract.
 * Each test pins the expected finding and its evidence; rounds are bounded by count, so outcomes
 * do not depend on machine speed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Piscina } from 'piscina';
import { resolveStressOptions, type StressOptions } from '../../src/runner/options.js';
import { type StressRun, runStress } from '../../src/runner/run-stress.js';
import type { FindingSummary, VariantVerdict } from '../../src/runner/verdict.js';
import { compiledPath } from '../helpers/compiled.js';
import { eventually, osThreadCount } from '../helpers/os-threads.js';

const abba = compiledPath('test/fixtures/scenarios/forced-abba.js');
const misuse = compiledPath('test/fixtures/scenarios/misuse.js');

function options(extra: StressOptions): ReturnType<typeof resolveStressOptions> {
  return resolveStressOptions({ seed: 1, durationMs: 60_000, hangMs: 200, threads: 2, ...extra });
}

function only(run: StressRun): VariantVerdict {
  expect(run.variants).toHaveLength(1);
  return run.variants[0] as VariantVerdict;
}

function finding(v: VariantVerdict, kind: string): FindingSummary {
  const found = v.findings.find((f) => f.kind === kind);
  if (found === undefined) throw new Error(`${v.name}: no ${kind} among ${v.seen.join(', ')}`);
  return found;
}

describe('runner on real threads', () => {
  const pools: Piscina[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.destroy()));
  });

  it('a forced ABBA is seen as a deadlock with its cycle, and the run recovers and completes', async () => {
    const v = only(await runStress(options({ scenario: abba, rounds: 3 })));
    expect(v.rounds).toBe(3);
    expect(v.abortedRounds).toBe(3);
    expect(v.pass).toBe(true);
    const deadlock = finding(v, 'deadlock');
    expect(deadlock.count).toBe(3);
    if (deadlock.first.kind !== 'deadlock') throw new Error('not a deadlock');
    const cycle = deadlock.first.evidence.cycle;
    expect(cycle).toHaveLength(2);
    expect(new Set(cycle.map((t) => t.waitingFor?.class))).toEqual(new Set(['lock_A', 'lock_B']));
    for (const t of cycle) {
      // Each thread holds exactly the lock the other one waits for.
      const other = cycle.find((o) => o.thread !== t.thread);
      expect(t.held.map((h) => h.class)).toEqual([other?.waitingFor?.class]);
      expect(t.waitingFor?.ownerThread).toBe(other?.thread);
    }
    expect(finding(v, 'lock-order-cycle').locks.sort()).toEqual(['lock_A', 'lock_B']);
  });

  it('a deadlock carries the last events of every thread, read before the teardown', async () => {
    const v = only(await runStress(options({ scenario: abba, rounds: 1 })));
    const deadlock = finding(v, 'deadlock').first;
    const timeline = deadlock.timeline;
    if (deadlock.kind !== 'deadlock' || timeline === undefined) throw new Error('no deadlock timeline');
    expect(timeline.threads.map((t) => t.thread)).toEqual([0, 1]);
    for (const t of timeline.threads) {
      const first = t.thread === 0 ? 'A' : 'B';
      const second = t.thread === 0 ? 'B' : 'A';
      // The handshake fixes each thread's sequence: take the first lock, wait for the other's, block.
      expect(t.events.map((e) => [e.kind, e.target])).toEqual([
        ['round-start', ''],
        ['op-begin', `${first}${second}`],
        ['acquire', first],
        ['wait-begin', `${second}_held`],
        ['wait-end', `${second}_held`],
        ['contended', second],
      ]);
      expect(t.events.every((e) => e.round === 1)).toBe(true);
      expect(t.events.at(-1)?.timeUs).not.toBeNull();
    }
  });

  it('one run survives 100 deadlocks and leaves the pool at its normal size', async () => {
    const pool = new Piscina({
      filename: compiledPath('workers/round-worker.js'),
      minThreads: 2,
      maxThreads: 2,
      atomics: 'sync',
    });
    pools.push(pool);
    // Warm: the pool's workers are up before the count is taken.
    only(await runStress(options({ scenario: misuse, variants: ['clean'], rounds: 2 }), { pool }));
    const threadsBefore = osThreadCount();
    const v = only(await runStress(options({ scenario: abba, rounds: 100 }), { pool }));
    expect(v.rounds).toBe(100);
    expect(v.abortedRounds).toBe(100);
    expect(finding(v, 'deadlock').count).toBe(100);
    // No worker was left behind by 100 teardowns: the process has no more OS threads than before.
    expect(await eventually(() => osThreadCount() <= threadsBefore)).toBe(true);
    // The pool still works after all that.
    const after = only(await runStress(options({ scenario: misuse, variants: ['clean'], rounds: 5 }), { pool }));
    expect(after.pass).toBe(true);
    await pool.destroy();
    expect(pool.threads.length).toBe(0);
  }, 60_000);

  it('with one thread a lock-order cycle is still found but no deadlock is observed', async () => {
    const v = only(await runStress(options({ scenario: abba, rounds: 5, threads: 1 })));
    expect(v.seen).toEqual(['lock-order-cycle']);
    expect(v.abortedRounds).toBe(0);
    expect(v.pass).toBe(false);
  });

  it('taking a held mutex again is a recursive-lock and a one-thread deadlock', async () => {
    const v = only(await runStress(options({ scenario: misuse, variants: ['self-deadlock'], rounds: 2 })));
    expect(v.seen).toEqual(['deadlock', 'recursive-lock']);
    const recursive = finding(v, 'recursive-lock');
    if (recursive.first.kind !== 'recursive-lock') throw new Error('wrong kind');
    expect(recursive.first.evidence).toMatchObject({ site: 'inner_lock', heldSite: 'outer_lock' });
    const deadlock = finding(v, 'deadlock');
    if (deadlock.first.kind !== 'deadlock') throw new Error('wrong kind');
    expect(deadlock.first.evidence.cycle).toHaveLength(1);
  });

  it('two locks of one class nested is a recursive-lock without a deadlock', async () => {
    const v = only(await runStress(options({ scenario: misuse, variants: ['nested-class'], rounds: 5 })));
    expect(v.seen).toEqual(['recursive-lock']);
    expect(finding(v, 'recursive-lock').locks).toEqual(['inode_lock']);
  });

  it('a reference leaked on an error path is reported with the path that took it', async () => {
    const v = only(await runStress(options({ scenario: misuse, variants: ['leaky-error-path'], rounds: 4 })));
    expect(v.seen).toEqual(['refcount-leak']);
    const leak = finding(v, 'refcount-leak');
    if (leak.first.kind !== 'refcount-leak') throw new Error('wrong kind');
    expect(leak.first.evidence.refcount).toBe('obj.refs');
    expect(leak.first.evidence.holders).toEqual([
      expect.objectContaining({ holder: 'driver', lastGetSite: 'driver_open_device' }),
    ]);
    expect(leak.count).toBe(2); // rounds 2 and 4 take the error path
  });

  it('a stride runs every round once, each in its own copy of the world, with its own round number', async () => {
    // 300 rounds in rendezvous of 8 (the last one 4): every round's ops ran exactly once.
    const clean = only(await runStress(options({ scenario: misuse, variants: ['clean'], rounds: 300, threads: 4, stride: 8 })));
    expect(clean.rounds).toBe(300);
    expect(clean.findings).toEqual([]);
    expect(clean.lockStats.find((s) => s.name === 'lock_A')?.acquisitions).toBe(300 * 4 * 2);
    // ctx.round is the copy's own round: rounds 2, 4, 6 and 8 take the error path, in copies 1 and 3.
    const leaky = only(await runStress(options({ scenario: misuse, variants: ['leaky-error-path'], rounds: 8, stride: 4 })));
    expect(leaky.rounds).toBe(8);
    const leak = finding(leaky, 'refcount-leak');
    expect([leak.count, leak.firstRound]).toEqual([4, 2]);
    if (leak.first.kind !== 'refcount-leak') throw new Error('wrong kind');
    expect(leak.first.evidence.refcount).toBe('obj.refs');
  });

  it('a finding a thread logs in a later copy of a stride carries that copy\'s round, and its events are that round\'s', async () => {
    const v = only(await runStress(options({ scenario: misuse, variants: ['bad-unlock-even-rounds'], rounds: 8, stride: 4 })));
    expect(v.rounds).toBe(8);
    const bad = finding(v, 'bad-unlock');
    // Rounds 2, 4, 6 and 8 (copies 1 and 3 of each rendezvous of 4, after the ramp's 1 and 2).
    expect([bad.count, bad.firstRound]).toEqual([4, 2]);
    const events = bad.first.timeline?.threads[0]?.events ?? [];
    // Thread 0 marks the round twice: at its setup (before the rendezvous, with round 3's setup
    // after it) and again when its ops start.
    expect(events.map((e) => [e.kind, e.target])).toEqual([
      ['round-start', ''],
      ['round-start', ''],
      ['op-begin', 'UNLOCK'],
      ['finding', 'bad-unlock'],
    ]);
    expect(new Set(events.map((e) => e.round))).toEqual(new Set([2]));
  });

  it('a deadlock in one copy of a stride is torn down with its rendezvous, and the rounds go on', async () => {
    const v = only(await runStress(options({ scenario: abba, rounds: 3, stride: 3 })));
    // Each rendezvous deadlocks in its first copy (every round of forced-abba deadlocks): 3 rounds, 3 teardowns.
    expect(v.rounds).toBe(3);
    const deadlock = finding(v, 'deadlock');
    expect([deadlock.count, deadlock.firstRound]).toEqual([3, 1]);
    if (deadlock.first.kind !== 'deadlock') throw new Error('not a deadlock');
    expect(new Set(deadlock.first.evidence.cycle.map((t) => t.waitingFor?.class))).toEqual(new Set(['lock_A', 'lock_B']));
  });

  it('a controlled schedule runs one copy whatever --stride says', async () => {
    const v = only(await runStress(options({ scenario: misuse, variants: ['clean'], rounds: 5, schedule: 'random', stride: 8 })));
    expect(v.rounds).toBe(5);
    expect(v.lockStats.find((s) => s.name === 'lock_A')?.acquisitions).toBe(5 * 2 * 2);
  });

  it('a clean protocol stays clean over many rounds', async () => {
    const v = only(await runStress(options({ scenario: misuse, variants: ['clean'], rounds: 300, threads: 4 })));
    expect(v.rounds).toBe(300);
    expect(v.findings).toEqual([]);
    expect(v.pass).toBe(true);
    expect(v.lockStats.map((s) => s.name).sort()).toEqual(['lock_A', 'lock_B']);
    expect(v.lockStats.find((s) => s.name === 'lock_A')?.acquisitions).toBe(300 * 4 * 2);
  });

  it('a thread waiting on a lock nobody will release is stuck, with the holder in the dump', async () => {
    const v = only(await runStress(options({ scenario: misuse, variants: ['forgot-unlock'], rounds: 1, hangMs: 100 })));
    // The op that returned holding A is held-at-return, naming the site that took it.
    expect(v.seen).toEqual(['held-at-return', 'stuck']);
    const held = finding(v, 'held-at-return');
    if (held.first.kind !== 'held-at-return') throw new Error('wrong kind');
    expect(held.first.evidence).toMatchObject({ lock: { class: 'lock_A' }, site: 'leaves_locked', op: 'HOLD', index: 0, count: 1 });
    const stuck = finding(v, 'stuck');
    if (stuck.first.kind !== 'stuck') throw new Error('wrong kind');
    const holder = stuck.first.evidence.blocked.find((t) => t.held.some((h) => h.site === 'leaves_locked'));
    expect(holder).toBeDefined();
  });

  it('an unlock of a lock not held is a bad-unlock', async () => {
    const v = only(await runStress(options({ scenario: misuse, variants: ['bad-unlock'], rounds: 1 })));
    expect(v.seen).toEqual(['bad-unlock']);
    expect(finding(v, 'bad-unlock').locks).toEqual(['lock_B']);
    // The thread that logged it: its events up to the marker of this very finding.
    const first = finding(v, 'bad-unlock').first;
    expect(first.timeline?.threads.map((t) => t.thread)).toEqual([first.thread]);
    expect(first.timeline?.threads[0]?.events.map((e) => [e.kind, e.target])).toEqual([
      ['round-start', ''],
      ['op-begin', 'UNLOCK'],
      ['finding', 'bad-unlock'],
    ]);
  });

  it('a scenario past the old fixed capacities (40 classes, 200 words, 100 slots, 40 refcounts) shows exactly its one 40-class cycle', async () => {
    const ring = compiledPath('test/fixtures/scenarios/big-ring.js');
    const v = only(await runStress(options({ scenario: ring, rounds: 30, threads: 4 })));
    expect(v.errors).toEqual([]);
    expect(v.findings.map((f) => f.kind)).toEqual(['lock-order-cycle']);
    const cycle = v.findings[0]?.locks ?? [];
    expect(cycle).toHaveLength(40);
    expect(new Set(cycle)).toEqual(new Set(Array.from({ length: 40 }, (_, i) => `ring_class_${i}`)));
    expect(v.pass).toBe(true);
  });

  it('stop-on-first ends a variant at its first finding', async () => {
    const v = only(await runStress(options({ scenario: abba, rounds: 50, stopOnFirst: true })));
    expect(v.stoppedBy).toBe('first-finding');
    expect(v.rounds).toBe(1);
  });
});

describe('worker start-up', () => {
  it('every worker has loaded the scenario before the first budget starts counting', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { fileURLToPath } = await import('node:url');
    const log = join(mkdtempSync(join(tmpdir(), 'lockstress-load-')), 'loads');
    process.env.LOCKSTRESS_FIXTURE_LOG = log;
    const threads = 4;
    let loadsAtStart = -1;
    try {
      const run = await runStress(
        options({ scenario: fileURLToPath(new URL('../fixtures/scenarios/slow-load.js', import.meta.url)), threads, rounds: 5 }),
        { started: () => (loadsAtStart = readFileSync(log, 'utf8').split('\n').filter(Boolean).length) },
      );
      expect(run.variants[0]?.rounds).toBe(5);
    } finally {
      delete process.env.LOCKSTRESS_FIXTURE_LOG;
    }
    // One load in the worker that describes the scenario, one in each round worker.
    expect(loadsAtStart).toBe(threads + 1);
  }, 60_000);
});
