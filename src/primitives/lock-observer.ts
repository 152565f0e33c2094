/**
 * What a lock tells the lock tracker (lockdep/lock-tracker.ts) when tracking is on. The primitives
 * depend only on this interface, so the validator can sit above them and tracking off costs one
 * null check per operation.
 *
 * A plain exclusive lock()/unlock() (the hot path) calls the methods without `how`; an acquisition
 * with a read mode, subclass or nest lock calls the `...As` ones. `how` is its {@link Acquire}
 * value, `nest` the id of its nest lock (mutex_lock_nest_lock) or -1.
 */
export interface LockObserver {
  /**
   * Before the attempt: recursion, lock-order, irq-usage and sleep-in-atomic checks (lockdep's
   * lock_acquire), for a plain exclusive acquisition.
   */
  willAcquire(lockId: number, site: string): void;
  /**
   * A plain exclusive acquisition that succeeded at the first attempt: willAcquire's checks, then
   * acquired's record, in one call (see tracked-lock.ts `acquireTracked` for why after the
   * attempt). False: refused because the thread already holds kMaxHeldLocks locks; nothing was
   * recorded, and willAcquire throws for the same lock.
   */
  acquiredAtOnce(lockId: number, site: string): boolean;
  /** willAcquire for an acquisition with a read mode, subclass or nest lock. */
  willAcquireAs(lockId: number, site: string, how: number, nest: number): void;
  /** The fast attempt failed: the thread is about to wait. Returns when the wait began (µs). */
  contended(lockId: number, site: string, how: number): number;
  /** Acquired. `waitStartUs` is the value `contended` returned, or -1 if there was no wait. */
  acquired(lockId: number, site: string, waitStartUs: number): void;
  acquiredAs(lockId: number, site: string, waitStartUs: number, how: number): void;
  /** A trylock succeeded: held, but no order edge is learned (a trylock cannot block). */
  acquiredByTry(lockId: number, site: string, how: number): void;
  /**
   * Before release. False means misuse (not held by this thread, or held in the other mode):
   * reported with the lock's current owner, and the lock is left alone.
   */
  willRelease(lockId: number, site: string): boolean;
  /** willRelease of the read side (`how` has a read mode). */
  willReleaseAs(lockId: number, site: string, how: number): boolean;
  /** lockdep_assert_held. */
  assertHeld(lockId: number, site: string): void;
  /** An operation that may sleep (kvm_destroy_vm), checked against spinlocks held and irq state. */
  mightSleep(site: string): void;
  /** Interrupts were just enabled (local_irq_enable): the held locks are now irq-unsafe users. */
  hardirqsOn(site: string): void;
  /** Softirqs were just enabled (local_bh_enable). */
  softirqsOn(site: string): void;
  /** wait_for_completion: before the wait (its order edge and sleep checks). */
  willWaitCompletion(completion: number, classId: number, site: string): void;
  /** The waiter is about to sleep on the completion (publishes the wait); returns when (µs). */
  waitingCompletion(completion: number, site: string): number;
  /** The wait at `site` ended (the completion was consumed); `waitStartUs` as `waitingCompletion` returned, or -1. */
  completionWaited(completion: number, classId: number, site: string, waitStartUs: number): void;
  /** complete / complete_all: learns "completion after what this op waited for" edges. */
  completing(classId: number, site: string): void;
}
