/**
 * The cases of lib/locking-selftest.c that are not ported, each with the reason. Together with
 * cases.ts they are the whole file: 395 dotest() calls with CONFIG_RT_MUTEXES,
 * CONFIG_QUEUED_RWLOCKS and CONFIG_PROVE_RAW_LOCK_NESTING on, PREEMPT_RT off.
 */
export interface UnportedCase {
  name: string;
  reason: string;
}

const kSixTypes = ['spin', 'wlock', 'rlock', 'mutex', 'wsem', 'rsem'];

const reasons = {
  initHeld: "INIT(A) of a held lock: lockdep's debug_check_no_locks_freed (\"held lock freed!\"); lockstress has no lock re-initialisation",
  rtmutex: 'rt_mutex: lockstress has no rt_mutex kind (priority inheritance has no meaning for worker threads)',
  ww: 'needs ww_mutex semantics (acquire stamps, -EDEADLK / -EALREADY, ww_mutex_lock_slow, ww_acquire_done), checked by DEBUG_WW_MUTEXES rather than by lockdep',
  fsReclaim: "fs_reclaim_acquire / might_alloc: lockdep's fake reclaim map and GFP flags have no lockstress counterpart",
  waitContext:
    'CONFIG_PROVE_RAW_LOCK_NESTING wait types: lockstress has no raw_spinlock_t / spinlock_t distinction, no RCU read-side sections and no non-threaded hardirq context',
  localLock: 'local_lock_t: a per-CPU lock that lockdep skips in irq inversion searches; lockstress has no per-CPU locks',
  setSubclass: 'lockdep_set_subclass() on an initialised lock: lockstress sets classes at declaration only',
  wwGate:
    "both lock orders (o -> lock_A, lock_A -> o) are taken while holding the acquire context t, which the port models as a lock: lockstress's gate-lock rule (README, \"How it works\"; lockdep has no such rule) then rules the cycle out, while a real ww_acquire_ctx is per task and gates nothing",
};

const unported: UnportedCase[] = [
  ...kSixTypes.map((type) => ({ name: `init_held_${type}`, reason: reasons.initHeld })),
  ...['AA', 'ABBA', 'ABBCCA', 'ABCABC', 'ABBCCDDA', 'ABCDBDDA', 'ABCDBCDA', 'double_unlock', 'init_held'].map((base) => ({
    name: `${base}_rtmutex`,
    reason: reasons.rtmutex,
  })),
  ...[
    'ww_test_fail_acquire',
    'ww_test_unneeded_slow',
    'ww_test_diff_class',
    'ww_test_context_done_twice',
    'ww_test_context_fini_early',
    'ww_test_context_lock_after_done',
    'ww_test_object_lock_unbalanced',
    'ww_test_object_lock_stale_context',
    'ww_test_edeadlk_normal',
    'ww_test_edeadlk_normal_slow',
    'ww_test_edeadlk_no_unlock',
    'ww_test_edeadlk_no_unlock_slow',
    'ww_test_edeadlk_acquire_more',
    'ww_test_edeadlk_acquire_more_slow',
    'ww_test_edeadlk_acquire_more_edeadlk',
    'ww_test_edeadlk_acquire_more_edeadlk_slow',
    'ww_test_edeadlk_acquire_wrong',
    'ww_test_edeadlk_acquire_wrong_slow',
  ].map((name) => ({ name, reason: reasons.ww })),
  { name: 'ww_test_spin_context', reason: reasons.wwGate },
  ...['fs_reclaim_correct_nesting', 'fs_reclaim_wrong_nesting', 'fs_reclaim_protected_nesting'].map((name) => ({ name, reason: reasons.fsReclaim })),
  ...['HARDIRQ', 'NOTTHREADED_HARDIRQ', 'SOFTIRQ', 'RCU', 'RCU_BH', 'RCU_SCHED', 'raw_spinlock', 'spinlock', 'mutex'].flatMap((outer) =>
    ['RCU', 'raw_spinlock', 'spinlock', 'mutex'].map((inner) => ({ name: `${inner}_in_${outer}`, reason: reasons.waitContext })),
  ),
  ...['local_lock_2', 'local_lock_3A', 'local_lock_3B'].map((name) => ({ name, reason: reasons.localLock })),
  { name: 'test_lockdep_set_subclass_name', reason: reasons.setSubclass },
];

export const kUnportedCases: readonly UnportedCase[] = unported;

/** dotest() calls in the kernel file (with rt_mutex, queued rwlocks and raw lock nesting on). */
export const kKernelCaseCount = 395;
