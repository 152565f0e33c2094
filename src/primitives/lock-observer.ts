/**
 * What a lock tells the lock tracker (lockdep/lock-tracker.ts) when tracking is on. The primitives
 * depend only on this interface, so the validator can sit above them and tracking off costs one
 * null check per operation.
 */
export interface LockObserver {
  /** Before the attempt: recursion, lock-order and sleep-in-atomic checks (lockdep's lock_acquire). */
  willAcquire(lockId: number, site: string): void;
  /** The fast attempt failed: the thread is about to wait. Returns when the wait began (µs). */
  contended(lockId: number, site: string): number;
  /** Acquired. `waitStartUs` is the value `contended` returned, or -1 if there was no wait. */
  acquired(lockId: number, site: string, waitStartUs: number): void;
  /** A trylock succeeded: held, but no order edge is learned (a trylock cannot block). */
  acquiredByTry(lockId: number, site: string): void;
  /**
   * Before release. False means misuse (not held by this thread): reported with the lock's current
   * owner, and the lock is left alone.
   */
  willRelease(lockId: number, site: string): boolean;
  /** lockdep_assert_held. */
  assertHeld(lockId: number, site: string): void;
  /** An operation that may sleep (kvm_destroy_vm), checked against spinlocks held. */
  mightSleep(site: string): void;
}
