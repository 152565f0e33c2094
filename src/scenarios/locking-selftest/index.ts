/**
 * The kernel's locking selftests (lib/locking-selftest.c) as a built-in scenario:
 * `npm run stress -- --scenario locking-selftest`. One variant per kernel case, named as the
 * kernel names it, expecting what the kernel expects: `clean` for SUCCESS, the finding lockdep
 * reports for FAILURE. A case runs on thread 0, once per round, as the kernel runs it on one CPU;
 * other threads have nothing to do, so a run on any thread count gives the same verdicts.
 *
 * The locks are the kernel's: lock_A ... lock_D (spinlock_t), rwlock_A ... (rwlock_t), mutex_A ...,
 * rwsem_A ..., and the X1/X2, Y1/Y2, Z1/Z2 pairs that share a class (lock_X, rwlock_X, ...), plus
 * two queued rwlocks for the queued_read_lock cases and the ww_lockdep mutexes and acquire
 * contexts. The macro layer is port.ts, the cases cases.ts, the cases left out out-of-reach.ts.
 */
import type { LockDeclaration, Scenario, Variant } from '../contract.js';
import { kSelftestCases } from './cases.js';
import { Selftest } from './port.js';

const locks: Record<string, LockDeclaration> = {};
for (const suffix of ['A', 'B', 'C', 'D', 'X1', 'X2', 'Y1', 'Y2', 'Z1', 'Z2']) {
  // X1 and X2 are two instances of one class (init_class_X), as Y* and Z*.
  const cls = suffix.length === 2 ? (suffix[0] as string) : suffix;
  locks[`lock_${suffix}`] = { class: `lock_${cls}`, kind: 'spinlock' };
  locks[`rwlock_${suffix}`] = { class: `rwlock_${cls}`, kind: 'rwlock' };
  locks[`mutex_${suffix}`] = { class: `mutex_${cls}`, kind: 'mutex' };
  locks[`rwsem_${suffix}`] = { class: `rwsem_${cls}`, kind: 'rwsem' };
}
// force_read_lock_recursive = 0 with CONFIG_QUEUED_RWLOCKS: the queued_read_lock cases.
locks['rwlock_A (queued)'] = { class: 'rwlock_A', kind: 'rwlock', queued: true };
locks['rwlock_B (queued)'] = { class: 'rwlock_B', kind: 'rwlock', queued: true };
// DEFINE_WD_CLASS(ww_lockdep): the ww mutexes o, o2, o3 and the acquire contexts t, t2.
for (const o of ['o', 'o2', 'o3']) locks[o] = { class: 'ww_lockdep_mutex', kind: 'mutex' };
for (const t of ['t', 't2']) locks[t] = { class: 'ww_lockdep_acquire', kind: 'mutex' };

const variants: Variant[] = kSelftestCases.map((c) => ({
  name: c.name,
  description: `${c.row}: the kernel expects ${c.expected}${c.kind === undefined ? '' : ` (lockdep reports ${c.kind})`}`,
  expect: c.expected === 'SUCCESS' ? 'clean' : [c.kind ?? 'lock-order-cycle'],
  ops: {
    CASE: (ctx) => {
      const t = new Selftest(ctx, c.type, c.irq);
      c.body(t);
      t.reset();
    },
  },
}));

const scenario: Scenario = {
  name: 'locking-selftest',
  description: "the Linux kernel's lockdep self-tests (lib/locking-selftest.c), one variant per case",
  objects: { locks },
  ops: { CASE: () => undefined },
  plan: (_rng, threads) => Array.from({ length: threads }, (_, t) => (t === 0 ? ['CASE'] : [])),
  variants,
};

export default scenario;
