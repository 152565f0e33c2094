/**
 * The one place where a lock talks to the lock tracker. Every lock kind exposes the same small
 * set of steps ({@link LockPrimitive}); {@link acquireTracked} and friends wrap them with the
 * tracker's calls in lockdep's order, so the order that the watchdog relies on (see
 * lock-tracker.ts `acquired`) is written once for every kind.
 *
 * How a lock is taken is one integer, {@link Acquire}: the read mode (lockdep's `read`: 0
 * exclusive, 1 a non-recursive reader, 2 a recursive reader, or "recursive only in interrupt
 * context" for a queued rwlock's reader) and the subclass (mutex_lock_nested). A plain
 * `lock(site)` is 0 and goes through {@link acquireTracked}, the hot path.
 */
import { ProtocolError } from '../errors.js';
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
  /** Index of the owning thread (the writer, for a reader-writer lock), or -1. */
  ownerThread(): number;
}

/** The `how` of an acquisition: read mode in the low bits, then the subclass. */
export const Acquire = {
  /** Exclusive: mutex_lock, spin_lock, down_write, write_lock. */
  Write: 0,
  /** A reader that does not recurse (down_read: a second down_read can block behind a writer). */
  Read: 1,
  /** A recursive reader (read_lock: readers never wait for a waiting writer). */
  ReadRecursive: 2,
  /** read_lock of a queued rwlock: recursive in interrupt context only (read_lock_is_recursive). */
  ReadQueued: 3,
  ModeMask: 3,
  /** The subclass (0..7) is `how >> SubclassShift`. */
  SubclassShift: 2,
} as const;

/** `how` for a subclass: `Acquire.Write | subclassBits(1)` is mutex_lock_nested(lock, 1). */
export const subclassBits = (subclass: number): number => subclass << Acquire.SubclassShift;

/**
 * lock(): the attempt first. Taken at once: lockdep's lock_acquire checks and the acquired record,
 * in one call (`acquiredAtOnce`). Not taken: lock_acquire's checks, the contended wait, then the
 * acquired record, as before.
 *
 * Why the checks of an attempt that did not wait may come after it: the checks only read this
 * thread's held stack and record (edges, usage bits, findings), and nothing on this thread runs in
 * between, so they see and record the same as before the attempt; what must come first is what
 * the watchdog needs before a thread blocks, and this thread did not block. The kernel does the
 * same for mutex_trylock (mutex_acquire after the lock is taken). One check refuses instead of
 * recording: the held stack is full (kMaxHeldLocks); then the lock is released again and
 * willAcquire throws the LimitError, so the lock is not left taken.
 *
 * Why the split: this is on every tracked lock(), and V8 inlines a call only while the caller's
 * inlined bytecode stays under a budget; one observer call, with the rest out of line, fits.
 * TrackedFutexMutex.lock writes these two lines out (tracked-futex-mutex.ts says why).
 */
export function acquireTracked(lock: LockPrimitive, observer: LockObserver, site: string): void {
  const taken = lock.fastAcquire();
  if (!taken || !observer.acquiredAtOnce(lock.id, site)) acquireTrackedSlowly(lock, observer, site, taken);
}

/**
 * {@link acquireTracked} past its common case. Not `taken`: the checks, the contended wait, the
 * record (no second attempt). `taken` but refused by the tracker (held stack full): undo the
 * attempt, then willAcquire throws. Only for locks whose failed attempt leaves no trace: a
 * ticket lock, whose failed attempt takes a ticket, uses {@link acquireTrackedCheckingFirst}.
 */
export function acquireTrackedSlowly(lock: LockPrimitive, observer: LockObserver, site: string, taken: boolean): void {
  if (taken) {
    lock.release();
    observer.willAcquire(lock.id, site);
    throw new ProtocolError(`lock ${lock.id} at ${site || '?'}: the tracker refused it, yet its checks passed`);
  }
  observer.willAcquire(lock.id, site);
  const waitStart = observer.contended(lock.id, site, 0);
  lock.waitAcquire();
  observer.acquired(lock.id, site, waitStart);
}

/**
 * lock() with the checks before the attempt, for a lock whose failed attempt leaves a trace (a
 * ticket lock takes its ticket): {@link acquireTracked}'s refusal could not be undone there, so
 * willAcquire throws before anything is taken, as it always did.
 */
export function acquireTrackedCheckingFirst(lock: LockPrimitive, observer: LockObserver, site: string): void {
  observer.willAcquire(lock.id, site);
  if (lock.fastAcquire()) {
    observer.acquired(lock.id, site, -1);
    return;
  }
  const waitStart = observer.contended(lock.id, site, 0);
  lock.waitAcquire();
  observer.acquired(lock.id, site, waitStart);
}

/**
 * An acquisition with a read mode, a subclass or a nest lock (`nest` is the nest lock's id, or
 * -1): the same steps as {@link acquireTracked}, on whichever side of the lock `steps` is.
 */
export function acquireTrackedAs(steps: LockPrimitive, observer: LockObserver, site: string, how: number, nest: number): void {
  observer.willAcquireAs(steps.id, site, how, nest);
  if (steps.fastAcquire()) {
    observer.acquiredAs(steps.id, site, -1, how);
    return;
  }
  const waitStart = observer.contended(steps.id, site, how);
  steps.waitAcquire();
  observer.acquiredAs(steps.id, site, waitStart, how);
}

/** trylock(): no order edge (a trylock cannot block), but the lock is held afterwards. */
export function tryAcquireTracked(lock: LockPrimitive, observer: LockObserver, site: string, how = 0): boolean {
  const taken = lock.tryAcquire();
  if (taken) observer.acquiredByTry(lock.id, site, how);
  return taken;
}

/**
 * unlock(): a release the tracker refuses (not held by this thread) is reported, not done.
 * TrackedFutexMutex.unlock writes this line out.
 */
export function releaseTracked(lock: LockPrimitive, observer: LockObserver, site: string): void {
  if (observer.willRelease(lock.id, site)) lock.release();
}

/** The read side's unlock (`how` is the side's read mode). */
export function releaseTrackedAs(steps: LockPrimitive, observer: LockObserver, site: string, how: number): void {
  if (observer.willReleaseAs(steps.id, site, how)) steps.release();
}
