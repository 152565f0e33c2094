/**
 * A scenario's shared objects inside one SharedMemory: name -> id assignment (the same on every
 * thread, because it follows declaration order), definition of the lock records (main thread),
 * the per-thread {@link OpContext} views, and the between-rounds reset.
 */
import {
  type SharedMemory,
  LockKind,
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
  overlapIndex,
  schedThreadBase,
  wallClockMs,
  wordIndex,
} from '../layout.js';
import { ScenarioError } from '../errors.js';
import { kWaitSliceMs } from '../primitives/bounded-wait.js';
import { EventKind, type EventRing } from '../primitives/event-ring.js';
import { FindingLog } from '../primitives/finding-log.js';
import { lockKindByName } from '../primitives/lock-kinds.js';
import { LockTable } from '../primitives/lock-table.js';
import { ObjectSlots, pointerSlot } from '../primitives/object-slots.js';
import { Refcount } from '../primitives/refcount.js';
import { type SchedulePolicy, SchedulePoint, kFreeRunning } from '../primitives/schedule-policy.js';
import { StringTable } from '../primitives/string-table.js';
import { LockTracker } from '../lockdep/lock-tracker.js';
import { OsSchedule } from '../schedule/os-schedule.js';
import { resetSharedLockOrderGraph } from '../lockdep/edge-table.js';
import type {
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
  locks: Map<string, { id: number; kind: LockKindName; className: string }>;
  refcounts: Map<string, { id: number; mustEndAtZero: boolean }>;
  words: Map<string, number>;
  slots: Map<string, number>;
}

/** Ids follow declaration order, so every thread (and the main thread, from a description) agrees. */
export function assignIds(scenario: { objects: SharedObjects }): WorldIds {
  const ids: WorldIds = { locks: new Map(), refcounts: new Map(), words: new Map(), slots: new Map() };
  for (const [name, decl] of Object.entries(scenario.objects.locks ?? {})) {
    ids.locks.set(name, { id: ids.locks.size, kind: decl.kind ?? 'mutex', className: decl.class });
  }
  for (const [name, decl] of Object.entries(scenario.objects.refcounts ?? {})) {
    ids.refcounts.set(name, { id: ids.refcounts.size, mustEndAtZero: decl.mustEndAtZero ?? true });
  }
  for (const name of scenario.objects.words ?? []) ids.words.set(name, ids.words.size);
  for (const name of scenario.objects.slots ?? []) ids.slots.set(name, ids.slots.size);
  return ids;
}

/** Writes the lock and class records. Main thread, once per memory, before any worker attaches. */
export function defineWorld(memory: SharedMemory, strings: StringTable, ids: WorldIds): void {
  const table = new LockTable(memory, strings);
  for (const [name, lock] of ids.locks) {
    const kind = lockKindByName(lock.kind);
    if (kind === undefined) throw new ScenarioError(`lock ${name}: unknown kind ${JSON.stringify(lock.kind)}`);
    const id = table.defineLock(kind.code, lock.className, name);
    if (id !== lock.id) throw new Error(`lock ${name} got id ${id}, expected ${lock.id}`);
  }
  resetLockOrderGraph(memory);
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
 * Zeroes the round state: lock words, shared words, refcounts, object slots and every thread's
 * tracking record. Main thread, with no worker inside a round.
 */
export function resetRoundState(memory: SharedMemory, strings: StringTable, ids: WorldIds, threads: number[]): void {
  const log = new FindingLog(memory);
  new LockTable(memory, strings).resetStates(ids.locks.size);
  for (const index of ids.words.values()) Atomics.store(memory.i32, wordIndex(memory.layout, index), 0);
  // A thread terminated inside waitFor never unregistered (a stale count only costs notifies).
  Atomics.store(memory.i32, memory.layout.header + kHeaderWordWaiters, 0);
  for (const { id } of ids.refcounts.values()) new Refcount(memory, id, 0, log, strings).reset(0);
  for (const slot of ids.slots.values()) Atomics.store(memory.i32, objectBase(memory.layout, slot) + kObjState, 0);
  for (const thread of threads) new LockTracker(memory, strings, log, thread).reset();
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

export function createThreadWorld(
  memory: SharedMemory,
  strings: StringTable,
  scenario: Scenario,
  ids: WorldIds,
  options: ContextOptions,
): ThreadWorld {
  const { thread, variant } = options;
  const log = new FindingLog(memory);
  const tracker = options.tracking ? new LockTracker(memory, strings, log, thread) : null;
  const events = tracker?.events ?? null;
  const schedule =
    options.schedule ?? (options.tracking || options.jitter ? new OsSchedule(memory, thread, options.seed, options.jitter) : kFreeRunning);
  let round = 0;

  const locks: Record<string, Lock> = {};
  for (const [name, decl] of ids.locks) {
    const kind = lockKindByName(decl.kind);
    if (kind === undefined) throw new ScenarioError(`lock ${name}: unknown kind ${JSON.stringify(decl.kind)}`);
    const inner = kind.create(memory, decl.id, thread, tracker, schedule);
    locks[name] = {
      lock: (site) => {
        schedule.point(SchedulePoint.Lock, decl.id, site);
        inner.lock(site);
      },
      unlock: (site) => {
        schedule.point(SchedulePoint.Unlock, decl.id, site);
        inner.unlock(site);
      },
      tryLock: (site) => {
        schedule.point(SchedulePoint.TryLock, decl.id, site);
        return inner.tryLock(site);
      },
      assertHeld: (site) => inner.assertHeld(site),
    };
  }

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
    const nameId = events === null ? 0 : strings.intern(name);
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
      schedule.startRound(n);
      events?.roundStart(n);
    },
    operation: (name) => table[name],
    schedule,
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
