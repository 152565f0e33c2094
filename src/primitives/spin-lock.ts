/**
 * SpinLock: test-and-test-and-set with bounded exponential backoff, for any thread.
 *
 * Algorithm: TTAS (Rudolph & Segall 1984; Anderson 1990 for the backoff; the same shape as Linux's
 * generic `arch_spin_lock` fallbacks). The word holds the owner:
 *
 * | kLockState value | meaning                              |
 * |------------------|--------------------------------------|
 * | 0                | unlocked                             |
 * | owner            | locked by thread `owner - 1`         |
 *
 * - lock: one CAS 0 -> owner. On failure, read-spin until the word looks free ("test" before
 *   "test-and-set", so waiters do not bounce the cache line), backing off 1, 2, 4 ... up to
 *   {@link kMaxBackoff} pauses between reads. After {@link kSpinsBeforeYield} rounds it yields the
 *   core with a {@link kYieldMs} timed `Atomics.wait`: on 2 cores with 4 threads, pure spinning
 *   starves the holder.
 * - unlock: one CAS owner -> 0; a failed CAS is an unlock by a non-owner (misuse).
 * - tryLock: the CAS of lock, once.
 *
 * Why no wake-up is lost: nobody sleeps untimed. A waiter that yields sleeps at most kYieldMs and
 * then re-reads the word, so unlock needs no notify (and pays for none).
 *
 * Preconditions, checked: unlock only by the owner. A spinlock is an atomic context: the tracker
 * reports a sleeping lock or `mightSleep` under it. Kernel analogue: `spinlock_t`
 * (`group->kvm_ref_lock`).
 */
import { type SharedMemory, kLockState, lockBase, wallClockMs } from '../layout.js';
import { ProtocolError } from '../errors.js';
import type { LockObserver } from './lock-observer.js';
import { type SchedulePolicy, kFreeRunning } from './schedule-policy.js';
import { type LockPrimitive, acquireTracked, acquireTrackedAs, releaseTracked, tryAcquireTracked } from './tracked-lock.js';
import { spinPause } from './spin-pause.js';

/** Largest backoff, in pause iterations. */
export const kMaxBackoff = 256;
/** Backoff rounds before the first yield. */
export const kSpinsBeforeYield = 16;
/** A yield sleeps this long (50 µs). */
export const kYieldMs = 0.05;

export class SpinLock implements LockPrimitive {
  private readonly i32: Int32Array;
  private readonly stateIndex: number;
  private readonly mine: number;

  constructor(
    private readonly memory: SharedMemory,
    readonly id: number,
    readonly thread: number,
    private readonly observer: LockObserver | null = null,
    private readonly schedule: SchedulePolicy = kFreeRunning,
  ) {
    this.i32 = memory.i32;
    this.stateIndex = lockBase(memory.layout, id) + kLockState;
    this.mine = thread + 1;
  }

  lock(site = ''): void {
    if (this.observer !== null) return acquireTracked(this, this.observer, site);
    if (!this.fastAcquire()) this.waitAcquire();
  }

  /** lock() with lockdep annotations: a subclass (`*_lock_nested`) or a nest lock (`*_lock_nest_lock`). */
  lockAs(site: string, how: number, nest: number): void {
    if (this.observer !== null) return acquireTrackedAs(this, this.observer, site, how, nest);
    if (!this.fastAcquire()) this.waitAcquire();
  }

  /** No read side. */
  readonly read = null;

  tryLock(site = ''): boolean {
    if (this.observer !== null) return tryAcquireTracked(this, this.observer, site);
    return this.tryAcquire();
  }

  unlock(site = ''): void {
    if (this.observer !== null) return releaseTracked(this, this.observer, site);
    this.release();
  }

  fastAcquire(): boolean {
    return Atomics.compareExchange(this.i32, this.stateIndex, 0, this.mine) === 0;
  }

  tryAcquire(): boolean {
    return Atomics.compareExchange(this.i32, this.stateIndex, 0, this.mine) === 0;
  }

  release(): void {
    const seen = Atomics.compareExchange(this.i32, this.stateIndex, this.mine, 0);
    if (seen !== this.mine) {
      throw new ProtocolError(
        `unlock of spinlock ${this.id} by thread ${this.thread}, which does not hold it (owner ${seen - 1})`,
      );
    }
  }

  assertHeld(site = ''): void {
    if (this.observer !== null) return this.observer.assertHeld(this.id, site);
    if (this.ownerThread() !== this.thread) {
      throw new ProtocolError(`spinlock ${this.id} is not held by thread ${this.thread} at ${site}`);
    }
  }

  ownerThread(): number {
    return Atomics.load(this.i32, this.stateIndex) - 1;
  }

  /** Test-and-test-and-set with exponential backoff, then short sleeps on the word. */
  waitAcquire(): void {
    const { i32, stateIndex, mine } = this;
    let backoff = 1;
    let rounds = 0;
    let started = 0;
    for (;;) {
      const seen = Atomics.load(i32, stateIndex);
      if (seen === 0) {
        if (Atomics.compareExchange(i32, stateIndex, 0, mine) === 0) return;
        continue;
      }
      if (++rounds <= kSpinsBeforeYield) {
        spinPause(i32, stateIndex, backoff);
        backoff = Math.min(backoff * 2, kMaxBackoff);
        continue;
      }
      if (started === 0) started = wallClockMs();
      this.schedule.wait(this.memory, stateIndex, seen, started, `spinlock ${this.id}`, kYieldMs);
    }
  }
}
