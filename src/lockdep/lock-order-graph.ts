/**
 * The lock-order graph: lockdep's main-thread half.
 *
 * The workers' LockTracker learns one edge (class held on top) -> (class being taken) into shared
 * memory at every nested acquire. This file turns those edges into "possible circular locking
 * dependency" reports without needing the deadlock to happen: a cycle of lock classes in the order
 * graph means two threads running the two halves at the same time could deadlock.
 *
 * - {@link LockOrderGraph} is pure data (testable on plain objects): each added edge is checked for
 *   the smallest cycle it closes, the way lockdep's check_noncircular() runs a BFS from the new lock
 *   back to the held one.
 * - Gate locks (GoodLock, Havelund 2000): every edge carries the classes held around it every time
 *   it was seen. If one class gates every edge of a cycle, the two halves cannot run together and
 *   the cycle cannot deadlock, so it is not reported. The kernel's lockdep has no such rule (it
 *   reports gated cycles too); we add it because a stress tester must not cry wolf.
 * - Each distinct cycle is reported once per graph, like lockdep's once-only splat per chain.
 * - {@link SharedLockOrderGraph} reads the edge records out of the SharedArrayBuffer and feeds
 *   the graph; call its poll() as often as you like (at most 32 x 32 records).
 */
import {
  type SharedMemory,
  edgeBase,
  kEdgeFromSite,
  kEdgeGateMask,
  kEdgeReady,
  kEdgeRound,
  kEdgeSeq,
  kEdgeThread,
  kEdgeToSite,
  kMaxLockClasses,
} from '../layout.js';
import { classCount } from '../primitives/lock-table.js';
import type { StringTable } from '../primitives/string-table.js';

/** One learned lock-order edge: `from` was held (on top of the stack) while `to` was taken. */
export interface OrderEdge {
  /** Class held (0..31). */
  from: number;
  /** Class taken (0..31). */
  to: number;
  /** Where `from` was taken, the first time the edge was seen. */
  fromSite: string;
  /** Where `to` was taken, the first time the edge was seen. */
  toSite: string;
  /** Thread that first made the edge. */
  thread: number;
  /** Round in which the edge was first seen. */
  round: number;
  /** Classes held around the edge every time it was seen (bit per class); 0 = no gate. */
  gateMask: number;
  /** Order in which edges were learned (0 first). */
  seq: number;
}

/** A lock-order cycle, in the order lockdep prints it. */
export interface LockOrderCycle {
  /**
   * Classes in cycle order, starting at the target of the closing edge (the lock being acquired),
   * e.g. [group_lock, dev_set->lock, guests_lock, kvm->lock] for the splat of kernel-model.md §6.3.
   */
  classes: number[];
  /** edges[i] goes classes[i] -> classes[(i + 1) % n]; the last edge is the closing one. */
  edges: OrderEdge[];
  /** The edge whose addition (or whose gate shrinking) closed the cycle. */
  closing: OrderEdge;
}

/**
 * Node expansions one search may make before giving up on that edge. Only a dense graph whose
 * cycles are all gated gets near it; a later edge or gate change searches again.
 */
const kSearchBudget = 200_000;

export class LockOrderGraph {
  /** Edges by key from * 32 + to. */
  private readonly byKey = new Map<number, OrderEdge>();
  /** out[c]: bit mask of the classes c has an edge to. */
  private readonly out = new Int32Array(kMaxLockClasses);
  /** Canonical keys of the cycles already returned. */
  private readonly reported = new Set<string>();

  /**
   * Adds an edge and returns a new, ungated cycle it closes (the smallest such), or null. An edge
   * that is already known is treated as a new sighting: its gate mask is ANDed in (see updateGate).
   * A self-edge (a class under itself) is recursion, reported by the tracker, and is ignored here.
   */
  addEdge(e: OrderEdge): LockOrderCycle | null {
    checkClass(e.from);
    checkClass(e.to);
    if (e.from === e.to) return null;
    const key = edgeKey(e.from, e.to);
    if (this.byKey.has(key)) return this.updateGate(e.from, e.to, e.gateMask);
    const edge = { ...e };
    this.byKey.set(key, edge);
    this.out[e.from] = (this.out[e.from] ?? 0) | (1 << e.to);
    return this.findCycle(edge);
  }

  /**
   * Narrows the gate mask of a known edge (masks only shrink: the new one is ANDed in). When it
   * shrank, cycles through the edge are searched again and a newly unblocked one is returned.
   */
  updateGate(from: number, to: number, gateMask: number): LockOrderCycle | null {
    const edge = this.byKey.get(edgeKey(from, to));
    if (edge === undefined) throw new RangeError(`no lock-order edge ${from} -> ${to} to update`);
    const narrowed = edge.gateMask & gateMask;
    if (narrowed === edge.gateMask) return null;
    edge.gateMask = narrowed;
    return this.findCycle(edge);
  }

  /** Whether the edge from -> to is known. */
  hasEdge(from: number, to: number): boolean {
    return this.byKey.has(edgeKey(from, to));
  }

  /** The gate mask of a known edge, or undefined. */
  gateOf(from: number, to: number): number | undefined {
    return this.byKey.get(edgeKey(from, to))?.gateMask;
  }

  /** Every edge, in the order learned. Copies. */
  edges(): OrderEdge[] {
    return [...this.byKey.values()].sort((a, b) => a.seq - b.seq).map((e) => ({ ...e }));
  }

  /** Forgets every edge and every reported cycle. */
  reset(): void {
    this.byKey.clear();
    this.out.fill(0);
    this.reported.clear();
  }

  /**
   * The smallest cycle through `closing` whose gate masks AND to 0 and that was not reported yet:
   * a simple path closing.to -> ... -> closing.from, searched by iterative deepening (paths of
   * length L before L + 1), pruned by the distance to closing.from. Marks the result reported.
   */
  private findCycle(closing: OrderEdge): LockOrderCycle | null {
    const start = closing.to;
    const goal = closing.from;
    const dist = this.distancesTo(goal);
    const first = dist[start] ?? -1;
    if (first < 0) return null;
    // A gate bit held by every edge that could be on such a path can never be cleared.
    if ((closing.gateMask & this.reachableGateAnd(start, goal, dist)) !== 0) return null;

    const path: number[] = [start];
    let budget = kSearchBudget;
    const result: { path: number[] | null } = { path: null };

    // Depth-first over simple paths of exactly `length` edges; `gate` is the running AND.
    const walk = (node: number, visited: number, gate: number, length: number): boolean => {
      if (--budget < 0) return true;
      const left = length - (path.length - 1);
      if (node === goal) {
        if (left !== 0 || gate !== 0) return false;
        const key = canonicalKey(path);
        if (this.reported.has(key)) return false;
        result.path = [...path];
        return true;
      }
      let next = (this.out[node] ?? 0) & ~visited;
      while (next !== 0) {
        const bit = next & -next;
        next ^= bit;
        const to = 31 - Math.clz32(bit);
        const d = dist[to] ?? -1;
        if (d < 0 || d > left - 1) continue;
        const edge = this.byKey.get(edgeKey(node, to));
        if (edge === undefined) continue;
        path.push(to);
        const stop = walk(to, visited | bit, gate & edge.gateMask, length);
        path.pop();
        if (stop) return true;
      }
      return false;
    };

    for (let length = first; length < kMaxLockClasses && result.path === null && budget > 0; length++) {
      walk(start, 1 << start, closing.gateMask, length);
    }
    const classes = result.path;
    if (classes === null) return null;
    this.reported.add(canonicalKey(classes));
    const edges: OrderEdge[] = [];
    for (let i = 0; i < classes.length; i++) {
      const from = classes[i] ?? 0;
      const to = classes[(i + 1) % classes.length] ?? 0;
      const edge = this.byKey.get(edgeKey(from, to));
      if (edge !== undefined) edges.push({ ...edge });
    }
    return { classes, edges, closing: { ...closing } };
  }

  /** Edges from each class to `goal` (reverse BFS); -1 when it cannot reach it. */
  private distancesTo(goal: number): Int32Array {
    const dist = new Int32Array(kMaxLockClasses).fill(-1);
    dist[goal] = 0;
    let frontier = 1 << goal;
    let seen = frontier;
    for (let d = 1; frontier !== 0; d++) {
      let next = 0;
      for (let c = 0; c < kMaxLockClasses; c++) {
        if ((seen & (1 << c)) === 0 && ((this.out[c] ?? 0) & frontier) !== 0) {
          dist[c] = d;
          next |= 1 << c;
        }
      }
      seen |= next;
      frontier = next;
    }
    return dist;
  }

  /** AND of the gate masks of every edge that lies on some path start -> ... -> goal. */
  private reachableGateAnd(start: number, goal: number, dist: Int32Array): number {
    let reach = 1 << start;
    let frontier = reach;
    while (frontier !== 0) {
      let next = 0;
      for (let c = 0; c < kMaxLockClasses; c++) {
        if ((frontier & (1 << c)) !== 0 && c !== goal) next |= this.out[c] ?? 0;
      }
      frontier = next & ~reach;
      reach |= next;
    }
    let gate = -1;
    for (const e of this.byKey.values()) {
      const onPath = (reach & (1 << e.from)) !== 0 && e.from !== goal && (dist[e.to] ?? -1) >= 0;
      if (onPath) gate &= e.gateMask;
    }
    return gate;
  }
}

/**
 * Reads the lock-order edges the workers learned into shared memory and reports new cycles.
 * Main thread. Notices a reset of the shared graph (resetLockOrderGraph) and starts over.
 */
export class SharedLockOrderGraph {
  readonly graph = new LockOrderGraph();
  /** Raw kEdgeSeq of each known edge, by from * 32 + to; 0 = unknown. */
  private readonly seen = new Int32Array(kMaxLockClasses * kMaxLockClasses);

  constructor(
    private readonly memory: SharedMemory,
    private readonly strings: StringTable,
  ) {}

  /** New cycles since the last poll (new edges in the order learned, then narrowed gates). */
  poll(): LockOrderCycle[] {
    const { i32, layout } = this.memory;
    const classes = Math.min(classCount(this.memory), kMaxLockClasses);
    const fresh: OrderEdge[] = [];
    const narrowed: Array<{ from: number; to: number; gateMask: number }> = [];
    for (let from = 0; from < classes; from++) {
      for (let to = 0; to < classes; to++) {
        const base = edgeBase(layout, from, to);
        const key = edgeKey(from, to);
        const known = this.seen[key] ?? 0;
        // Sequence number + 1 once complete; -1 while its first writer fills it in; 0 = none.
        const seq = Atomics.load(i32, base + kEdgeSeq);
        if (known !== 0 && seq !== known) {
          // The shared graph was reset under us: forget everything and read it afresh.
          this.reset();
          return this.poll();
        }
        if (seq <= 0 || Atomics.load(i32, base + kEdgeReady) !== 1) continue;
        const gateMask = Atomics.load(i32, base + kEdgeGateMask);
        if (known !== 0) {
          const current = this.graph.gateOf(from, to);
          if (current !== undefined && (current & gateMask) !== current) narrowed.push({ from, to, gateMask });
          continue;
        }
        this.seen[key] = seq;
        fresh.push({
          from,
          to,
          fromSite: this.strings.lookup(Atomics.load(i32, base + kEdgeFromSite)),
          toSite: this.strings.lookup(Atomics.load(i32, base + kEdgeToSite)),
          thread: Atomics.load(i32, base + kEdgeThread),
          round: Atomics.load(i32, base + kEdgeRound),
          gateMask,
          seq: seq - 1,
        });
      }
    }
    const cycles: LockOrderCycle[] = [];
    for (const edge of fresh.sort((a, b) => a.seq - b.seq)) {
      const cycle = this.graph.addEdge(edge);
      if (cycle !== null) cycles.push(cycle);
    }
    for (const { from, to, gateMask } of narrowed) {
      const cycle = this.graph.updateGate(from, to, gateMask);
      if (cycle !== null) cycles.push(cycle);
    }
    return cycles;
  }

  /** Forgets every edge read so far (the next poll reads them all again and may re-report). */
  reset(): void {
    this.graph.reset();
    this.seen.fill(0);
  }
}

function edgeKey(from: number, to: number): number {
  return from * kMaxLockClasses + to;
}

function checkClass(cls: number): void {
  if (!Number.isInteger(cls) || cls < 0 || cls >= kMaxLockClasses) {
    throw new RangeError(`lock class ${cls} is outside 0..${kMaxLockClasses - 1}`);
  }
}

/** The cycle rotated so that its smallest class comes first, as a string. */
function canonicalKey(classes: readonly number[]): string {
  let at = 0;
  for (let i = 1; i < classes.length; i++) if ((classes[i] ?? 0) < (classes[at] ?? 0)) at = i;
  return [...classes.slice(at), ...classes.slice(0, at)].join(',');
}
