/**
 * The lock-kind registry: every kind of lock a scenario can declare, with what the rest of the
 * tool needs to know about it, in one table. Adding a kind means adding a row here (and its
 * primitive); nothing else dispatches on the kind.
 */
import { type SharedMemory, LockFlag, LockKind, kLockFlags, kLockOwner, kLockState, lockBase } from '../layout.js';
import { FutexMutex } from './futex-mutex.js';
import { TrackedFutexMutex } from './tracked-futex-mutex.js';
import { inInterrupt } from './irq-state.js';
import type { LockObserver } from './lock-observer.js';
import { RwLock } from './rw-lock.js';
import { RwSemaphore } from './rw-semaphore.js';
import type { SchedulePolicy } from './schedule-policy.js';
import { SpinLock } from './spin-lock.js';
import { TicketSpinLock } from './ticket-spin-lock.js';
import type { LockPrimitive } from './tracked-lock.js';

/** The names scenarios use in `locks: { x: { class, kind } }`. */
export const kLockKindNames = ['mutex', 'spinlock', 'ticket-spinlock', 'rwsem', 'rwlock'] as const;
export type LockKindName = (typeof kLockKindNames)[number];

/** The read side of a reader-writer lock (down_read, read_lock). */
export interface ReadSide {
  /** `how`: its subclass bits are used; the read mode is the kind's own. */
  lock(site: string, how: number, nest: number): void;
  unlock(site: string): void;
  tryLock(site: string): boolean;
}

/** A lock as the world hands it to scenario code (plus the primitive's steps). */
export interface KindLock extends LockPrimitive {
  /** The exclusive side: mutex_lock, spin_lock, down_write, write_lock. */
  lock(site?: string): void;
  unlock(site?: string): void;
  tryLock(site?: string): boolean;
  assertHeld(site?: string): void;
  /** lock() with lockdep annotations: `how` (tracked-lock.ts `Acquire`) and a nest lock id or -1. */
  lockAs(site: string, how: number, nest: number): void;
  /** The read side, or null for a kind without one. */
  readonly read: ReadSide | null;
}

export interface LockKindSpec {
  name: LockKindName;
  /** The code in the lock record (kLockKind). */
  code: LockKind;
  /** Whether a waiter sleeps (mutex, rwsem) or spins (atomic context: no sleeping lock under it). */
  sleeps: boolean;
  /** Whether `{ queued: true }` applies (a queued rwlock). */
  queueable: boolean;
  /** One thread's view of lock `id`. */
  create(memory: SharedMemory, id: number, thread: number, observer: LockObserver | null, schedule?: SchedulePolicy): KindLock;
  /** The owning thread of lock `id` (its writer, for a reader-writer lock), or -1, read from its words. */
  ownerOf(memory: SharedMemory, id: number): number;
  /**
   * Whether a reader that waits for lock `id`, in irq state `waiterIrq`, waits behind the writers
   * waiting for it (rwsem; a queued rwlock outside interrupts), which makes those writers part of
   * what it waits for.
   */
  readersQueue(memory: SharedMemory, id: number, waiterIrq: number): boolean;
}

const ownerWord = (memory: SharedMemory, id: number): number => Atomics.load(memory.i32, lockBase(memory.layout, id) + kLockOwner) - 1;
const never = (): boolean => false;

export const kLockKinds: readonly LockKindSpec[] = [
  {
    name: 'mutex',
    code: LockKind.Mutex,
    sleeps: true,
    queueable: false,
    // Tracked: the subclass whose lock/unlock skip the null check (tracked-futex-mutex.ts).
    create: (memory, id, thread, observer, schedule) =>
      observer === null ? new FutexMutex(memory, id, thread, null, schedule) : new TrackedFutexMutex(memory, id, thread, observer, schedule),
    // The state word is (owner << 1) | waitersBit (futex-mutex.ts).
    ownerOf: (memory, id) => (Atomics.load(memory.i32, lockBase(memory.layout, id) + kLockState) >> 1) - 1,
    readersQueue: never,
  },
  {
    name: 'spinlock',
    code: LockKind.SpinLock,
    sleeps: false,
    queueable: false,
    create: (memory, id, thread, observer, schedule) => new SpinLock(memory, id, thread, observer, schedule),
    // The state word is the owner + 1 (spin-lock.ts).
    ownerOf: (memory, id) => Atomics.load(memory.i32, lockBase(memory.layout, id) + kLockState) - 1,
    readersQueue: never,
  },
  {
    name: 'ticket-spinlock',
    code: LockKind.TicketSpinLock,
    sleeps: false,
    queueable: false,
    create: (memory, id, thread, observer, schedule) => new TicketSpinLock(memory, id, thread, observer, schedule),
    // The state word is the ticket served; the owner has a word of its own (ticket-spin-lock.ts).
    ownerOf: ownerWord,
    readersQueue: never,
  },
  {
    name: 'rwsem',
    code: LockKind.RwSemaphore,
    sleeps: true,
    queueable: false,
    create: (memory, id, thread, observer, schedule) => new RwSemaphore(memory, id, thread, observer, schedule),
    // The writer has an owner word; readers are in the threads' held stacks (rw-semaphore.ts).
    ownerOf: ownerWord,
    readersQueue: () => true,
  },
  {
    name: 'rwlock',
    code: LockKind.RwLock,
    sleeps: false,
    queueable: true,
    create: (memory, id, thread, observer, schedule) => new RwLock(memory, id, thread, observer, schedule),
    ownerOf: ownerWord,
    readersQueue: (memory, id, waiterIrq) =>
      ((memory.i32[lockBase(memory.layout, id) + kLockFlags] ?? 0) & LockFlag.Queued) !== 0 && !inInterrupt(waiterIrq),
  },
];

export function lockKindByName(name: string): LockKindSpec | undefined {
  return kLockKinds.find((k) => k.name === name);
}

export function lockKindByCode(code: number): LockKindSpec | undefined {
  return kLockKinds.find((k) => k.code === code);
}
