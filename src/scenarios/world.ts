/**
 * A scenario's shared objects inside one SharedMemory: name -> id assignment (the same on every
 * thread, because it follows declaration order), definition of the lock records (main thread),
 * the per-thread {@link OpContext} views, and the between-rounds reset.
 */
import {
  type SharedMemory,
  ClassKind,
  LockFlag,
  completionBase,
  lockBase,
  kCompletionClass,
  kCompletionDone,
  kCompletionName,
  kCompletionSleepers,
  kHeaderWordWaiters,
  objectBase,
  kObjState,
  SchedState,
  kSchedDiverged,
  kSchedPreemptions,
  kSchedState,
  kSchedStall,
  kSchedThreadWords,
  kSchedTurn,
  kThreadRound,
  overlapIndex,
  threadBase,
  schedThreadBase,
  kMaxLockClassesLimit,
  wallClockMs,
  wordIndex,
} from '../layout.js';
import { LimitError, ScenarioError } from '../errors.js';
import { kWaitSliceMs } from '../primitives/bounded-wait.js';
import { corePerThread } from '../primitives/barrier.js';
import { EventKind, type EventRing } from '../primitives/event-ring.js';
import { Completion as CompletionPrimitive } from '../primitives/completion.js';
import { FindingLog } from '../primitives/finding-log.js';
import { IrqState } from '../primitives/irq-state.js';
import { type KindLock, lockKindByName } from '../primitives/lock-kinds.js';
import { Acquire, subclassBits } from '../primitives/tracked-lock.js';
import { LockTable } from '../primitives/lock-table.js';
import { ObjectSlots, pointerSlot } from '../primitives/object-slots.js';
import { Refcount } from '../primitives/refcount.js';
import { type SchedulePolicy, SchedulePoint, kFreeRunning } from '../primitives/schedule-policy.js';
import { StringTable } from '../primitives/string-table.js';
import { LockTracker } from '../lockdep/lock-tracker.js';
import { OsSchedule } from '../schedule/os-schedule.js';
import { resetSharedLockOrderGraph } from '../lockdep/edge-table.js';
import type {
  Completion,
  Irq,
  IrqContext,
  Lock,
  LockKindName,
  Objects,
  OpContext,
  Ref,
  Scenario,
  SharedObjects,
  SharedWord,
  Variant,
  WorldView,
} from './contract.js';

/** Ids of every named object, in declaration order. */
export interface WorldIds {
  locks: Map<string, { id: number; kind: LockKindName; className: string; key?: string; queued: boolean }>;
  refcounts: Map<string, { id: number; mustEndAtZero: boolean }>;
  words: Map<string, number>;
  slots: Map<string, number>;
  completions: Map<string, { id: number; className: string }>;
}

/** Ids follow declaration order, so every thread (and the main thread, from a description) agrees. */
export function assignIds(scenario: { objects: SharedObjects }): WorldIds {
  const ids: WorldIds = { locks: new Map(), refcounts: new Map(), words: new Map(), slots: new Map(), completions: new Map() };
  for (const [name, decl] of Object.entries(scenario.objects.locks ?? {})) {
    ids.locks.set(name, {
      id: ids.locks.size,
      kind: decl.kind ?? 'mutex',
      className: decl.class,
      ...(decl.key === undefined ? {} : { key: decl.key }),
      queued: decl.queued === true,
    });
  }
  for (const [name, decl] of Object.entries(scenario.objects.completions ?? {})) {
    ids.completions.set(name, { id: ids.completions.size, className: decl.class ?? name });
  }
  for (const [name, decl] of Object.entries(scenario.objects.refcounts ?? {})) {
    ids.refcounts.set(name, { id: ids.refcounts.size, mustEndAtZero: decl.mustEndAtZero ?? true });
  }
  for (const name of scenario.objects.words ?? []) ids.words.set(name, ids.words.size);
  for (const name of scenario.objects.slots ?? []) ids.slots.set(name, ids.slots.size);
  return ids;
}

/**
 * The lock-related capacities a scenario's declarations need: locks, completions, and lock classes
 * with room for the subclass classes `lockNested` defines as it runs (up to 7 per class).
 */
export function lockCapacitiesFor(objects: SharedObjects): { locks: number; classes: number; completions: number } {
  const locks = Object.values(objects.locks ?? {});
  const completions = Object.keys(objects.completions ?? {}).length;
  const declared = new Set(locks.map((l) => (l.key === undefined ? l.class : `${l.class}\u0000${l.key}`))).size + completions;
  return {
    locks: Math.max(1, locks.length),
    classes: Math.min(kMaxLockClassesLimit, Math.max(1, declared * 2 + 16)),
    completions: Math.max(1, completions),
  };
}

/**
 * The ids of copy `copy` of the world (a stride runs `stride` copies, each a world of its own in
 * one memory: see variant-task.ts): every id shifted past the copies before it. Names and classes
 * are the same in every copy, so reports and lock classes read as for one world.
 */
export function strideIds(ids: WorldIds, copy: number): WorldIds {
  if (copy === 0) return ids;
  const shift = <V>(map: Map<string, V>, by: (v: V) => V): Map<string, V> => new Map([...map].map(([k, v]) => [k, by(v)]));
  const nLocks = ids.locks.size;
  const nCompletions = ids.completions.size;
  const nRefcounts = ids.refcounts.size;
  const nWords = ids.words.size;
  const nSlots = ids.slots.size;
  return {
    locks: shift(ids.locks, (l) => ({ ...l, id: l.id + copy * nLocks })),
    completions: shift(ids.completions, (c) => ({ ...c, id: c.id + copy * nCompletions })),
    refcounts: shift(ids.refcounts, (r) => ({ ...r, id: r.id + copy * nRefcounts })),
    words: shift(ids.words, (w) => w + copy * nWords),
    slots: shift(ids.slots, (o) => o + copy * nSlots),
  };
}

/**
 * Writes the lock, class and completion records of `stride` copies of the world. Main thread,
 * once per memory, before any worker attaches.
 */
export function defineWorld(memory: SharedMemory, strings: StringTable, ids: WorldIds, stride = 1): void {
  defineCopy(memory, strings, new LockTable(memory, strings), ids);
  // The other copies' records are copy 0's (same classes, kinds, names; all state zero): copied
  // word for word, since defining each again would intern and look up every class `stride` times
  // on the main thread before round 1.
  const { i32, layout } = memory;
  const locks = ids.locks.size;
  const completions = ids.completions.size;
  for (let copy = 1; copy < stride; copy++) {
    i32.copyWithin(lockBase(layout, copy * locks), lockBase(layout, 0), lockBase(layout, locks));
    i32.copyWithin(completionBase(layout, copy * completions), completionBase(layout, 0), completionBase(layout, completions));
  }
  resetLockOrderGraph(memory);
}

function defineCopy(memory: SharedMemory, strings: StringTable, table: LockTable, ids: WorldIds): void {
  for (const [name, lock] of ids.locks) {
    const kind = lockKindByName(lock.kind);
    if (kind === undefined) throw new ScenarioError(`lock ${name}: unknown kind ${JSON.stringify(lock.kind)}`);
    if (lock.queued && !kind.queueable) throw new ScenarioError(`lock ${name}: queued is for kind 'rwlock', not '${lock.kind}'`);
    const id = table.defineLock(kind.code, lock.className, name, {
      ...(lock.key === undefined ? {} : { key: lock.key }),
      flags: lock.queued ? LockFlag.Queued : 0,
    });
    if (id !== lock.id) throw new Error(`lock ${name} got id ${id}, expected ${lock.id}`);
  }
  const { i32, layout } = memory;
  for (const [name, completion] of ids.completions) {
    if (completion.id >= layout.capacities.completions) {
      throw new LimitError(`more than ${layout.capacities.completions} completions; cannot define ${name}`);
    }
    // A completion's class never merges with a lock class of the same name (its own key).
    const cls = table.defineClass(completion.className, true, '\u0000completion', ClassKind.Completion);
    Atomics.store(i32, completionBase(layout, completion.id) + kCompletionClass, cls);
    Atomics.store(i32, completionBase(layout, completion.id) + kCompletionName, strings.intern(name));
  }
}

/** Forgets every learned lock-order edge (between variants). */
export function resetLockOrderGraph(memory: SharedMemory): void {
  resetSharedLockOrderGraph(memory);
  const { i32, layout } = memory;
  for (let a = 0; a < layout.capacities.ops; a++) {
    for (let b = 0; b < layout.capacities.ops; b++) Atomics.store(i32, overlapIndex(layout, a, b), 0);
  }
}

/**
 * Zeroes the round state of the first `copies` copies of the world: lock words, shared words,
 * refcounts, object slots, and every thread's tracking record. With no worker inside a round
 * (the main thread, or thread 0 between rounds).
 */
export function resetRoundState(memory: SharedMemory, ids: WorldIds, threads: number[], copies = 1): void {
  // Copies are laid out one after the other (strideIds): each kind is one contiguous range.
  const { i32, layout } = memory;
  LockTable.resetStates(memory, ids.locks.size * copies);
  for (let index = 0; index < ids.words.size * copies; index++) Atomics.store(i32, wordIndex(layout, index), 0);
  // A thread terminated inside waitFor never unregistered (a stale count only costs notifies).
  Atomics.store(i32, layout.header + kHeaderWordWaiters, 0);
  for (let id = 0; id < ids.refcounts.size * copies; id++) Refcount.zero(memory, id);
  for (let slot = 0; slot < ids.slots.size * copies; slot++) Atomics.store(i32, objectBase(layout, slot) + kObjState, 0);
  for (let id = 0; id < ids.completions.size * copies; id++) {
    Atomics.store(i32, completionBase(layout, id) + kCompletionDone, 0);
    Atomics.store(i32, completionBase(layout, id) + kCompletionSleepers, 0);
  }
  for (const thread of threads) LockTracker.resetRecord(memory, thread);
  resetScheduleRegion(memory, threads);
}

/**
 * Forgets the controlled schedule's round: turn, stall, priorities; every thread starts
 * the next round Runnable. (Here, where no thread runs, and not by each thread as it arrives:
 * thread 0 resets between rounds while the others already wait at the start barrier.)
 */
function resetScheduleRegion(memory: SharedMemory, threads: number[]): void {
  const { i32, layout } = memory;
  // The step log stays: thread 0 reads it before the next round (replay tokens, exploration),
  // then empties it (variant-task.ts).
  for (const word of [kSchedTurn, kSchedStall, kSchedDiverged, kSchedPreemptions]) Atomics.store(i32, layout.schedule + word, 0);
  for (const thread of threads) {
    for (let w = 0; w < kSchedThreadWords; w++) Atomics.store(i32, schedThreadBase(layout, thread) + w, 0);
    Atomics.store(i32, schedThreadBase(layout, thread) + kSchedState, SchedState.Runnable);
  }
}

/** Options for one thread's view of the world. */
export interface ContextOptions {
  thread: number;
  variant: Variant;
  /** Lock tracking (lockdep, wait-for, lock_stat). Off only for benchmarks. */
  tracking: boolean;
  /** Base seed; the jitter plan of each round is derived from (seed, round, thread). */
  seed: number;
  /** Jitter before locks and at `ctx.jitter()`. */
  jitter: boolean;
  /** Threads in the round (default 1): past one per core, the jitter's long pauses sleep (os-schedule.ts). */
  threads?: number;
  /** The schedule policy; default: the seeded `os` jitter ({@link OsSchedule}), or none for a world without jitter. */
  schedule?: SchedulePolicy;
}

/** One thread's OpContext plus the handles the worker needs around it. */
export interface ThreadWorld {
  ctx: OpContext;
  tracker: LockTracker | null;
  /** This thread's event ring (with tracking on), or null. */
  events: EventRing | null;
  /** Re-seeds the jitter plan and sets the round number. */
  startRound(round: number): void;
  /** The operations of the variant, by name (variant overrides first). */
  operation(name: string): ((ctx: OpContext) => void) | undefined;
  /** The thread's schedule policy (the schedule seam). */
  schedule: SchedulePolicy;
}

/**
 * What one thread's copies of the world share (a stride runs several: variant-task.ts): one
 * tracker, event ring, interrupt state and schedule per thread, as a thread has one held-lock
 * stack and one CPU state whichever copy it is in.
 */
export interface ThreadKit {
  log: FindingLog;
  tracker: LockTracker | null;
  events: EventRing | null;
  irqState: IrqState;
  schedule: SchedulePolicy;
}

export function createThreadKit(memory: SharedMemory, strings: StringTable, ids: WorldIds, options: ContextOptions): ThreadKit {
  const { thread } = options;
  const log = new FindingLog(memory);
  const tracker = options.tracking ? new LockTracker(memory, strings, log, thread, { completions: ids.completions.size > 0 }) : null;
  const events = tracker?.events ?? null;
  const irqState = new IrqState(memory, thread, tracker);
  const schedule =
    options.schedule ??
    (options.tracking || options.jitter
      ? new OsSchedule(memory, thread, options.seed, options.jitter, !corePerThread(options.threads ?? 1))
      : kFreeRunning);
  return { log, tracker, events, irqState, schedule };
}

/** One thread's view of one copy of the world (`ids`: strideIds of the copy); `kit` is shared by the thread's copies. */
export function createThreadWorld(
  memory: SharedMemory,
  strings: StringTable,
  scenario: Scenario,
  ids: WorldIds,
  options: ContextOptions,
  kit: ThreadKit = createThreadKit(memory, strings, ids, options),
): ThreadWorld {
  const { thread, variant } = options;
  const { log, tracker, events, irqState, schedule } = kit;
  const roundWord = threadBase(memory.layout, thread) + kThreadRound;
  let round = 0;

  const locks: Record<string, Lock> = {};
  const lockIds = new WeakMap<Lock, number>();
  for (const [name, decl] of ids.locks) {
    const kind = lockKindByName(decl.kind);
    if (kind === undefined) throw new ScenarioError(`lock ${name}: unknown kind ${JSON.stringify(decl.kind)}`);
    const lock = wrapLock(name, decl.kind, kind.sleeps, decl.id, kind.create(memory, decl.id, thread, tracker, schedule), schedule, irqState, (nest, what) => {
      const id = lockIds.get(nest);
      if (id === undefined) throw new ScenarioError(`ctx.locks[${JSON.stringify(name)}].${what}: the nest lock is not a lock of scenario ${scenario.name} (pass ctx.locks[...])`);
      return id;
    });
    lockIds.set(lock, decl.id);
    locks[name] = lock;
  }

  const completions: Record<string, Completion> = {};
  for (const [name, { id }] of ids.completions) {
    const inner = new CompletionPrimitive(memory, id, thread, tracker, schedule);
    completions[name] = {
      waitForCompletion: (site) => {
        schedule.point(SchedulePoint.Completion, id, site);
        inner.wait(site);
      },
      tryWaitForCompletion: (site) => {
        schedule.point(SchedulePoint.Completion, id, site);
        return inner.tryWait();
      },
      complete: (site) => {
        schedule.point(SchedulePoint.Completion, id, site);
        inner.complete(site);
      },
      completeAll: (site) => {
        schedule.point(SchedulePoint.Completion, id, site);
        inner.completeAll(site);
      },
      completionDone: () => inner.done(),
      reinit: () => inner.reinit(),
    };
  }

  const irq: Irq = {
    disable: () => irqState.disable(),
    enable: (site) => irqState.enable(site),
    save: () => irqState.save(),
    restore: (flags, site) => irqState.restore(flags, site),
    bhDisable: () => irqState.bhDisable(),
    bhEnable: (site) => irqState.bhEnable(site),
  };
  const inIrq = (context: IrqContext, fn: () => void): void => {
    if (context === 'hardirq') {
      const flags = irqState.enterHardirq();
      fn();
      irqState.exitHardirq(flags);
    } else if (context === 'softirq') {
      irqState.enterSoftirq();
      fn();
      irqState.exitSoftirq();
    } else {
      throw new ScenarioError(`ctx.inIrq(${JSON.stringify(context)}): the context is 'hardirq' or 'softirq'`);
    }
  };

  const refs: Record<string, Ref> = {};
  for (const [name, { id }] of ids.refcounts) {
    const inner = new Refcount(memory, id, thread, log, tracker !== null ? strings : null, events);
    refs[name] = {
      read: () => inner.read(),
      reset: (count, holder, site) => inner.reset(count, holder, site),
      inc: (holder, site) => {
        schedule.point(SchedulePoint.Refcount, id, site);
        inner.inc(holder, site);
      },
      incNotZero: (holder, site) => {
        schedule.point(SchedulePoint.Refcount, id, site);
        return inner.incNotZero(holder, site);
      },
      decAndTest: (holder, site) => {
        schedule.point(SchedulePoint.Refcount, id, site);
        return inner.decAndTest(holder, site);
      },
    };
  }

  const words: Record<string, SharedWord> = {};
  const waiters = memory.layout.header + kHeaderWordWaiters;
  const wakeWaiters = (at: number): void => {
    if (Atomics.load(memory.i32, waiters) !== 0) Atomics.notify(memory.i32, at);
  };
  for (const [name, index] of ids.words) {
    const at = wordIndex(memory.layout, index);
    // Interned at the first wait: most words are never waited on.
    let nameId = -1;
    const nameIdOnce = (): number => (nameId >= 0 ? nameId : (nameId = events === null ? 0 : strings.intern(name)));
    // Writers notify, while anyone waits, so that handshake waiters (waitFor) wake at once.
    words[name] = {
      get: () => {
        schedule.point(SchedulePoint.Word, index, name);
        return Atomics.load(memory.i32, at);
      },
      set: (value) => {
        schedule.point(SchedulePoint.Word, index, name);
        Atomics.store(memory.i32, at, value);
        wakeWaiters(at);
      },
      cas: (expected, value) => {
        schedule.point(SchedulePoint.Word, index, name);
        const seen = Atomics.compareExchange(memory.i32, at, expected, value);
        if (seen === expected) wakeWaiters(at);
        return seen;
      },
      add: (delta) => {
        schedule.point(SchedulePoint.Word, index, name);
        const before = Atomics.add(memory.i32, at, delta);
        wakeWaiters(at);
        return before;
      },
      waitFor: (value, timeoutMs) => {
        // Registered before the first read of the word (Dekker with the writer's store, then
        // its read of the waiter count; both seq-cst): a writer that saw no waiter stored
        // before this thread reads, so no wake-up is lost. The waits are sliced anyway.
        Atomics.add(memory.i32, waiters, 1);
        const nameId = nameIdOnce();
        events?.recordTimed(EventKind.WaitBegin, index, nameId, value);
        try {
          const started = wallClockMs();
          for (;;) {
            const seen = Atomics.load(memory.i32, at);
            if (seen === value) {
              events?.recordTimed(EventKind.WaitEnd, index, nameId, 1);
              return true;
            }
            const left = timeoutMs - (wallClockMs() - started);
            if (left <= 0) {
              events?.recordTimed(EventKind.WaitEnd, index, nameId, 0);
              return false;
            }
            const result = schedule.wait(memory, at, seen, started, `word ${name}`, Math.min(left, kWaitSliceMs));
            // Under a controlled schedule time stands still: 'timed-out' means nobody else can run.
            if (result === 'timed-out' && schedule.controlled) {
              events?.recordTimed(EventKind.WaitEnd, index, nameId, 0);
              return Atomics.load(memory.i32, at) === value;
            }
          }
        } finally {
          Atomics.sub(memory.i32, waiters, 1);
        }
      },
    };
  }

  const slots = new ObjectSlots(memory, thread, log, strings);
  const objects: Objects = {
    create: (slot, type, site) => {
      const index = ids.slots.get(slot);
      if (index === undefined) throw unknownName(scenario, 'object slot', 'ctx.objects.create', slot, ids.slots.keys());
      schedule.point(SchedulePoint.Object, index, site);
      return slots.create(index, type, site);
    },
    access: (pointer, site) => {
      schedule.point(SchedulePoint.Object, pointerSlot(pointer), site);
      return slots.access(pointer, site);
    },
    free: (pointer, site) => {
      schedule.point(SchedulePoint.Object, pointerSlot(pointer), site);
      slots.free(pointer, site);
    },
    isLive: (pointer) => slots.isLive(pointer),
  };

  const ctx: OpContext = {
    thread,
    get round() {
      return round;
    },
    variant: variant.name,
    locks: guardNames(scenario, 'lock', 'ctx.locks', locks),
    refs: guardNames(scenario, 'refcount', 'ctx.refs', refs),
    words: guardNames(scenario, 'word', 'ctx.words', words),
    objects,
    completions: guardNames(scenario, 'completion', 'ctx.completions', completions),
    irq,
    inIrq,
    mightSleep: (site) => tracker?.mightSleep(site),
    invariant: (message) => log.log('invariant', thread, { message: strings.intern(message) }),
    jitter: () => schedule.jitter(),
  };

  const table = { ...scenario.ops, ...(variant.ops ?? {}) };
  return {
    ctx,
    tracker,
    events,
    startRound(n) {
      round = n;
      Atomics.store(memory.i32, roundWord, n);
      schedule.startRound(n);
      events?.roundStart(n);
    },
    operation: (name) => table[name],
    schedule,
  };
}

/**
 * One lock as scenario code sees it: the primitive (with tracking) behind the schedule seam, its
 * read side and its irq flavours composed as the kernel composes them (spin_lock_irqsave is
 * local_irq_save then spin_lock; spin_unlock_irqrestore is spin_unlock then local_irq_restore).
 */
function wrapLock(
  name: string,
  kindName: string,
  sleeps: boolean,
  id: number,
  inner: KindLock,
  schedule: SchedulePolicy,
  irq: IrqState,
  nestId: (nest: Lock, what: string) => number,
): Lock {
  const where = `ctx.locks[${JSON.stringify(name)}]`;
  const read = (what: string) => {
    if (inner.read === null) throw new ScenarioError(`${where}.${what}: ${name} is a ${kindName}, which has no read side (declare kind: 'rwsem' or 'rwlock')`);
    return inner.read;
  };
  const spinning = (what: string): void => {
    if (sleeps) throw new ScenarioError(`${where}.${what}: ${name} is a ${kindName}, a sleeping lock, which cannot be taken with interrupts or softirqs off`);
  };
  const subclass = (what: string, n: number): number => {
    if (!Number.isInteger(n) || n < 0 || n > 7) throw new ScenarioError(`${where}.${what}: subclass ${String(n)} is outside 0..7 (lockdep's MAX_LOCKDEP_SUBCLASSES)`);
    return subclassBits(n);
  };
  const lock = (site: string): void => {
    schedule.point(SchedulePoint.Lock, id, site);
    inner.lock(site);
  };
  const unlock = (site: string): void => {
    schedule.point(SchedulePoint.Unlock, id, site);
    inner.unlock(site);
  };
  const readLock = (site: string, how = 0): void => {
    const side = read('readLock');
    schedule.point(SchedulePoint.Lock, id, site);
    side.lock(site, how | Acquire.Read, -1);
  };
  const readUnlock = (site: string): void => {
    const side = read('readUnlock');
    schedule.point(SchedulePoint.Unlock, id, site);
    side.unlock(site);
  };
  return {
    lock,
    unlock,
    tryLock: (site) => {
      schedule.point(SchedulePoint.TryLock, id, site);
      return inner.tryLock(site);
    },
    assertHeld: (site) => inner.assertHeld(site),
    lockNested: (site, n) => {
      const how = subclass('lockNested', n);
      schedule.point(SchedulePoint.Lock, id, site);
      inner.lockAs(site, how, -1);
    },
    lockNestLock: (site, nest) => {
      const nestLock = nestId(nest, 'lockNestLock');
      schedule.point(SchedulePoint.Lock, id, site);
      inner.lockAs(site, 0, nestLock);
    },
    lockIrq: (site) => {
      spinning('lockIrq');
      irq.disable();
      lock(site);
    },
    unlockIrq: (site) => {
      spinning('unlockIrq');
      unlock(site);
      irq.enable(site);
    },
    lockIrqsave: (site) => {
      spinning('lockIrqsave');
      const flags = irq.save();
      lock(site);
      return flags;
    },
    unlockIrqrestore: (site, flags) => {
      spinning('unlockIrqrestore');
      unlock(site);
      irq.restore(flags, site);
    },
    lockBh: (site) => {
      spinning('lockBh');
      irq.bhDisable();
      lock(site);
    },
    unlockBh: (site) => {
      spinning('unlockBh');
      unlock(site);
      irq.bhEnable(site);
    },
    readLock: (site) => readLock(site),
    readUnlock,
    readTryLock: (site) => {
      const side = read('readTryLock');
      schedule.point(SchedulePoint.TryLock, id, site);
      return side.tryLock(site);
    },
    readLockNested: (site, n) => readLock(site, subclass('readLockNested', n)),
    readLockIrq: (site) => {
      spinning('readLockIrq');
      read('readLockIrq');
      irq.disable();
      readLock(site);
    },
    readUnlockIrq: (site) => {
      spinning('readUnlockIrq');
      readUnlock(site);
      irq.enable(site);
    },
    readLockIrqsave: (site) => {
      spinning('readLockIrqsave');
      read('readLockIrqsave');
      const flags = irq.save();
      readLock(site);
      return flags;
    },
    readUnlockIrqrestore: (site, flags) => {
      spinning('readUnlockIrqrestore');
      readUnlock(site);
      irq.restore(flags, site);
    },
    readLockBh: (site) => {
      spinning('readLockBh');
      read('readLockBh');
      irq.bhDisable();
      readLock(site);
    },
    readUnlockBh: (site) => {
      spinning('readUnlockBh');
      readUnlock(site);
      irq.bhEnable(site);
    },
  };
}

/**
 * Makes a name table whose unknown names throw a {@link ScenarioError} that names the mistake
 * and lists the declared names, instead of handing scenario code `undefined`. The declared names
 * are own properties, so a lookup of one never reaches the guard (a proxy on the prototype): the
 * hot path costs what a plain object costs.
 */
function guardNames<T>(scenario: Scenario, what: string, expression: string, table: Record<string, T>): Record<string, T> {
  const declared = Object.keys(table);
  const guard = new Proxy(Object.create(null) as object, {
    get(_target, key) {
      // Symbols and promise/JSON probes are asked of any object; they are not scenario names.
      if (typeof key !== 'string' || key === 'then' || key === 'toJSON') return undefined;
      throw unknownName(scenario, what, expression, key, declared);
    },
  });
  return Object.setPrototypeOf({ ...table }, guard) as Record<string, T>;
}

function unknownName(scenario: Scenario, what: string, expression: string, name: string, declared: Iterable<string>): ScenarioError {
  const list = [...declared];
  return new ScenarioError(
    `${expression}[${JSON.stringify(name)}]: no ${what} ${JSON.stringify(name)} in scenario ${scenario.name} (declared: ${list.length === 0 ? 'none' : list.join(', ')})`,
  );
}

/** The read-only view the arbiter gives to `invariants`. */
export function createWorldView(
  memory: SharedMemory,
  strings: StringTable,
  ids: WorldIds,
  variant: string,
  round: number,
): WorldView {
  const log = new FindingLog(memory);
  const slots = new ObjectSlots(memory, 0, log, strings);
  return {
    round,
    variant,
    words: (name) => {
      const index = ids.words.get(name);
      if (index === undefined) throw new ScenarioError(`view.words(${JSON.stringify(name)}): no word ${JSON.stringify(name)} (declared: ${[...ids.words.keys()].join(', ') || 'none'})`);
      return Atomics.load(memory.i32, wordIndex(memory.layout, index));
    },
    refcount: (name) => {
      const ref = ids.refcounts.get(name);
      if (ref === undefined) throw new ScenarioError(`view.refcount(${JSON.stringify(name)}): no refcount ${JSON.stringify(name)} (declared: ${[...ids.refcounts.keys()].join(', ') || 'none'})`);
      return new Refcount(memory, ref.id, 0, log, null).read();
    },
    isLive: (pointer) => slots.isLive(pointer),
  };
}
