/**
 * RwSemaphore: a sleeping reader-writer lock over one shared word, for any thread.
 *
 * Algorithm: a counter word in the style of Linux's `struct rw_semaphore` (kernel/locking/rwsem.c:
 * reader count, writer bit and a waiters flag in one `atomic_long_t count`), with writer
 * preference: a reader does not join while a writer waits (the kernel's RWSEM_FLAG_WAITERS makes
 * down_read take the slow path and queue), so writers are not starved and a reader that recurses
 * while a writer waits deadlocks, which is why lockdep forbids recursive down_read. Waiters sleep
 * on the word itself (Drepper's futex pattern, as in futex-mutex.ts), counted in kLockSleepers so
 * that an unlock with nobody asleep pays no notify.
 *
 * | kLockState field  | bits   | meaning                                            |
 * |-------------------|--------|----------------------------------------------------|
 * | Writer            | 0      | held by a writer (kLockOwner names it)             |
 * | waiting writers   | 1..7   | writers registered in down_write's slow path       |
 * | readers           | 8..30  | readers holding it                                 |
 *
 * | kLockOwner | the writing thread + 1, 0 with no writer (set after the CAS, cleared before) |
 * | kLockSleepers | threads inside a sleep on kLockState |
 *
 * - down_write: CAS 0 -> Writer. Else register (waiting writers + 1), then loop: when no writer
 *   and no reader hold it, CAS (register - 1) | Writer; otherwise sleep on the value seen. A wait
 *   torn down (RoundAborted) unregisters on the way out, so the word stays consistent.
 * - up_write: clear the owner, clear Writer, wake all sleepers if any (readers and writers race).
 * - down_read: CAS + reader while no writer holds it and none waits; otherwise sleep on the value.
 * - up_read: CAS - reader; wake all sleepers if any (a waiting writer may now go).
 * - down_read_trylock / down_write_trylock: the fast CAS once; they fail while a writer waits, as
 *   the kernel's do (RWSEM_READ_FAILED_MASK includes the waiters flag).
 *
 * Preconditions: up_write by the owner (checked: the owner word), up_read with a reader holding it
 * (checked: the count; which thread is a reader is only known to the tracker, which reports an
 * up_read by a thread that holds no read side). Recursive down_read is allowed by the primitive
 * (it deadlocks only behind a waiting writer) and reported by the tracker, as lockdep does.
 *
 * No lost wake-up: a sleeper adds itself to kLockSleepers, then re-reads the word, and sleeps only
 * on exactly the value it read. Every unlock changes the word first, then reads kLockSleepers
 * (both seq-cst): either the sleeper's re-read sees the new value and it does not sleep, or the
 * unlocker sees the sleeper and notifies, and `Atomics.wait` on a changed word returns at once.
 * Each sleep is a bounded slice anyway (bounded-wait.ts).
 *
 * Kernel analogue: `struct rw_semaphore` (down_read, up_read, down_write, up_write,
 * down_read_trylock, down_write_trylock; `kvm->arch.crypto.pqap_hook_rwsem`).
 */
import { type SharedMemory, kLockSleepers, lockBase, wallClockMs } from '../layout.js';
import { ProtocolError } from '../errors.js';
import type { LockObserver } from './lock-observer.js';
import { ReaderWriterLock, RwWord } from './reader-writer-lock.js';
import { type SchedulePolicy, kFreeRunning } from './schedule-policy.js';
import { Acquire } from './tracked-lock.js';

export { RwWord } from './reader-writer-lock.js';

/** Loads before a waiter registers and sleeps: a short critical section usually ends within this. */
const kSpinsBeforeSleep = 32;

export class RwSemaphore extends ReaderWriterLock {
  private readonly sleepersIndex: number;

  constructor(memory: SharedMemory, id: number, thread: number, observer: LockObserver | null = null, schedule: SchedulePolicy = kFreeRunning) {
    // down_read is a non-recursive reader whatever the caller asks.
    super(memory, id, thread, observer, schedule, 'rwsem', Acquire.Read);
    this.sleepersIndex = lockBase(memory.layout, id) + kLockSleepers;
  }

  fastAcquire(): boolean {
    if (Atomics.compareExchange(this.i32, this.stateIndex, 0, RwWord.Writer) !== 0) return false;
    Atomics.store(this.i32, this.ownerIndex, this.thread + 1);
    return true;
  }

  tryAcquire(): boolean {
    return this.fastAcquire();
  }

  /** The writer's slow path: register as a waiting writer, then take it once it is free. */
  waitAcquire(): void {
    const { i32, stateIndex } = this;
    for (let spin = 0; spin < kSpinsBeforeSleep; spin++) {
      if (Atomics.load(i32, stateIndex) === 0 && this.fastAcquire()) return;
    }
    Atomics.add(i32, stateIndex, RwWord.WaiterUnit);
    let registered = true;
    try {
      const started = wallClockMs();
      let seen = Atomics.load(i32, stateIndex);
      for (;;) {
        if ((seen & RwWord.Writer) === 0 && seen < RwWord.ReaderUnit) {
          const before = Atomics.compareExchange(i32, stateIndex, seen, (seen - RwWord.WaiterUnit) | RwWord.Writer);
          if (before === seen) {
            registered = false;
            Atomics.store(i32, this.ownerIndex, this.thread + 1);
            return;
          }
          seen = before;
          continue;
        }
        seen = this.sleep(seen, started, 'down_write');
      }
    } finally {
      // Torn down while waiting: give the registration back, so readers are not held off.
      if (registered) {
        Atomics.sub(i32, stateIndex, RwWord.WaiterUnit);
        this.wake();
      }
    }
  }

  /** up_write. */
  release(): void {
    const { i32, stateIndex } = this;
    const owner = Atomics.load(i32, this.ownerIndex);
    if (owner !== this.thread + 1) {
      throw new ProtocolError(`up_write of rwsem ${this.id} by thread ${this.thread}, which does not hold it for write (writer ${owner - 1})`);
    }
    Atomics.store(i32, this.ownerIndex, 0);
    Atomics.and(i32, stateIndex, ~RwWord.Writer);
    this.wake();
  }

  /** The writer, or -1 (readers are known from the threads' held stacks). */
  /** down_read's fast attempt and down_read_trylock: no writer holds it and none waits. */
  protected tryRead(): boolean {
    const { i32, stateIndex } = this;
    let seen = Atomics.load(i32, stateIndex);
    while ((seen & (RwWord.Writer | RwWord.WaiterMask)) === 0) {
      const before = Atomics.compareExchange(i32, stateIndex, seen, seen + RwWord.ReaderUnit);
      if (before === seen) return true;
      seen = before;
    }
    return false;
  }

  protected waitRead(): void {
    const { i32, stateIndex } = this;
    const started = wallClockMs();
    let seen = Atomics.load(i32, stateIndex);
    for (;;) {
      if ((seen & (RwWord.Writer | RwWord.WaiterMask)) === 0) {
        const before = Atomics.compareExchange(i32, stateIndex, seen, seen + RwWord.ReaderUnit);
        if (before === seen) return;
        seen = before;
        continue;
      }
      seen = this.sleep(seen, started, 'down_read');
    }
  }

  /** up_read. */
  protected releaseRead(): void {
    const { i32, stateIndex } = this;
    let seen = Atomics.load(i32, stateIndex);
    for (;;) {
      if (seen < RwWord.ReaderUnit) throw new ProtocolError(`up_read of rwsem ${this.id} by thread ${this.thread}, but no reader holds it`);
      const before = Atomics.compareExchange(i32, stateIndex, seen, seen - RwWord.ReaderUnit);
      if (before === seen) break;
      seen = before;
    }
    this.wake();
  }

  /** One counted sleep on `seen`; returns the word as it is afterwards. */
  private sleep(seen: number, started: number, what: string): number {
    const { i32, stateIndex, sleepersIndex } = this;
    Atomics.add(i32, sleepersIndex, 1);
    try {
      if (Atomics.load(i32, stateIndex) === seen) this.schedule.wait(this.memory, stateIndex, seen, started, `${what} rwsem ${this.id}`);
    } finally {
      Atomics.sub(i32, sleepersIndex, 1);
    }
    return Atomics.load(i32, stateIndex);
  }

  private wake(): void {
    if (Atomics.load(this.i32, this.sleepersIndex) > 0) Atomics.notify(this.i32, this.stateIndex);
  }
}
