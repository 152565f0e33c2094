/**
 * The table of lock classes and lock instances. The main thread defines them once per world
 * (before any worker runs); afterwards the records are read-only except for each lock's state
 * words and each class's lock_stat counters.
 *
 * A class is what lockdep reasons about (`group_lock`); an instance is one lock of that class
 * (`group_lock#0`). Mutex classes sleep; spinlock classes do not.
 */
import {
  type SharedMemory,
  LockKind,
  classBase,
  kClassMaxHoldUs,
  kClassMaxWaitUs,
  kClassName,
  kClassSleeps,
  kHeaderClassCount,
  kLockClass,
  kLockKind,
  kLockName,
  kLockNextTicket,
  kLockOwner,
  kLockSleepers,
  kLockState,
  kMaxLockClassesLimit,
  kStatAcquisitions,
  kStatContentions,
  kStatWords,
  lockBase,
  threadStatBase,
} from '../layout.js';
import { lockKindByCode } from './lock-kinds.js';
import { LimitError } from '../errors.js';
import type { StringTable } from './string-table.js';

export interface LockClassStats {
  name: string;
  acquisitions: number;
  contentions: number;
  maxWaitUs: number;
  maxHoldUs: number;
}

export class LockTable {
  private lockCount = 0;

  constructor(
    private readonly memory: SharedMemory,
    private readonly strings: StringTable,
  ) {}

  /**
   * The class id for `name`, defining it if new. One class more than `capacities.classes` is a
   * LimitError naming the capacity and lockstress's hard limit.
   */
  defineClass(name: string, sleeps: boolean): number {
    const { i32, layout } = this.memory;
    const nameId = this.strings.intern(name);
    const count = Atomics.load(i32, layout.header + kHeaderClassCount);
    for (let c = 0; c < count; c++) {
      if (Atomics.load(i32, classBase(layout, c) + kClassName) === nameId) return c;
    }
    if (count >= layout.capacities.classes) {
      throw new LimitError(
        `more than ${layout.capacities.classes} lock classes (lockstress's limit is ${kMaxLockClassesLimit}); cannot define ${name}`,
      );
    }
    Atomics.store(i32, classBase(layout, count) + kClassName, nameId);
    Atomics.store(i32, classBase(layout, count) + kClassSleeps, sleeps ? 1 : 0);
    Atomics.store(i32, layout.header + kHeaderClassCount, count + 1);
    return count;
  }

  /** Defines the next lock instance and returns its id. */
  defineLock(kind: LockKind, className: string, instanceName: string): number {
    const { i32, layout } = this.memory;
    if (this.lockCount >= layout.capacities.locks) {
      throw new RangeError(`more than ${layout.capacities.locks} locks`);
    }
    const id = this.lockCount++;
    const base = lockBase(layout, id);
    Atomics.store(i32, base + kLockClass, this.defineClass(className, lockKindByCode(kind)?.sleeps ?? true));
    Atomics.store(i32, base + kLockKind, kind);
    Atomics.store(i32, base + kLockName, this.strings.intern(instanceName));
    return id;
  }

  get count(): number {
    return this.lockCount;
  }

  /** Unlocks every lock (between rounds, after an abort, with no thread running). */
  resetStates(lockCount: number): void {
    const { i32, layout } = this.memory;
    for (let id = 0; id < lockCount; id++) {
      const base = lockBase(layout, id);
      Atomics.store(i32, base + kLockState, 0);
      Atomics.store(i32, base + kLockNextTicket, 0);
      Atomics.store(i32, base + kLockOwner, 0);
      Atomics.store(i32, base + kLockSleepers, 0);
    }
  }

  /** Zeroes the lock_stat counters of every defined class. */
  resetStats(): void {
    const { i32, layout } = this.memory;
    const classes = classCount(this.memory);
    for (let c = 0; c < classes; c++) {
      Atomics.store(i32, classBase(layout, c) + kClassMaxWaitUs, 0);
      Atomics.store(i32, classBase(layout, c) + kClassMaxHoldUs, 0);
      for (let t = 0; t < layout.capacities.threads; t++) {
        for (let w = 0; w < kStatWords; w++) Atomics.store(i32, threadStatBase(layout, t, c) + w, 0);
      }
    }
  }
}

/** Read-side helpers any thread may use (records are immutable once defined). */
export function lockClassOf(memory: SharedMemory, lockId: number): number {
  return memory.i32[lockBase(memory.layout, lockId) + kLockClass] ?? 0;
}

export function lockKindOf(memory: SharedMemory, lockId: number): LockKind {
  return (memory.i32[lockBase(memory.layout, lockId) + kLockKind] ?? 0) as LockKind;
}

export function lockNameOf(memory: SharedMemory, strings: StringTable, lockId: number): string {
  return strings.lookup(memory.i32[lockBase(memory.layout, lockId) + kLockName] ?? 0);
}

export function classNameOf(memory: SharedMemory, strings: StringTable, classId: number): string {
  return strings.lookup(memory.i32[classBase(memory.layout, classId) + kClassName] ?? 0);
}

export function classSleeps(memory: SharedMemory, classId: number): boolean {
  return memory.i32[classBase(memory.layout, classId) + kClassSleeps] === 1;
}

export function classCount(memory: SharedMemory): number {
  return Atomics.load(memory.i32, memory.layout.header + kHeaderClassCount);
}

/** Owner thread of any kind of lock, or -1. */
export function lockOwnerOf(memory: SharedMemory, lockId: number): number {
  return lockKindByCode(lockKindOf(memory, lockId))?.ownerOf(memory, lockId) ?? -1;
}

export function readClassStats(memory: SharedMemory, strings: StringTable): LockClassStats[] {
  const rows: LockClassStats[] = [];
  for (let c = 0; c < classCount(memory); c++) {
    const base = classBase(memory.layout, c);
    let acquisitions = 0;
    let contentions = 0;
    for (let t = 0; t < memory.layout.capacities.threads; t++) {
      acquisitions += Atomics.load(memory.i32, threadStatBase(memory.layout, t, c) + kStatAcquisitions);
      contentions += Atomics.load(memory.i32, threadStatBase(memory.layout, t, c) + kStatContentions);
    }
    rows.push({
      name: classNameOf(memory, strings, c),
      acquisitions,
      contentions,
      maxWaitUs: Atomics.load(memory.i32, base + kClassMaxWaitUs),
      maxHoldUs: Atomics.load(memory.i32, base + kClassMaxHoldUs),
    });
  }
  return rows;
}
