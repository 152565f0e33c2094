/**
 * TicketSpinLock: a FIFO spinlock, for the fairness comparison with {@link SpinLock}.
 *
 * Algorithm: Mellor-Crummey & Scott's ticket lock (1991), as in Linux's pre-qspinlock x86
 * `arch_spinlock_t`. Two counters and an owner word:
 *
 * | word            | meaning                                                |
 * |-----------------|--------------------------------------------------------|
 * | kLockNextTicket | the next ticket to hand out (wraps; only equality used) |
 * | kLockState      | the ticket now being served                            |
 * | kLockOwner      | owner thread + 1, or 0 (for the unlock check and the watchdog) |
 * | kLockSleepers   | waiters now in a timed sleep on kLockState              |
 *
 * - lock: take a ticket with Atomics.add on next; wait until served == ticket, backing off in
 *   proportion to the number of threads ahead; after {@link kSpinsBeforeYield} rounds, yield with
 *   a timed wait on the served word.
 * - unlock: check the owner, clear it, then Atomics.add(served, 1) hands the lock to the next ticket,
 *   and wakes the sleepers if there are any. Without that wake-up the next ticket, asleep, would
 *   only notice at the end of its sleep, and with 4 threads on 2 cores every handoff would cost a
 *   whole sleep (measured: 66 µs per acquisition instead of well under 1 µs).
 *
 * Why no wake-up is lost: a sleeper counts itself in kLockSleepers before it sleeps on the value of
 * `served` it read; an unlock changes `served` before it reads the count. Either the sleeper's wait
 * sees the new value and returns, or the unlocker sees the count and notifies. Sleeps are timed
 * ({@link kYieldMs}) anyway.
 * Precondition, checked: unlock only by the owner. An aborted round may leave an unserved ticket
 * behind; the runner resets the lock table between rounds.
 */
import { type SharedMemory, kLockNextTicket, kLockOwner, kLockSleepers, kLockState, lockBase, wallClockMs } from '../layout.js';
import { ProtocolError } from '../errors.js';
import type { LockObserver } from './lock-observer.js';
import { type SchedulePolicy, kFreeRunning } from './schedule-policy.js';
import { type LockPrimitive, acquireTrackedAs, acquireTrackedCheckingFirst, releaseTracked, tryAcquireTracked } from './tracked-lock.js';
import { spinPause } from './spin-pause.js';
import { kMaxBackoff, kSpinsBeforeYield, kYieldMs } from './spin-lock.js';

export class TicketSpinLock implements LockPrimitive {
  private readonly i32: Int32Array;
  private readonly servedIndex: number;
  private readonly nextIndex: number;
  private readonly ownerIndex: number;
  private readonly sleepersIndex: number;
  /** The ticket a failed fastAcquire took, for waitAcquire. */
  private ticket = 0;

  constructor(
    private readonly memory: SharedMemory,
    readonly id: number,
    readonly thread: number,
    private readonly observer: LockObserver | null = null,
    private readonly schedule: SchedulePolicy = kFreeRunning,
  ) {
    this.i32 = memory.i32;
    const base = lockBase(memory.layout, id);
    this.servedIndex = base + kLockState;
    this.nextIndex = base + kLockNextTicket;
    this.ownerIndex = base + kLockOwner;
    this.sleepersIndex = base + kLockSleepers;
  }

  lock(site = ''): void {
    // Checks first: a failed attempt takes a ticket, which a LimitError could not give back.
    if (this.observer !== null) return acquireTrackedCheckingFirst(this, this.observer, site);
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

  /** Takes a ticket; true if it is being served already. Otherwise waitAcquire waits for it. */
  fastAcquire(): boolean {
    const ticket = Atomics.add(this.i32, this.nextIndex, 1);
    if (Atomics.load(this.i32, this.servedIndex) === ticket) {
      Atomics.store(this.i32, this.ownerIndex, this.thread + 1);
      return true;
    }
    this.ticket = ticket;
    return false;
  }

  waitAcquire(): void {
    this.waitForTurn(this.ticket);
    Atomics.store(this.i32, this.ownerIndex, this.thread + 1);
  }

  tryAcquire(): boolean {
    const served = Atomics.load(this.i32, this.servedIndex);
    // Take a ticket only if it would be served at once.
    if (Atomics.compareExchange(this.i32, this.nextIndex, served, (served + 1) | 0) !== served) return false;
    Atomics.store(this.i32, this.ownerIndex, this.thread + 1);
    return true;
  }

  release(): void {
    const owner = this.ownerThread();
    if (owner !== this.thread) {
      throw new ProtocolError(
        `unlock of ticket spinlock ${this.id} by thread ${this.thread}, which does not hold it (owner ${owner})`,
      );
    }
    Atomics.store(this.i32, this.ownerIndex, 0);
    Atomics.add(this.i32, this.servedIndex, 1);
    if (Atomics.load(this.i32, this.sleepersIndex) !== 0) Atomics.notify(this.i32, this.servedIndex);
  }

  assertHeld(site = ''): void {
    if (this.observer !== null) return this.observer.assertHeld(this.id, site);
    if (this.ownerThread() !== this.thread) {
      throw new ProtocolError(`ticket spinlock ${this.id} is not held by thread ${this.thread} at ${site}`);
    }
  }

  ownerThread(): number {
    return Atomics.load(this.i32, this.ownerIndex) - 1;
  }

  private waitForTurn(ticket: number): void {
    const { i32, servedIndex } = this;
    let rounds = 0;
    let started = 0;
    for (;;) {
      const served = Atomics.load(i32, servedIndex);
      if (served === ticket) return;
      if (++rounds <= kSpinsBeforeYield) {
        // Proportional backoff: the further back in the queue, the longer the pause.
        spinPause(i32, servedIndex, Math.min(kMaxBackoff, 8 * ((ticket - served) | 0)));
        continue;
      }
      if (started === 0) started = wallClockMs();
      Atomics.add(i32, this.sleepersIndex, 1);
      try {
        this.schedule.wait(this.memory, servedIndex, served, started, `ticket spinlock ${this.id}`, kYieldMs);
      } finally {
        Atomics.sub(i32, this.sleepersIndex, 1);
      }
    }
  }
}
