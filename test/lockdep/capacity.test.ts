/**
 * The validator past 32 lock classes, through the real LockTracker and FutexMutex on one thread:
 * a 40-class ring, 1024 classes and the LimitError after them, gates over class ids past 31, a
 * full edge table, and the held-lock limit.
 */
import { describe, expect, it } from 'vitest';
import { LimitError } from '../../src/errors.js';
import { LockTracker } from '../../src/lockdep/lock-tracker.js';
import { SharedLockOrderGraph } from '../../src/lockdep/lock-order-graph.js';
import { droppedEdgeCount, findEdge, readGate, resetSharedLockOrderGraph } from '../../src/lockdep/edge-table.js';
import {
  type Capacities,
  LockKind,
  SharedMemory,
  kClassWords,
  kDefaultCapacities,
  kMaxEdgeGate,
  kMaxHeldLocks,
  kMaxLockClassesLimit,
} from '../../src/layout.js';
import { FindingLog } from '../../src/primitives/finding-log.js';
import { FutexMutex } from '../../src/primitives/futex-mutex.js';
import { LockTable, classCount, lockClassOf, readClassStats } from '../../src/primitives/lock-table.js';
import { StringTable } from '../../src/primitives/string-table.js';
import { TicketSpinLock } from '../../src/primitives/ticket-spin-lock.js';

/** Room for many class and lock names. */
const kRoomy: Capacities = { ...kDefaultCapacities, strings: 8192, locks: 1100 };

function world(capacities: Capacities = kRoomy) {
  const memory = SharedMemory.create(capacities);
  const strings = new StringTable(memory);
  const table = new LockTable(memory, strings);
  const log = new FindingLog(memory);
  const trackers = [new LockTracker(memory, strings, log, 0), new LockTracker(memory, strings, log, 1)];
  const mutex = (className: string, thread = 0): FutexMutex => {
    const id = table.defineLock(LockKind.Mutex, className, `${className}#0`);
    return new FutexMutex(memory, id, thread, trackers[thread] ?? null);
  };
  /** Thread `thread` takes `outer`, then each of `inner` nested, then lets all go. */
  const nest = (locks: FutexMutex[]): void => {
    for (const l of locks) l.lock(`take_${l.id}`);
    for (const l of [...locks].reverse()) l.unlock(`take_${l.id}`);
  };
  const graph = new SharedLockOrderGraph(memory, strings);
  return { memory, strings, table, log, trackers, mutex, nest, graph, classOf: (l: FutexMutex) => lockClassOf(memory, l.id) };
}

describe('lockdep past 32 lock classes', () => {
  it('a ring of 40 classes A0 -> ... -> A39 -> A0 gives exactly one lock-order cycle over all 40, and nothing else', () => {
    const w = world();
    const ring = Array.from({ length: 40 }, (_, i) => w.mutex(`A${i}`));
    const seen = [];
    for (let i = 0; i < 40; i++) {
      w.nest([ring[i] as FutexMutex, ring[(i + 1) % 40] as FutexMutex]);
      seen.push(...w.graph.poll());
    }
    expect(seen).toHaveLength(1);
    const classes = seen[0]?.classes ?? [];
    // Starts at the target of the closing edge A39 -> A0.
    expect(classes).toEqual(ring.map(w.classOf));
    expect(seen[0]?.edges.map((e) => e.gate)).toEqual(Array.from({ length: 40 }, () => []));
    expect(w.graph.graph.edges()).toHaveLength(40);
    expect(w.log.drain().records).toEqual([]);
    expect(droppedEdgeCount(w.memory)).toBe(0);
  });

  it('1024 classes can be defined; the 1025th is a LimitError naming the capacity and the limit', () => {
    const w = world();
    for (let c = 0; c < 1024; c++) expect(w.table.defineClass(`class_${c}`, true)).toBe(c);
    expect(classCount(w.memory)).toBe(1024);
    expect(w.table.defineClass('class_1023', true)).toBe(1023);
    const tooMany = (): number => w.table.defineClass('class_1024', true);
    expect(tooMany).toThrow(LimitError);
    expect(tooMany).toThrow(/^more than 1024 lock classes \(lockstress's limit is 8192\); cannot define class_1024$/);
    expect(classCount(w.memory)).toBe(1024);
  });

  it('the class capacity comes from Capacities.classes, and past the hard limit the layout refuses it', () => {
    const w = world({ ...kRoomy, classes: 40 });
    for (let c = 0; c < 40; c++) w.table.defineClass(`c${c}`, true);
    expect(() => w.table.defineClass('c40', true)).toThrow(/^more than 40 lock classes/);
    expect(() => SharedMemory.create({ ...kDefaultCapacities, classes: kMaxLockClassesLimit + 1 })).toThrow(LimitError);
    expect(() => SharedMemory.create({ ...kDefaultCapacities, classes: kMaxLockClassesLimit + 1 })).toThrow(
      "8193 lock classes (lockstress's limit is 8192)",
    );
    expect(() => SharedMemory.create({ ...kDefaultCapacities, edges: (1 << 18) + 1 })).toThrow(LimitError);
  });

  it('lock_stat counts land in the right class for ids past 31, per thread', () => {
    const w = world();
    for (let c = 0; c < 100; c++) w.table.defineClass(`filler_${c}`, true);
    const high = w.mutex('high_class');
    const other = w.mutex('high_class_2', 1);
    for (let i = 0; i < 3; i++) w.nest([high]);
    w.nest([other]);
    const stats = readClassStats(w.memory, w.strings);
    expect(stats).toHaveLength(102);
    expect(stats[100]).toMatchObject({ name: 'high_class', acquisitions: 3, contentions: 0 });
    expect(stats[101]).toMatchObject({ name: 'high_class_2', acquisitions: 1 });
    expect(stats.slice(0, 100).every((s) => s.acquisitions === 0)).toBe(true);
  });

  it('a gate class with an id past 31 suppresses the ABBA taken under it, until one order is seen without it', () => {
    const w = world();
    for (let c = 0; c < 500; c++) w.table.defineClass(`filler_${c}`, true);
    const gate = w.mutex('gate_lock');
    const a = w.mutex('a_lock');
    const b = w.mutex('b_lock');
    expect(w.classOf(gate)).toBe(500);
    w.nest([gate, a, b]);
    w.nest([gate, b, a]);
    expect(w.graph.poll()).toEqual([]);
    expect(w.graph.graph.gateOf(w.classOf(a), w.classOf(b))).toEqual([500]);
    w.nest([a, b]);
    const cycles = w.graph.poll();
    expect(cycles.map((c) => c.classes)).toEqual([[w.classOf(b), w.classOf(a)]]);
    expect(w.graph.poll()).toEqual([]);
  });

  it('the gate keeps the outermost 8 held classes; one left out can only make the cycle reportable', () => {
    const w = world();
    const gates = Array.from({ length: 10 }, (_, i) => w.mutex(`g${i}`));
    const a = w.mutex('a_lock');
    const b = w.mutex('b_lock');
    // Both orders under all ten gate locks: the first 8 stored entries suppress the cycle.
    w.nest([...gates, a, b]);
    w.nest([...gates, b, a]);
    expect(w.graph.poll()).toEqual([]);
    const base = findEdge(w.memory, w.classOf(a), w.classOf(b));
    expect(readGate(w.memory, base)).toEqual(gates.slice(0, kMaxEdgeGate).map(w.classOf));
    // Under g9 only (not stored for a -> b): the true gates share g9, the stored ones do not, and the
    // cycle is reported: a left-out entry reports more, it never hides.
    const w2 = world();
    const gates2 = Array.from({ length: 10 }, (_, i) => w2.mutex(`g${i}`));
    const a2 = w2.mutex('a_lock');
    const b2 = w2.mutex('b_lock');
    w2.nest([...gates2, a2, b2]);
    w2.nest([gates2[9] as FutexMutex, b2, a2]);
    expect(w2.graph.poll().map((c) => c.classes)).toEqual([[w2.classOf(a2), w2.classOf(b2)]]);
  });

  it('a full edge table counts the edges it drops, once per thread, and corrupts nothing', () => {
    const w = world({ ...kRoomy, edges: 16 });
    const locks = Array.from({ length: 8 }, (_, i) => w.mutex(`L${i}`));
    const after = w.memory.layout.edgeLog + w.memory.layout.capacities.edges;
    const before = Array.from(w.memory.i32.subarray(after, after + 4096));
    // All 28 ordered pairs i < j: no cycle, 28 edges for 16 slots.
    const sweep = (): void => {
      for (let i = 0; i < 8; i++) for (let j = i + 1; j < 8; j++) w.nest([locks[i] as FutexMutex, locks[j] as FutexMutex]);
    };
    sweep();
    expect(droppedEdgeCount(w.memory)).toBe(12);
    sweep();
    expect(droppedEdgeCount(w.memory)).toBe(12);
    // Every stored edge reads back whole, and is one of the edges made.
    expect(w.graph.poll()).toEqual([]);
    const edges = w.graph.graph.edges();
    expect(edges).toHaveLength(16);
    for (const e of edges) {
      expect(e.from).toBeLessThan(e.to);
      expect(e.fromSite).toBe(`take_${e.from}`);
      expect(e.toSite).toBe(`take_${e.to}`);
    }
    expect(edges.map((e) => e.seq)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    // The regions after the edge table (refcounts, slots, words, findings) are untouched, and the
    // lock records before it still read back.
    expect(Array.from(w.memory.i32.subarray(after, after + 4096))).toEqual(before);
    expect(locks.map((l) => w.strings.lookup(w.memory.i32[w.memory.layout.classes + w.classOf(l) * kClassWords] ?? 0))).toEqual(
      locks.map((_, i) => `L${i}`),
    );
    // Another thread that meets a dropped edge counts it once more.
    const dropped: Array<[number, number]> = [];
    for (let i = 0; i < 8; i++) for (let j = i + 1; j < 8; j++) if (findEdge(w.memory, i, j) < 0) dropped.push([i, j]);
    expect(dropped).toHaveLength(12);
    const [from = 0, to = 0] = dropped[0] ?? [];
    const tracker1 = new LockTracker(w.memory, w.strings, w.log, 1);
    const onThread1 = [from, to].map((c) => new FutexMutex(w.memory, locks[c]?.id ?? 0, 1, tracker1));
    w.nest(onThread1);
    w.nest(onThread1);
    expect(droppedEdgeCount(w.memory)).toBe(13);
    // A reset empties the table and the count.
    resetSharedLockOrderGraph(w.memory);
    expect(droppedEdgeCount(w.memory)).toBe(0);
    sweep();
    expect(droppedEdgeCount(w.memory)).toBe(12);
    expect(w.log.drain().records).toEqual([]);
  });

  it('the 49th held lock is a LimitError naming the thread and the limit, and is not taken', () => {
    const w = world();
    const locks = Array.from({ length: kMaxHeldLocks + 1 }, (_, i) => w.mutex(`deep${i}`));
    for (const l of locks.slice(0, kMaxHeldLocks)) l.lock('descend');
    const last = locks[kMaxHeldLocks] as FutexMutex;
    expect(() => last.lock('too_deep')).toThrow(LimitError);
    expect(() => last.lock('too_deep')).toThrow(
      /^thread 0 already holds 48 locks and takes deep48#0 at too_deep: lockstress's limit is 48 held locks/,
    );
    expect(last.ownerThread()).toBe(-1);
    for (const l of locks.slice(0, kMaxHeldLocks).reverse()) l.unlock('climb');
    expect(w.log.drain().records).toEqual([]);
    // 47 nested edges, no cycle.
    expect(w.graph.poll()).toEqual([]);
    expect(w.graph.graph.edges()).toHaveLength(kMaxHeldLocks - 1);
  });

  it('a 49th lock that is a ticket lock held by another thread is a LimitError, and takes no ticket', () => {
    const w = world();
    const locks = Array.from({ length: kMaxHeldLocks }, (_, i) => w.mutex(`deep${i}`));
    for (const l of locks) l.lock('descend');
    const id = w.table.defineLock(LockKind.TicketSpinLock, 'ticket', 'ticket#0');
    const theirs = new TicketSpinLock(w.memory, id, 1, null);
    theirs.lock();
    const mine = new TicketSpinLock(w.memory, id, 0, w.trackers[0] ?? null);
    expect(() => mine.lock('too_deep')).toThrow(/^thread 0 already holds 48 locks and takes ticket#0 at too_deep/);
    // Had it taken a ticket, the next one served would be thread 0's, not a new try.
    theirs.unlock();
    expect(theirs.tryLock()).toBe(true);
    theirs.unlock();
    for (const l of locks.slice().reverse()) l.unlock('climb');
    expect(w.log.drain().records).toEqual([]);
  });
});
