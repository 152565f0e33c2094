/**
 * RwLock: a spinning reader-writer lock (`rwlock_t`) over one shared word, for any thread.
 *
 * Algorithm: the reader count and writer bit of the classic arch rwlock (Linux's
 * `arch_read_lock`/`arch_write_lock` before qrwlocks), on the word layout of rw-semaphore.ts
 * ({@link RwWord}), with test-and-test-and-set spinning and short timed yields as in spin-lock.ts.
 * Two flavours, chosen at declaration (kLockFlags):
 * - plain (default): a reader enters whenever no writer holds it, even while writers wait. Readers
 *   may recurse, and lockdep treats read_lock as a recursive reader (lockdep's `read == 2`).
 * - queued (`LockFlag.Queued`, CONFIG_QUEUED_RWLOCKS): outside interrupt context a reader also
 *   waits behind a waiting writer (fair), so a recursive read_lock can deadlock and lockdep treats
 *   it as a non-recursive reader; in interrupt context (in_interrupt()) it enters like a plain one
 *   (queued_read_lock_slowpath) and counts as recursive.
 *
 * | kLockState field  | bits   | meaning                                            |
 * |-------------------|--------|----------------------------------------------------|
 * | Writer            | 0      | held by a writer (kLockOwner names it)             |
 * | waiting writers   | 1..7   | writers spinning in write_lock                     |
 * | readers           | 8..30  | readers holding it                                 |
 *
 * - write_lock: CAS 0 -> Writer; else register as waiting, spin until no reader and no writer,
 *   CAS (register - 1) | Writer; unregister if torn down.
 * - write_unlock: clear the owner, clear Writer.
 * - read_lock: CAS + reader while no writer holds it (and, queued outside interrupts, none waits).
 * - read_unlock: CAS - reader.
 * - read_trylock / write_trylock: one attempt.
 *
 * Why no wake-up is lost: nobody sleeps untimed. A waiter that yields sleeps at most kYieldMs and
 * re-reads the word, so unlock needs no notify (as spin-lock.ts).
 *
 * Preconditions: write_unlock by the writer (checked: the owner word); read_unlock with a reader
 * holding it (checked: the count; which thread reads is the tracker's to check). An rwlock is an
 * atomic context: the tracker reports a sleeping lock under it.
 *
 * Kernel analogue: `rwlock_t` (`kvm->mmu_lock` on x86, `tasklist_lock`).
 */
import { type SharedMemory, LockFlag, kLockFlags, kLockOwner, kLockState, kThreadIrq, lockBase, threadBase, wallClockMs } from '../layout.js';
import { ProtocolError } from '../errors.js';
import { inInterrupt } from './irq-state.js';
import type { LockObserver } from './lock-observer.js';
import { RwWord } from './rw-semaphore.js';
import { type SchedulePolicy, kFreeRunning } from './schedule-policy.js';
import { kMaxBackoff, kSpinsBeforeYield, kYieldMs } from './spin-lock.js';
import { spinPause } from './spin-pause.js';
import { Acquire, type LockPrimitive, acquireTracked, acquireTrackedAs, releaseTracked, releaseTrackedAs, tryAcquireTracked } from './tracked-lock.js';

export class RwLock implements LockPrimitive {
  private readonly i32: Int32Array;
  private readonly stateIndex: number;
  private readonly ownerIndex: number;
  private readonly irqIndex: number;
  private readonly queued: boolean;
  /** lockdep's view of this lock's readers: recursive, or (queued) recursive in interrupts only. */
  private readonly readHow: number;
  readonly readSide: LockPrimitive;
  readonly read: { lock(site: string, how: number, nest: number): void; unlock(site: string): void; tryLock(site: string): boolean };

  constructor(
    private readonly memory: SharedMemory,
    readonly id: number,
    readonly thread: number,
    private readonly observer: LockObserver | null = null,
    private readonly schedule: SchedulePolicy = kFreeRunning,
  ) {
    this.i32 = memory.i32;
    const base = lockBase(memory.layout, id);
    this.stateIndex = base + kLockState;
    this.ownerIndex = base + kLockOwner;
    this.irqIndex = threadBase(memory.layout, thread) + kThreadIrq;
    this.queued = ((this.i32[base + kLockFlags] ?? 0) & LockFlag.Queued) !== 0;
    this.readHow = this.queued ? Acquire.ReadQueued : Acquire.ReadRecursive;
    const self = this;
    this.readSide = {
      id,
      fastAcquire: () => self.tryRead(),
      waitAcquire: () => self.waitRead(),
      tryAcquire: () => self.tryRead(),
      release: () => self.releaseRead(),
      ownerThread: () => self.ownerThread(),
    };
    this.read = {
      // The caller's subclass bits are kept; the read mode is the lock's own.
      lock: (site, how, nest) => {
        if (self.observer !== null) return acquireTrackedAs(self.readSide, self.observer, site, (how & ~Acquire.ModeMask) | self.readHow, nest);
        if (!self.tryRead()) self.waitRead();
      },
      unlock: (site) => {
        if (self.observer !== null) return releaseTrackedAs(self.readSide, self.observer, site, self.readHow);
        self.releaseRead();
      },
      tryLock: (site) => {
        if (self.observer !== null) return tryAcquireTracked(self.readSide, self.observer, site, self.readHow);
        return self.tryRead();
      },
    };
  }

  /** write_lock. */
  lock(site = ''): void {
    if (this.observer !== null) return acquireTracked(this, this.observer, site);
    if (!this.fastAcquire()) this.waitAcquire();
  }

  lockAs(site: string, how: number, nest: number): void {
    if (this.observer !== null) return acquireTrackedAs(this, this.observer, site, how, nest);
    if (!this.fastAcquire()) this.waitAcquire();
  }

  /** write_trylock. */
  tryLock(site = ''): boolean {
    if (this.observer !== null) return tryAcquireTracked(this, this.observer, site);
    return this.tryAcquire();
  }

  /** write_unlock. */
  unlock(site = ''): void {
    if (this.observer !== null) return releaseTracked(this, this.observer, site);
    this.release();
  }

  assertHeld(site = ''): void {
    if (this.observer !== null) return this.observer.assertHeld(this.id, site);
    if (this.ownerThread() !== this.thread && Atomics.load(this.i32, this.stateIndex) < RwWord.ReaderUnit) {
      throw new ProtocolError(`rwlock ${this.id} is not held by thread ${this.thread} at ${site}`);
    }
  }

  fastAcquire(): boolean {
    if (Atomics.compareExchange(this.i32, this.stateIndex, 0, RwWord.Writer) !== 0) return false;
    Atomics.store(this.i32, this.ownerIndex, this.thread + 1);
    return true;
  }

  tryAcquire(): boolean {
    return this.fastAcquire();
  }

  waitAcquire(): void {
    const { i32, stateIndex } = this;
    Atomics.add(i32, stateIndex, RwWord.WaiterUnit);
    let registered = true;
    try {
      let backoff = 1;
      let rounds = 0;
      let started = 0;
      for (;;) {
        const seen = Atomics.load(i32, stateIndex);
        if ((seen & RwWord.Writer) === 0 && seen < RwWord.ReaderUnit) {
          if (Atomics.compareExchange(i32, stateIndex, seen, (seen - RwWord.WaiterUnit) | RwWord.Writer) === seen) {
            registered = false;
            Atomics.store(i32, this.ownerIndex, this.thread + 1);
            return;
          }
          continue;
        }
        if (++rounds <= kSpinsBeforeYield) {
          spinPause(i32, stateIndex, backoff);
          backoff = Math.min(backoff * 2, kMaxBackoff);
          continue;
        }
        if (started === 0) started = wallClockMs();
        this.schedule.wait(this.memory, stateIndex, seen, started, `write_lock rwlock ${this.id}`, kYieldMs);
      }
    } finally {
      if (registered) Atomics.sub(i32, stateIndex, RwWord.WaiterUnit);
    }
  }

  /** write_unlock. */
  release(): void {
    const owner = Atomics.load(this.i32, this.ownerIndex);
    if (owner !== this.thread + 1) {
      throw new ProtocolError(`write_unlock of rwlock ${this.id} by thread ${this.thread}, which does not hold it for write (writer ${owner - 1})`);
    }
    Atomics.store(this.i32, this.ownerIndex, 0);
    Atomics.and(this.i32, this.stateIndex, ~RwWord.Writer);
  }

  ownerThread(): number {
    return Atomics.load(this.i32, this.ownerIndex) - 1;
  }

  /** What holds a reader off: a writer, and for a queued rwlock outside interrupts a waiting one. */
  private readBlockers(): number {
    if (!this.queued || inInterrupt(this.i32[this.irqIndex] ?? 0)) return RwWord.Writer;
    return RwWord.Writer | RwWord.WaiterMask;
  }

  private tryRead(): boolean {
    const { i32, stateIndex } = this;
    const blockers = this.readBlockers();
    let seen = Atomics.load(i32, stateIndex);
    while ((seen & blockers) === 0) {
      const before = Atomics.compareExchange(i32, stateIndex, seen, seen + RwWord.ReaderUnit);
      if (before === seen) return true;
      seen = before;
    }
    return false;
  }

  private waitRead(): void {
    const { i32, stateIndex } = this;
    const blockers = this.readBlockers();
    let backoff = 1;
    let rounds = 0;
    let started = 0;
    for (;;) {
      const seen = Atomics.load(i32, stateIndex);
      if ((seen & blockers) === 0) {
        if (Atomics.compareExchange(i32, stateIndex, seen, seen + RwWord.ReaderUnit) === seen) return;
        continue;
      }
      if (++rounds <= kSpinsBeforeYield) {
        spinPause(i32, stateIndex, backoff);
        backoff = Math.min(backoff * 2, kMaxBackoff);
        continue;
      }
      if (started === 0) started = wallClockMs();
      this.schedule.wait(this.memory, stateIndex, seen, started, `read_lock rwlock ${this.id}`, kYieldMs);
    }
  }

  private releaseRead(): void {
    const { i32, stateIndex } = this;
    let seen = Atomics.load(i32, stateIndex);
    for (;;) {
      if (seen < RwWord.ReaderUnit) throw new ProtocolError(`read_unlock of rwlock ${this.id} by thread ${this.thread}, but no reader holds it`);
      const before = Atomics.compareExchange(i32, stateIndex, seen, seen - RwWord.ReaderUnit);
      if (before === seen) return;
      seen = before;
    }
  }
}
