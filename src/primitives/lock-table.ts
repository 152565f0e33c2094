/**
 * The table of lock classes and lock instances. The main thread defines them once per world
 * (before any worker runs); afterwards the records are read-only except for each lock's state
 * words, each class's lock_stat counters and irq usage bits, and the subclass classes that
 * workers define lazily ({@link subclassOf}).
 *
 * A class is what lockdep reasons about (`group_lock`); an instance is one lock of that class
 * (`group_lock#0`). Mutex and rwsem classes sleep; spinlock and rwlock classes do not.
 *
 * Class identity, as in lockdep (`struct lock_class` is keyed by (key, subclass)):
 * - the key: locks declared with the same `class` share one class (the kernel's one class per
 *   init site), unless a declaration gives a `key` (lockdep_set_class_and_name): then (class, key)
 *   is the identity, and a second key under an existing name prints as `name#2` (name_version);
 * - the subclass: `mutex_lock_nested(lock, n)` uses subclass n of the lock's class, a class of its
 *   own named `name/n`, defined the first time a thread needs it.
 */
import {
  type SharedMemory,
  ClassKind,
  LockKind,
  classBase,
  kClassBase,
  kClassKey,
  kClassKind,
  kClassMaxHoldUs,
  kClassMaxWaitUs,
  kClassName,
  kClassSleeps,
  kClassSubclass,
  kHeaderClassCount,
  kHeaderClassLock,
  kLockFlags,
  kMaxSubclasses,
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
  wallClockMs,
} from '../layout.js';
import { lockKindByCode } from './lock-kinds.js';
import { LimitError } from '../errors.js';
import type { StringTable } from './string-table.js';
import { waitSlice } from './bounded-wait.js';
import { spinPause } from './spin-pause.js';

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
   * The class id for `name` (with lockdep_set_class key `key`, if any), defining it if new. One
   * class more than `capacities.classes` is a LimitError naming the capacity and lockstress's hard
   * limit.
   */
  defineClass(name: string, sleeps: boolean, key?: string, kind: ClassKind = ClassKind.Lock): number {
    const { i32, layout } = this.memory;
    const keyId = this.strings.intern(key === undefined ? name : `${name}\u0000${key}`);
    const nameId = this.strings.intern(name);
    const count = Atomics.load(i32, layout.header + kHeaderClassCount);
    let sameName = 0;
    for (let c = 0; c < count; c++) {
      if (Atomics.load(i32, classBase(layout, c) + kClassKey) === keyId) return c;
      if (Atomics.load(i32, classBase(layout, c) + kClassBase) === 0 && this.baseNameOf(c) === name) sameName++;
    }
    // lockdep's name_version: a second key under one name prints as name#2.
    const printed = sameName === 0 ? nameId : this.strings.intern(`${name}#${sameName + 1}`);
    return writeClass(this.memory, count, { name: printed, key: keyId, sleeps, kind, base: -1, subclass: 0 }, name);
  }

  /** Defines the next lock instance and returns its id. */
  defineLock(kind: LockKind, className: string, instanceName: string, options: { key?: string; flags?: number } = {}): number {
    const { i32, layout } = this.memory;
    if (this.lockCount >= layout.capacities.locks) {
      throw new RangeError(`more than ${layout.capacities.locks} locks`);
    }
    const id = this.lockCount++;
    const base = lockBase(layout, id);
    Atomics.store(i32, base + kLockClass, this.defineClass(className, lockKindByCode(kind)?.sleeps ?? true, options.key));
    Atomics.store(i32, base + kLockKind, kind);
    Atomics.store(i32, base + kLockName, this.strings.intern(instanceName));
    Atomics.store(i32, base + kLockFlags, options.flags ?? 0);
    return id;
  }

  /** The base name a class was defined under (without `#n`). */
  private baseNameOf(classId: number): string {
    const key = this.strings.lookup(Atomics.load(this.memory.i32, classBase(this.memory.layout, classId) + kClassKey));
    const cut = key.indexOf('\u0000');
    return cut < 0 ? key : key.slice(0, cut);
  }

  get count(): number {
    return this.lockCount;
  }

  /** Unlocks the first `lockCount` locks (between rounds, after an abort, with no thread running). */
  static resetStates(memory: SharedMemory, lockCount: number): void {
    const { i32, layout } = memory;
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

/** What a class record holds at definition. */
interface ClassFields {
  name: number;
  key: number;
  sleeps: boolean;
  kind: ClassKind;
  /** Base class of a subclass class, or -1. */
  base: number;
  subclass: number;
}

/** Writes class record `id` (must be the next one) and publishes it by bumping the count last. */
function writeClass(memory: SharedMemory, id: number, f: ClassFields, what: string): number {
  const { i32, layout } = memory;
  if (id >= layout.capacities.classes) {
    throw new LimitError(
      `more than ${layout.capacities.classes} lock classes (lockstress's limit is ${kMaxLockClassesLimit}); cannot define ${what}`,
    );
  }
  const base = classBase(layout, id);
  Atomics.store(i32, base + kClassName, f.name);
  Atomics.store(i32, base + kClassKey, f.key);
  Atomics.store(i32, base + kClassSleeps, f.sleeps ? 1 : 0);
  Atomics.store(i32, base + kClassKind, f.kind);
  Atomics.store(i32, base + kClassBase, f.base + 1);
  if (f.base >= 0) Atomics.store(i32, base + kClassSubclass, f.subclass);
  Atomics.store(i32, layout.header + kHeaderClassCount, id + 1);
  return id;
}

/**
 * The class of subclass `subclass` of class `classId` (lockdep's (key, subclass) class, printed
 * `name/subclass`), defined on first use. Any thread, at any time: a definition takes the class
 * spinlock (kHeaderClassLock) so two threads never define the same subclass twice; readers of a
 * defined subclass only load its slot. Subclass 0 is the class itself. Past
 * `capacities.classes`: LimitError.
 */
export function subclassOf(memory: SharedMemory, strings: StringTable, classId: number, subclass: number): number {
  if (subclass === 0) return classId;
  if (!Number.isInteger(subclass) || subclass < 0 || subclass >= kMaxSubclasses) {
    throw new RangeError(`subclass ${subclass} is outside 0..${kMaxSubclasses - 1} (lockdep's MAX_LOCKDEP_SUBCLASSES)`);
  }
  const { i32, layout } = memory;
  const slot = classBase(layout, classId) + kClassSubclass + subclass;
  const known = Atomics.load(i32, slot);
  if (known !== 0) return known - 1;
  const name = `${strings.lookup(Atomics.load(i32, classBase(layout, classId) + kClassName))}/${subclass}`;
  // Interned before the lock is taken: the string table has a lock of its own.
  const nameId = strings.intern(name);
  const lock = layout.header + kHeaderClassLock;
  const started = wallClockMs();
  let spins = 0;
  while (Atomics.compareExchange(i32, lock, 0, 1) !== 0) {
    if (++spins < 64) spinPause(i32, lock, 4);
    else waitSlice(memory, lock, 1, started, 'the lock-class table', 0.05);
  }
  try {
    const again = Atomics.load(i32, slot);
    if (again !== 0) return again - 1;
    const id = Atomics.load(i32, layout.header + kHeaderClassCount);
    writeClass(
      memory,
      id,
      {
        name: nameId,
        key: nameId,
        sleeps: Atomics.load(i32, classBase(layout, classId) + kClassSleeps) === 1,
        kind: Atomics.load(i32, classBase(layout, classId) + kClassKind) as ClassKind,
        base: classId,
        subclass,
      },
      name,
    );
    Atomics.store(i32, slot, id + 1);
    return id;
  } finally {
    Atomics.store(i32, lock, 0);
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

export function classKindOf(memory: SharedMemory, classId: number): ClassKind {
  return (memory.i32[classBase(memory.layout, classId) + kClassKind] ?? 0) as ClassKind;
}

export function lockFlagsOf(memory: SharedMemory, lockId: number): number {
  return memory.i32[lockBase(memory.layout, lockId) + kLockFlags] ?? 0;
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
