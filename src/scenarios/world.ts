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
  overlapIndex,
  wallClockMs,
  wordIndex,
} from '../layout.js';
import { kWaitSliceMs, waitSlice } from '../primitives/bounded-wait.js';
import { FindingLog } from '../primitives/finding-log.js';
import { FutexMutex } from '../primitives/futex-mutex.js';
import { LockTable } from '../primitives/lock-table.js';
import { ObjectSlots } from '../primitives/object-slots.js';
import { Refcount } from '../primitives/refcount.js';
import { SpinLock } from '../primitives/spin-lock.js';
import { StringTable } from '../primitives/string-table.js';
import { TicketSpinLock } from '../primitives/ticket-spin-lock.js';
import { LockTracker } from '../lockdep/lock-tracker.js';
import { resetSharedLockOrderGraph } from '../lockdep/edge-table.js';
import type {
  Lock,
  LockKindName,
  Objects,
  OpContext,
  Ref,
  Scenario,
  SharedWord,
  Variant,
  WorldView,
} from './contract.js';
import { createRng, deriveSeed } from './rng.js';
import type { Rng } from './contract.js';

/** Ids of every named object, in declaration order. */
export interface WorldIds {
  locks: Map<string, { id: number; kind: LockKindName; className: string }>;
  refcounts: Map<string, { id: number; mustEndAtZero: boolean }>;
  words: Map<string, number>;
  slots: Map<string, number>;
}

export function assignIds(scenario: Scenario): WorldIds {
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

const kLockKindCode: Record<LockKindName, LockKind> = {
  mutex: LockKind.Mutex,
  spinlock: LockKind.SpinLock,
  'ticket-spinlock': LockKind.TicketSpinLock,
};

/** Writes the lock and class records. Main thread, once per memory, before any worker attaches. */
export function defineWorld(memory: SharedMemory, strings: StringTable, ids: WorldIds): void {
  const table = new LockTable(memory, strings);
  for (const [name, lock] of ids.locks) {
    const id = table.defineLock(kLockKindCode[lock.kind], lock.className, name);
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
}

/** One thread's OpContext plus the handles the worker needs around it. */
export interface ThreadWorld {
  ctx: OpContext;
  tracker: LockTracker | null;
  /** Re-seeds the jitter plan and sets the round number. */
  startRound(round: number): void;
  /** The operations of the variant, by name (variant overrides first). */
  operation(name: string): ((ctx: OpContext) => void) | undefined;
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
  let round = 0;
  let rng: Rng = createRng(options.seed);
  const yieldWord = new Int32Array(new SharedArrayBuffer(4));

  const jitter = (): void => {
    if (!options.jitter) return;
    const r = rng.next();
    if (r < 0.55) return;
    if (r < 0.9) {
      // Spin 2^k loads of a private word: keeps the core, shifts this thread by up to ~10 µs.
      const n = 1 << rng.int(10);
      for (let i = 0; i < n; i++) Atomics.load(yieldWord, 0);
      return;
    }
    // Yield the core for 10-60 µs so the other threads on it run (2 cores, 4 threads).
    Atomics.wait(yieldWord, 0, 0, 0.01 + rng.next() * 0.05);
  };

  const locks: Record<string, Lock> = {};
  for (const [name, decl] of ids.locks) {
    const inner =
      decl.kind === 'mutex'
        ? new FutexMutex(memory, decl.id, thread, tracker)
        : decl.kind === 'spinlock'
          ? new SpinLock(memory, decl.id, thread, tracker)
          : new TicketSpinLock(memory, decl.id, thread, tracker);
    locks[name] = {
      lock: (site) => {
        jitter();
        inner.lock(site);
      },
      unlock: (site) => inner.unlock(site),
      tryLock: (site) => inner.tryLock(site),
      assertHeld: (site) => inner.assertHeld(site),
    };
  }

  const refs: Record<string, Ref> = {};
  for (const [name, { id }] of ids.refcounts) {
    const inner = new Refcount(memory, id, thread, log, tracker !== null ? strings : null);
    refs[name] = {
      read: () => inner.read(),
      reset: (count, holder, site) => inner.reset(count, holder, site),
      inc: (holder, site) => inner.inc(holder, site),
      incNotZero: (holder, site) => inner.incNotZero(holder, site),
      decAndTest: (holder, site) => inner.decAndTest(holder, site),
    };
  }

  const words: Record<string, SharedWord> = {};
  const waiters = memory.layout.header + kHeaderWordWaiters;
  const wakeWaiters = (at: number): void => {
    if (Atomics.load(memory.i32, waiters) !== 0) Atomics.notify(memory.i32, at);
  };
  for (const [name, index] of ids.words) {
    const at = wordIndex(memory.layout, index);
    // Writers notify, while anyone waits, so that handshake waiters (waitFor) wake at once.
    words[name] = {
      get: () => Atomics.load(memory.i32, at),
      set: (value) => {
        Atomics.store(memory.i32, at, value);
        wakeWaiters(at);
      },
      cas: (expected, value) => {
        const seen = Atomics.compareExchange(memory.i32, at, expected, value);
        if (seen === expected) wakeWaiters(at);
        return seen;
      },
      add: (delta) => {
        const before = Atomics.add(memory.i32, at, delta);
        wakeWaiters(at);
        return before;
      },
      waitFor: (value, timeoutMs) => {
        // Registered before the first read of the word (Dekker with the writer's store, then
        // its read of the waiter count; both seq-cst): a writer that saw no waiter stored
        // before this thread reads, so no wake-up is lost. The waits are sliced anyway.
        Atomics.add(memory.i32, waiters, 1);
        try {
          const started = wallClockMs();
          for (;;) {
            const seen = Atomics.load(memory.i32, at);
            if (seen === value) return true;
            const left = timeoutMs - (wallClockMs() - started);
            if (left <= 0) return false;
            waitSlice(memory, at, seen, started, `word ${name}`, Math.min(left, kWaitSliceMs));
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
      if (index === undefined) throw new RangeError(`unknown object slot ${slot}`);
      return slots.create(index, type, site);
    },
    access: (pointer, site) => slots.access(pointer, site),
    free: (pointer, site) => slots.free(pointer, site),
    isLive: (pointer) => slots.isLive(pointer),
  };

  const ctx: OpContext = {
    thread,
    get round() {
      return round;
    },
    variant: variant.name,
    locks,
    refs,
    words,
    objects,
    mightSleep: (site) => tracker?.mightSleep(site),
    invariant: (message) => log.record('invariant', thread, strings.intern(message)),
    jitter,
  };

  const table = { ...scenario.ops, ...(variant.ops ?? {}) };
  return {
    ctx,
    tracker,
    startRound(n) {
      round = n;
      rng = createRng(deriveSeed(options.seed, n, thread));
    },
    operation: (name) => table[name],
  };
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
      if (index === undefined) throw new RangeError(`unknown word ${name}`);
      return Atomics.load(memory.i32, wordIndex(memory.layout, index));
    },
    refcount: (name) => {
      const ref = ids.refcounts.get(name);
      if (ref === undefined) throw new RangeError(`unknown refcount ${name}`);
      return new Refcount(memory, ref.id, 0, log, null).read();
    },
    isLive: (pointer) => slots.isLive(pointer),
  };
}
