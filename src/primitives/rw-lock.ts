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
import { type SharedMemory, LockFlag, kLockFlags, kThreadIrq, lockBase, threadBase, wallClockMs } from '../layout.js';
import { ProtocolError } from '../errors.js';
import { inInterrupt } from './irq-state.js';
import type { LockObserver } from './lock-observer.js';
import { ReaderWriterLock, RwWord } from './reader-writer-lock.js';
import { type SchedulePolicy, kFreeRunning } from './schedule-policy.js';
import { kMaxBackoff, kSpinsBeforeYield, kYieldMs } from './spin-lock.js';
import { spinPause } from './spin-pause.js';
import { Acquire } from './tracked-lock.js';

export class RwLock extends ReaderWriterLock {
  private readonly irqIndex: number;
  private readonly queued: boolean;

  constructor(memory: SharedMemory, id: number, thread: number, observer: LockObserver | null = null, schedule: SchedulePolicy = kFreeRunning) {
    const queued = ((memory.i32[lockBase(memory.layout, id) + kLockFlags] ?? 0) & LockFlag.Queued) !== 0;
    // lockdep's view of this lock's readers: recursive, or (queued) recursive in interrupts only.
    super(memory, id, thread, observer, schedule, 'rwlock', queued ? Acquire.ReadQueued : Acquire.ReadRecursive);
    this.queued = queued;
    this.irqIndex = threadBase(memory.layout, thread) + kThreadIrq;
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

  /** What holds a reader off: a writer, and for a queued rwlock outside interrupts a waiting one. */
  private readBlockers(): number {
    if (!this.queued || inInterrupt(this.i32[this.irqIndex] ?? 0)) return RwWord.Writer;
    return RwWord.Writer | RwWord.WaiterMask;
  }

  protected tryRead(): boolean {
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

  protected waitRead(): void {
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

  protected releaseRead(): void {
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
