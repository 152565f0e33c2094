/**
 * Every validator detector on real threads through the runner: the broken variant shows the
 * expected finding with the expected locks, its fixed twin is clean. Rounds are bounded by count.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Piscina } from 'piscina';
import { resolveStressOptions } from '../../src/runner/options.js';
import { formatFindingReport } from '../../src/runner/report.js';
import { runStress } from '../../src/runner/run-stress.js';
import type { FindingSummary, VariantVerdict } from '../../src/runner/verdict.js';
import { compiledPath } from '../helpers/compiled.js';

const scenario = compiledPath('test/fixtures/scenarios/validator-pairs.js');
const pool = new Piscina({ filename: compiledPath('workers/round-worker.js'), minThreads: 2, maxThreads: 2, atomics: 'sync' });

async function run(variant: string, rounds = 6): Promise<VariantVerdict> {
  const result = await runStress(
    resolveStressOptions({ scenario, variants: [variant], rounds, minRounds: rounds, threads: 2, seed: 7, durationMs: 60_000, hangMs: 300 }),
    { pool },
  );
  const v = result.variants[0];
  if (v === undefined) throw new Error(`no verdict for ${variant}`);
  return v;
}

function finding(v: VariantVerdict, kind: string): FindingSummary {
  const found = v.findings.find((f) => f.kind === kind);
  if (found === undefined) throw new Error(`${v.name}: no ${kind} among ${v.seen.join(', ')}`);
  return found;
}

describe('validator pairs on real threads', () => {
  afterAll(async () => {
    await pool.destroy();
  });

  it('hold kvm->lock and wait for a completion its completer needs kvm->lock for: a deadlock naming both, and the cycle without the race', async () => {
    const v = await run('completion-deadlock');
    expect(v.status).toBe('pass');
    const deadlock = finding(v, 'deadlock');
    if (deadlock.first.kind !== 'deadlock') throw new Error('wrong kind');
    expect(deadlock.first.locks.sort()).toEqual(['done', 'kvm->lock']);
    const waiter = deadlock.first.evidence.cycle.find((t) => t.waitingFor?.kind === 'completion');
    expect(waiter?.held.map((h) => h.class)).toEqual(['kvm->lock']);
    expect(waiter?.waitingFor?.ownerThreads).toEqual([1]);
    expect(deadlock.first.report).toContain('waiting for completion (done) at: waiter_waits, to be completed by thread-1');
    expect(finding(v, 'lock-order-cycle').locks.sort()).toEqual(['done', 'kvm->lock']);
    expect((await run('completion-fixed')).seen).toEqual([]);
  });

  it('a writer that waits for a reader who waits for the writer: a deadlock through the reader, and the cycle', async () => {
    const v = await run('rwsem-abba');
    expect(v.status).toBe('pass');
    const deadlock = finding(v, 'deadlock');
    if (deadlock.first.kind !== 'deadlock') throw new Error('wrong kind');
    const writer = deadlock.first.evidence.cycle.find((t) => t.waitingFor?.class === 'pqap_hook_rwsem');
    expect(writer?.waitingFor?.ownerThread).toBe(0);
    expect(finding(v, 'lock-order-cycle').locks.sort()).toEqual(['guests_lock', 'pqap_hook_rwsem']);
    expect((await run('rwsem-ordered')).seen).toEqual([]);
  });

  it('down_read twice with a writer queued between is recursive-lock and a real deadlock; read_lock twice is neither', async () => {
    const v = await run('rwsem-read-recursion');
    expect(v.status).toBe('pass');
    expect(finding(v, 'recursive-lock').locks).toEqual(['pqap_hook_rwsem']);
    const deadlock = finding(v, 'deadlock');
    if (deadlock.first.kind !== 'deadlock') throw new Error('wrong kind');
    expect(deadlock.first.evidence.cycle.map((t) => t.waitingFor?.read === true)).toEqual([true, false]);
    const rw = await run('rwlock-read-recursion', 3);
    expect(rw.seen).toEqual([]);
    expect(rw.status).toBe('pass');
  });

  it('an op that returns holding a lock is held-at-return naming the lock and its site; the twin is clean', async () => {
    const v = await run('held-at-return');
    expect(v.seen).toEqual(['held-at-return']);
    const held = finding(v, 'held-at-return');
    if (held.first.kind !== 'held-at-return') throw new Error('wrong kind');
    expect(held.first.evidence).toMatchObject({ lock: { lock: 'L', class: 'kvm->lock' }, site: 'leaks_L', op: 'LEAK' });
    expect(formatFindingReport(held.first)).toContain('WARNING: lock held when returning to user space!');
    expect((await run('no-leak')).seen).toEqual([]);
  });

  it('irq usage: inconsistent-lock-state and irq-lock-inversion in the kernel formats, each with its clean twin', async () => {
    const inconsistent = finding(await run('irq-inconsistent'), 'inconsistent-lock-state');
    expect(inconsistent.locks).toEqual(['lock_A']);
    expect(formatFindingReport(inconsistent.first)).toContain('inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage.');
    expect((await run('irq-consistent')).seen).toEqual([]);
    const inversion = finding(await run('irq-inversion'), 'irq-lock-inversion');
    expect(inversion.locks).toEqual(['lock_A', 'lock_B']);
    expect(formatFindingReport(inversion.first)).toMatch(/WARNING: (possible irq lock inversion dependency detected|HARDIRQ-safe -> HARDIRQ-unsafe lock order detected)/);
    expect((await run('irq-no-inversion')).seen).toEqual([]);
  });

  it('forks of one class: recursive-lock unannotated, clean under a nest lock', async () => {
    expect(finding(await run('forks-unannotated'), 'recursive-lock').locks).toEqual(['fork']);
    expect((await run('forks-nest-lock')).seen).toEqual([]);
  });
});
