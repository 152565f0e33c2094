/**
 * What rw-semaphore.ts and rw-lock.ts share: the tracked-or-not dispatch of both sides. A
 * reader-writer lock is two {@link LockPrimitive}s over one word: the write side (the lock itself)
 * and `readSide`, whose steps are the subclass's read algorithm; tracked-lock.ts runs either. The
 * subclass gives the algorithms (fast/wait/try/release of each side) and lockdep's view of its
 * readers (`readHow`: a non-recursive `down_read`, a recursive `read_lock`).
 */
import { type SharedMemory, kLockOwner, kLockState, lockBase } from '../layout.js';
import { ProtocolError } from '../errors.js';
import type { LockObserver } from './lock-observer.js';
import type { SchedulePolicy } from './schedule-policy.js';
import { Acquire, type LockPrimitive, acquireTracked, acquireTrackedAs, releaseTracked, releaseTrackedAs, tryAcquireTracked } from './tracked-lock.js';

/** The fields of kLockState, shared by RwSemaphore and RwLock (see rw-semaphore.ts). */
export const RwWord = {
  Writer: 1,
  WaiterUnit: 2,
  WaiterMask: 0xfe,
  ReaderUnit: 256,
} as const;

export interface ReadSideApi {
  lock(site: string, how: number, nest: number): void;
  unlock(site: string): void;
  tryLock(site: string): boolean;
}

export abstract class ReaderWriterLock implements LockPrimitive {
  protected readonly i32: Int32Array;
  protected readonly stateIndex: number;
  protected readonly ownerIndex: number;
  /** The read side, with the same steps (tracked-lock.ts runs either). */
  readonly readSide: LockPrimitive;
  readonly read: ReadSideApi;

  /**
   * @param kindName how misuse messages name the lock (`rwsem`, `rwlock`)
   * @param readHow lockdep's reader mode (Acquire.Read or Acquire.ReadRecursive/ReadQueued); the
   *   caller's subclass bits are kept, the mode is always this one
   */
  constructor(
    protected readonly memory: SharedMemory,
    readonly id: number,
    readonly thread: number,
    protected readonly observer: LockObserver | null,
    protected readonly schedule: SchedulePolicy,
    private readonly kindName: string,
    readHow: number,
  ) {
    this.i32 = memory.i32;
    const base = lockBase(memory.layout, id);
    this.stateIndex = base + kLockState;
    this.ownerIndex = base + kLockOwner;
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
      lock: (site, how, nest) => {
        if (self.observer !== null) return acquireTrackedAs(self.readSide, self.observer, site, (how & ~Acquire.ModeMask) | readHow, nest);
        if (!self.tryRead()) self.waitRead();
      },
      unlock: (site) => {
        if (self.observer !== null) return releaseTrackedAs(self.readSide, self.observer, site, readHow);
        self.releaseRead();
      },
      tryLock: (site) => {
        if (self.observer !== null) return tryAcquireTracked(self.readSide, self.observer, site, readHow);
        return self.tryRead();
      },
    };
  }

  /** down_write / write_lock. */
  lock(site = ''): void {
    if (this.observer !== null) return acquireTracked(this, this.observer, site);
    if (!this.fastAcquire()) this.waitAcquire();
  }

  /** The *_nested / *_nest_lock forms of lock(). */
  lockAs(site: string, how: number, nest: number): void {
    if (this.observer !== null) return acquireTrackedAs(this, this.observer, site, how, nest);
    if (!this.fastAcquire()) this.waitAcquire();
  }

  /** down_write_trylock / write_trylock. */
  tryLock(site = ''): boolean {
    if (this.observer !== null) return tryAcquireTracked(this, this.observer, site);
    return this.tryAcquire();
  }

  /** up_write / write_unlock. */
  unlock(site = ''): void {
    if (this.observer !== null) return releaseTracked(this, this.observer, site);
    this.release();
  }

  /** lockdep_assert_held, either side: a finding with tracking on, an exception without. */
  assertHeld(site = ''): void {
    if (this.observer !== null) return this.observer.assertHeld(this.id, site);
    // Without tracking, which thread reads is unknown: any reader counts.
    if (this.ownerThread() !== this.thread && Atomics.load(this.i32, this.stateIndex) < RwWord.ReaderUnit) {
      throw new ProtocolError(`${this.kindName} ${this.id} is not held by thread ${this.thread} at ${site}`);
    }
  }

  /** Index of the writing thread, or -1. */
  ownerThread(): number {
    return Atomics.load(this.i32, this.ownerIndex) - 1;
  }

  abstract fastAcquire(): boolean;
  abstract tryAcquire(): boolean;
  abstract waitAcquire(): void;
  abstract release(): void;
  protected abstract tryRead(): boolean;
  protected abstract waitRead(): void;
  protected abstract releaseRead(): void;
}
