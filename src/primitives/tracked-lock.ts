/**
 * The one place where a lock talks to the lock tracker. Every lock kind exposes the same small
 * set of steps ({@link LockPrimitive}); {@link acquireTracked} and friends wrap them with the
 * tracker's calls in lockdep's order, so the order that the watchdog relies on (see
 * lock-tracker.ts `acquired`) is written once for every kind.
 */
import type { LockObserver } from './lock-observer.js';

/** The steps of a lock, without tracking. A view made per thread (it knows its thread). */
export interface LockPrimitive {
  /** Lock id (its record in the lock table). */
  readonly id: number;
  /**
   * One attempt that never blocks. True: acquired. False: the caller must call `waitAcquire`
   * next (a ticket lock has then already taken its ticket).
   */
  fastAcquire(): boolean;
  /** Blocks (bounded slices, abort-aware) until acquired, after a failed `fastAcquire`. */
  waitAcquire(): void;
  /** trylock: acquires only if that needs no wait. */
  tryAcquire(): boolean;
  /** Releases. Throws ProtocolError if this thread does not hold it. */
  release(): void;
  /** Index of the owning thread, or -1. */
  ownerThread(): number;
}

/** lock(): lockdep's lock_acquire, the attempt, the contended wait, then the acquired record. */
export function acquireTracked(lock: LockPrimitive, observer: LockObserver, site: string): void {
  observer.willAcquire(lock.id, site);
  if (lock.fastAcquire()) {
    observer.acquired(lock.id, site, -1);
    return;
  }
  const waitStart = observer.contended(lock.id, site);
  lock.waitAcquire();
  observer.acquired(lock.id, site, waitStart);
}

/** trylock(): no order edge (a trylock cannot block), but the lock is held afterwards. */
export function tryAcquireTracked(lock: LockPrimitive, observer: LockObserver, site: string): boolean {
  const taken = lock.tryAcquire();
  if (taken) observer.acquiredByTry(lock.id, site);
  return taken;
}

/** unlock(): a release the tracker refuses (not held by this thread) is reported, not done. */
export function releaseTracked(lock: LockPrimitive, observer: LockObserver, site: string): void {
  if (observer.willRelease(lock.id, site)) lock.release();
}
