/**
 * The lock-kind registry: every kind of lock a scenario can declare, with what the rest of the
 * tool needs to know about it, in one table. Adding a kind means adding a row here (and its
 * primitive); nothing else dispatches on the kind.
 */
import { type SharedMemory, LockKind, kLockOwner, kLockState, lockBase } from '../layout.js';
import { FutexMutex } from './futex-mutex.js';
import type { LockObserver } from './lock-observer.js';
import type { SchedulePolicy } from './schedule-policy.js';
import { SpinLock } from './spin-lock.js';
import { TicketSpinLock } from './ticket-spin-lock.js';
import type { LockPrimitive } from './tracked-lock.js';

/** The names scenarios use in `locks: { x: { class, kind } }`. */
export const kLockKindNames = ['mutex', 'spinlock', 'ticket-spinlock'] as const;
export type LockKindName = (typeof kLockKindNames)[number];

/** A lock as the world hands it to scenario code (plus the primitive's steps). */
export interface KindLock extends LockPrimitive {
  lock(site?: string): void;
  unlock(site?: string): void;
  tryLock(site?: string): boolean;
  assertHeld(site?: string): void;
}

export interface LockKindSpec {
  name: LockKindName;
  /** The code in the lock record (kLockKind). */
  code: LockKind;
  /** Whether a waiter sleeps (a mutex) or spins (atomic context: no sleeping lock under it). */
  sleeps: boolean;
  /** One thread's view of lock `id`. */
  create(memory: SharedMemory, id: number, thread: number, observer: LockObserver | null, schedule?: SchedulePolicy): KindLock;
  /** The owning thread of lock `id`, or -1, read from its words (any thread may ask). */
  ownerOf(memory: SharedMemory, id: number): number;
}

export const kLockKinds: readonly LockKindSpec[] = [
  {
    name: 'mutex',
    code: LockKind.Mutex,
    sleeps: true,
    create: (memory, id, thread, observer, schedule) => new FutexMutex(memory, id, thread, observer, schedule),
    // The state word is (owner << 1) | waitersBit (futex-mutex.ts).
    ownerOf: (memory, id) => (Atomics.load(memory.i32, lockBase(memory.layout, id) + kLockState) >> 1) - 1,
  },
  {
    name: 'spinlock',
    code: LockKind.SpinLock,
    sleeps: false,
    create: (memory, id, thread, observer, schedule) => new SpinLock(memory, id, thread, observer, schedule),
    // The state word is the owner + 1 (spin-lock.ts).
    ownerOf: (memory, id) => Atomics.load(memory.i32, lockBase(memory.layout, id) + kLockState) - 1,
  },
  {
    name: 'ticket-spinlock',
    code: LockKind.TicketSpinLock,
    sleeps: false,
    create: (memory, id, thread, observer, schedule) => new TicketSpinLock(memory, id, thread, observer, schedule),
    // The state word is the ticket served; the owner has a word of its own (ticket-spin-lock.ts).
    ownerOf: (memory, id) => Atomics.load(memory.i32, lockBase(memory.layout, id) + kLockOwner) - 1,
  },
];

export function lockKindByName(name: string): LockKindSpec | undefined {
  return kLockKinds.find((k) => k.name === name);
}

export function lockKindByCode(code: number): LockKindSpec | undefined {
  return kLockKinds.find((k) => k.code === code);
}
