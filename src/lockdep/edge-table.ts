/**
 * The shared lock-order edge table: every lock-class dependency `from -> to` the workers saw ("a
 * lock of class `from` was held, on top of the stack, while one of class `to` was taken"), with the
 * sites of its first sighting and its gate, in an open-addressing hash table inside the
 * SharedArrayBuffer. LockTracker writes it on every nested acquire; SharedLockOrderGraph
 * (lock-order-graph.ts) reads it on the main thread.
 *
 * Algorithm: linear probing (Knuth, TAOCP vol. 3, 6.4, algorithm L) over `capacities.edges` slots, a
 * power of two, from a multiplicative hash of the key `from * kMaxLockClassesLimit + to + 1`; insert
 * only, so a probe that meets a free slot knows the key is absent. Probes stop after
 * {@link kMaxProbes} slots. The slot is claimed by one CAS, as lock-free hash sets do (Purcell and
 * Harris, "Non-blocking hashtables with open addressing", 2005, without deletion). Slot words
 * (src/layout.ts):
 *
 * | kEdgeKey | kEdgeSeq | kEdgeReady | state                                                        |
 * |----------|----------|------------|--------------------------------------------------------------|
 * | 0        | 0        | 0          | free                                                         |
 * | key      | 0 or -1  | 0          | claimed: its first writer is filling it in                   |
 * | key      | -1       | 1          | ready: every field written; from now on gate entries only drop |
 * | key      | seq + 1  | 1          | published: edge log word `seq` holds slot + 1                |
 *
 * Gate entries (kEdgeGate + i, i < kEdgeGateCount): a class id, or -1 once dropped. An entry goes
 * from a class to -1 at most once and never back; the count never changes after kEdgeReady.
 *
 * Dependency types (kEdgeDeps): lockdep's DEP_{SR,ER,SN,EN} bits (layout.ts `DepBit`): whether
 * `from` was held as a reader (S) or exclusively (E), and whether `to` was taken as a recursive
 * reader (R) or not (N). The first writer stores the type of its sighting; a later sighting of a
 * new type ORs it in (bits are only ever set) and marks the edge dirty like a gate drop, so the
 * main thread reads it again: one more type can make a cycle strong (lock-order-graph.ts).
 *
 * Operations:
 * - sight (every nested acquire): probe for the key. Found: wait until ready (below), then narrow.
 *   A free slot: CAS kEdgeKey 0 -> key. Won: this thread is the first writer; fill, then publish.
 *   Lost to the same key: a sighting of an edge being filled. Lost to another key: probe on.
 * - fill (first writer, slot claimed): kEdgeSeq = -1; the gate (see below) and its count; the two
 *   sites, the thread, the round; then kEdgeReady = 1.
 * - publish (first writer, after ready): seq = Atomics.add(kHeaderEdgeSeq, 1); kEdgeSeq = seq + 1;
 *   then edge log word seq = slot + 1. The main thread reads the log in order (readPublished).
 * - narrow (a later sighting holding the classes H under `from`, of type t): every entry not in H is
 *   set to -1, and t is ORed into kEdgeDeps if missing; if either changed, kEdgeGateDirty = 1, then
 *   kHeaderEdgeGateChanges += 1.
 * - a full table: the probe bound was reached with no free slot and no match. Nothing is written to
 *   any slot; the key is counted in kHeaderEdgesDropped once per thread (each thread remembers the
 *   keys it counted, for this table generation) and the sighting is lost. The runner reports it.
 * - reset ({@link resetSharedLockOrderGraph}): main thread, no worker inside a round.
 *
 * The gate: the classes held under `from` every time the edge was seen (Havelund's gate locks; see
 * lock-order-graph.ts). The first writer stores the classes it holds under `from`, outermost first,
 * at most {@link kMaxEdgeGate} of them; each later sighting drops the entries it does not hold.
 * Dropping commutes and is idempotent (every write is "this entry is -1"), so concurrent narrowings
 * need no lock and none is lost: the result is the first gate intersected with every H. Leaving out
 * classes beyond kMaxEdgeGate keeps a subset of the true gate, and a subset can only make a cycle
 * reportable, never hide one: a cycle is suppressed only when the gates of all its edges share a
 * class, and if the stored gates share a class, the true gates (supersets) share it too.
 *
 * Why no reader sees a half-written edge:
 * - the main thread learns of an edge only through its edge log word, which the first writer stores
 *   last; all stores are seq-cst, so a load that sees the log word sees every field;
 * - a sighter reads the gate only after loading kEdgeReady = 1, which is stored after the gate and
 *   its count. Until then it waits: spinning {@link kReadySpins} loads, then in timed slices of
 *   {@link kReadyYieldMs} (nobody notifies: the slice ends by itself, so no wake-up can be lost),
 *   giving up with RoundAborted on abort and WaitTimeout past the hard bound (bounded-wait.ts). It
 *   must wait: its narrowing would be lost if it ran before the entries it drops were written;
 * - after ready, a reader loads the entries one at a time while others may drop some. Each entry
 *   read has its value at some instant, and entries only drop, so the set read contains the gate as
 *   it was at the end of the read and is contained in the gate at its start. The hot path therefore
 *   skips the narrowing when every entry it read is held: the gate at the end of its read is a
 *   subset of what it read, hence of H, and gates only shrink.
 * - narrowing is noticed: the dropper stores -1, then the dirty flag, then bumps the counter. The
 *   main thread loads the counter, then for each dirty edge clears the flag before reading the gate.
 *   A drop it missed set the flag (again) and bumped the counter after that load: the next poll
 *   sees it.
 *
 * Cost: a nested acquire of a known edge whose gate does not change is a hash, one load of the key
 * (a second on a collision), kEdgeReady, kEdgeGateCount and the entries, all on one or two cache
 * lines that only change when the edge is learned or its gate shrinks; no CAS, no lock.
 *
 * Preconditions, not checked on the hot path: class ids below kMaxLockClassesLimit (the lock
 * table's LimitError keeps them there); `from !== to` (recursion is the tracker's finding).
 *
 * Kernel analogue: lockdep's dependency lists (`list_entries`, `add_lock_to_list` from
 * `check_prev_add`) behind its graph lock, and its `chainhash_table` that makes a known chain of
 * held locks cost one hash lookup. We keep no global lock: the CAS claims an edge, and gates drop
 * entries without one.
 */
import {
  type SharedMemory,
  edgeKeyOf,
  edgeSlotBase,
  DepBit,
  kEdgeDeps,
  kEdgeFromSite,
  kEdgeGate,
  kEdgeGateCount,
  kEdgeGateDirty,
  kEdgeKey,
  kEdgeReady,
  kEdgeRound,
  kEdgeSeq,
  kEdgeThread,
  kEdgeToSite,
  kEdgeWords,
  kHeaderEdgeGateChanges,
  kHeaderEdgeGeneration,
  kHeaderEdgeSeq,
  kHeaderEdgesDropped,
  kMaxEdgeGate,
  kMaxLockClassesLimit,
  wallClockMs,
} from '../layout.js';
import { waitSlice } from '../primitives/bounded-wait.js';
import { spinPause } from '../primitives/spin-pause.js';

/** Slots one lookup may probe before the table counts as full for that key. */
export const kMaxProbes = 128;
/** Loads of kEdgeReady before a sighter of an edge being filled starts to yield its core. */
export const kReadySpins = 256;
/** A yield while an edge is being filled: 50 µs (the fill is a dozen stores). */
export const kReadyYieldMs = 0.05;
/** Distinct dropped keys a thread remembers; past it, a dropped key may be counted again. */
const kMaxRememberedDrops = 65_536;

/** Slot index of a key's first probe. */
function homeSlot(key: number, mask: number): number {
  const h = Math.imul(key, 0x9e3779b1);
  return (h ^ (h >>> 16)) & mask;
}

/**
 * One thread's view of the edge table (the writer side). Holds no shared state; its only local
 * state is the set of keys it has counted as dropped.
 */
export class SharedEdgeTable {
  private readonly i32: Int32Array;
  private readonly header: number;
  private readonly slots: number;
  private readonly mask: number;
  private readonly probes: number;
  private dropped: Set<number> | null = null;
  private droppedGeneration = 0;

  /**
   * @param memory the shared buffer
   * @param thread the writing thread's index (stored in the edges it makes first)
   * @param siteId interns a site string; called only by a first writer, before its claim
   */
  constructor(
    private readonly memory: SharedMemory,
    private readonly thread: number,
    private readonly siteId: (site: string) => number,
  ) {
    const { layout } = memory;
    this.i32 = memory.i32;
    this.header = layout.header;
    this.slots = layout.edges;
    this.mask = layout.capacities.edges - 1;
    this.probes = Math.min(kMaxProbes, layout.capacities.edges);
  }

  /**
   * A sighting of `from -> to` with `held[0..heldCount)` the classes held under `from` (outermost
   * first) and dependency type `dep` (a {@link DepBit}; EN for two exclusive locks): learns the edge
   * if new, else narrows its gate and adds the type. `fromSite` is the string id of the site where
   * `from` was taken; `toSite` is interned only if this sighting is the first.
   */
  sight(from: number, to: number, held: Int32Array, heldCount: number, fromSite: number, toSite: string, dep: number = DepBit.EN): void {
    const { i32, mask } = this;
    const key = edgeKeyOf(from, to);
    if (this.dropped !== null && this.wasDropped(key)) return;
    let slot = homeSlot(key, mask);
    for (let probe = 0; probe < this.probes; probe++) {
      const base = this.slots + slot * kEdgeWords;
      let seen = Atomics.load(i32, base + kEdgeKey);
      if (seen === key) return this.narrow(base, held, heldCount, dep);
      if (seen === 0) {
        // Intern before claiming: a claimed slot must be filled without anything that can throw.
        const toSiteId = this.siteId(toSite);
        seen = Atomics.compareExchange(i32, base + kEdgeKey, 0, key);
        if (seen === 0) return this.fillAndPublish(base, slot, from, held, heldCount, fromSite, toSiteId, dep);
        if (seen === key) return this.narrow(base, held, heldCount, dep);
      }
      slot = (slot + 1) & mask;
    }
    this.countDropped(key);
  }

  private fillAndPublish(
    base: number,
    slot: number,
    from: number,
    held: Int32Array,
    heldCount: number,
    fromSite: number,
    toSite: number,
    dep: number,
  ): void {
    const { i32 } = this;
    Atomics.store(i32, base + kEdgeSeq, -1);
    Atomics.store(i32, base + kEdgeDeps, dep);
    let count = 0;
    for (let i = 0; i < heldCount && count < kMaxEdgeGate; i++) {
      const cls = held[i] ?? -1;
      if (cls < 0 || cls === from || gateHas(i32, base, count, cls)) continue;
      Atomics.store(i32, base + kEdgeGate + count, cls);
      count++;
    }
    Atomics.store(i32, base + kEdgeGateCount, count);
    Atomics.store(i32, base + kEdgeFromSite, fromSite);
    Atomics.store(i32, base + kEdgeToSite, toSite);
    Atomics.store(i32, base + kEdgeThread, this.thread);
    Atomics.store(i32, base + kEdgeRound, this.memory.roundOf(this.thread));
    // Ready: sighters may now read the gate and drop entries.
    Atomics.store(i32, base + kEdgeReady, 1);
    const seq = Atomics.add(i32, this.header + kHeaderEdgeSeq, 1);
    Atomics.store(i32, base + kEdgeSeq, seq + 1);
    // Last: the main thread finds the edge through this word (one per slot, so seq < capacity).
    Atomics.store(i32, this.memory.layout.edgeLog + seq, slot + 1);
  }

  private narrow(base: number, held: Int32Array, heldCount: number, dep: number): void {
    const { i32 } = this;
    if (Atomics.load(i32, base + kEdgeReady) !== 1) this.awaitReady(base);
    const count = Atomics.load(i32, base + kEdgeGateCount);
    // A type not seen before is ORed in (bits only ever get set; a racing OR of the same bit is harmless).
    let dropped = (Atomics.load(i32, base + kEdgeDeps) & dep) === 0;
    if (dropped) Atomics.or(i32, base + kEdgeDeps, dep);
    for (let g = 0; g < count; g++) {
      const cls = Atomics.load(i32, base + kEdgeGate + g);
      if (cls < 0) continue;
      let isHeld = false;
      for (let i = 0; i < heldCount; i++) {
        if (held[i] === cls) {
          isHeld = true;
          break;
        }
      }
      if (isHeld) continue;
      Atomics.store(i32, base + kEdgeGate + g, -1);
      dropped = true;
    }
    if (!dropped) return;
    Atomics.store(i32, base + kEdgeGateDirty, 1);
    Atomics.add(i32, this.header + kHeaderEdgeGateChanges, 1);
  }

  /** Waits, bounded, for the first writer of a claimed edge to mark it ready. */
  private awaitReady(base: number): void {
    const { i32 } = this;
    const ready = base + kEdgeReady;
    for (let spin = 0; spin < kReadySpins; spin++) {
      if (Atomics.load(i32, ready) === 1) return;
      spinPause(i32, ready, 4);
    }
    const started = wallClockMs();
    const key = Atomics.load(i32, base + kEdgeKey) - 1;
    const what = `lock-order edge ${Math.floor(key / kMaxLockClassesLimit)} -> ${key % kMaxLockClassesLimit} (waiting for its first writer)`;
    // Each pass sleeps at most kReadyYieldMs; waitSlice throws on abort and past the hard bound.
    while (Atomics.load(i32, ready) !== 1) waitSlice(this.memory, ready, 0, started, what, kReadyYieldMs);
  }

  private wasDropped(key: number): boolean {
    const generation = Atomics.load(this.i32, this.header + kHeaderEdgeGeneration);
    if (generation !== this.droppedGeneration) {
      this.dropped = null;
      return false;
    }
    return this.dropped?.has(key) ?? false;
  }

  private countDropped(key: number): void {
    const generation = Atomics.load(this.i32, this.header + kHeaderEdgeGeneration);
    if (this.dropped === null || generation !== this.droppedGeneration) {
      this.dropped = new Set();
      this.droppedGeneration = generation;
    }
    if (this.dropped.has(key)) return;
    if (this.dropped.size < kMaxRememberedDrops) this.dropped.add(key);
    Atomics.add(this.i32, this.header + kHeaderEdgesDropped, 1);
  }
}

function gateHas(i32: Int32Array, base: number, count: number, cls: number): boolean {
  for (let g = 0; g < count; g++) if (Atomics.load(i32, base + kEdgeGate + g) === cls) return true;
  return false;
}

// ---- Read side (any thread; the main thread's SharedLockOrderGraph) -----------------------------

/** A published edge as stored: ids, not strings. */
export interface StoredEdge {
  from: number;
  to: number;
  fromSite: number;
  toSite: number;
  thread: number;
  round: number;
  /** Sequence number (0 first). */
  seq: number;
  /** Gate classes, ascending. */
  gate: number[];
  /** {@link DepBit} bits the edge was seen with. */
  deps: number;
}

/** The edge `from` and `to` of a slot's key word (which must be non-zero). */
export function edgeEnds(key: number): { from: number; to: number } {
  return { from: Math.floor((key - 1) / kMaxLockClassesLimit), to: (key - 1) % kMaxLockClassesLimit };
}

/** The gate of the ready edge at slot base `base`, ascending. */
export function readGate(memory: SharedMemory, base: number): number[] {
  const { i32 } = memory;
  const count = Math.min(Math.max(Atomics.load(i32, base + kEdgeGateCount), 0), kMaxEdgeGate);
  const gate: number[] = [];
  for (let g = 0; g < count; g++) {
    const cls = Atomics.load(i32, base + kEdgeGate + g);
    if (cls >= 0) gate.push(cls);
  }
  return gate.sort((a, b) => a - b);
}

/** Edges published so far (kHeaderEdgeSeq): the edge log words below it are, or are about to be, set. */
export function publishedEdgeCount(memory: SharedMemory): number {
  return Atomics.load(memory.i32, memory.layout.header + kHeaderEdgeSeq);
}

/** Slot base of the edge with sequence number `seq`, or -1 while its writer has not logged it yet. */
export function loggedEdgeBase(memory: SharedMemory, seq: number): number {
  const slot = Atomics.load(memory.i32, memory.layout.edgeLog + seq) - 1;
  return slot < 0 ? -1 : edgeSlotBase(memory.layout, slot);
}

/** Reads a published edge (its log word was seen, so every field is written). */
export function readStoredEdge(memory: SharedMemory, base: number): StoredEdge {
  const { i32 } = memory;
  return {
    ...edgeEnds(Atomics.load(i32, base + kEdgeKey)),
    fromSite: Atomics.load(i32, base + kEdgeFromSite),
    toSite: Atomics.load(i32, base + kEdgeToSite),
    thread: Atomics.load(i32, base + kEdgeThread),
    round: Atomics.load(i32, base + kEdgeRound),
    seq: Atomics.load(i32, base + kEdgeSeq) - 1,
    gate: readGate(memory, base),
    deps: readDeps(memory, base),
  };
}

/** The dependency types of the ready edge at slot base `base`. */
export function readDeps(memory: SharedMemory, base: number): number {
  return Atomics.load(memory.i32, base + kEdgeDeps);
}

/** Slot base of the edge from -> to, or -1 if the table has no such edge (claimed counts). */
export function findEdge(memory: SharedMemory, from: number, to: number): number {
  const { i32, layout } = memory;
  const key = edgeKeyOf(from, to);
  const mask = layout.capacities.edges - 1;
  let slot = homeSlot(key, mask);
  for (let probe = 0; probe < Math.min(kMaxProbes, layout.capacities.edges); probe++) {
    const base = edgeSlotBase(layout, slot);
    const seen = Atomics.load(i32, base + kEdgeKey);
    if (seen === key) return base;
    if (seen === 0) return -1;
    slot = (slot + 1) & mask;
  }
  return -1;
}

/** Edges dropped because the table was full (see kHeaderEdgesDropped for how they are counted). */
export function droppedEdgeCount(memory: SharedMemory): number {
  return Atomics.load(memory.i32, memory.layout.header + kHeaderEdgesDropped);
}

/**
 * Empties the edge table and its log and bumps the generation, so every reader starts over.
 * Main thread, with no worker inside a round (plain fills: nobody else touches these words now,
 * and the generation bump, seq-cst, orders them before whatever starts the next round).
 */
export function resetSharedLockOrderGraph(memory: SharedMemory): void {
  const { i32, layout } = memory;
  i32.fill(0, layout.edges, layout.edgeLog + layout.capacities.edges);
  Atomics.store(i32, layout.header + kHeaderEdgeSeq, 0);
  Atomics.store(i32, layout.header + kHeaderEdgesDropped, 0);
  Atomics.store(i32, layout.header + kHeaderEdgeGateChanges, 0);
  Atomics.add(i32, layout.header + kHeaderEdgeGeneration, 1);
}
