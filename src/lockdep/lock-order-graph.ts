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
 *   it was seen (a set of class ids). If one class gates every edge of a cycle, the two halves
 *   cannot run together and the cycle cannot deadlock, so it is not reported. The kernel's lockdep
 *   has no such rule (it reports gated cycles too); we add it because a stress tester must not cry
 *   wolf.
 * - Read/write dependency types (lockdep since v5.10, Boqun Feng's "recursive read" work): every
 *   edge carries the set of types it was seen with, DEP_{SR,ER,SN,EN} (layout.ts `DepBit`): S or E
 *   says whether the held lock was a reader, R or N whether the new one was a recursive reader. A
 *   cycle is a deadlock only if it is a *strong* cycle: no class in it is entered by an -(*R)->
 *   edge and left by an -(S*)-> edge (two readers of one lock do not wait for each other, so such a
 *   junction cannot block). The search is lockdep's BFS with `only_xr`: a path that arrived at a
 *   class only through -(*R)-> types may leave it only through -(E*)-> types. The closing edge's
 *   types are tried one by one, each fixing the junctions at both of its ends. Simple paths
 *   suffice: a strong closed walk that repeats a class contains a strong simple cycle (the loop at
 *   the repeated class leaves it through an -(E*)-> edge, so its own junction there is strong), and
 *   that cycle is reported by itself. Edges without types (plain objects in tests) are -(EN)->, the
 *   exclusive locks of lockdep before v5.10.
 * - Each distinct cycle is reported once per graph, like lockdep's once-only splat per chain.
 * - Classes are ids below the graph's class limit (at most kMaxLockClassesLimit, 8192); the graph
 *   keeps adjacency lists both ways, so its cost follows the edges, not the classes.
 * - {@link SharedLockOrderGraph} reads the edge table (edge-table.ts) out of the SharedArrayBuffer
 *   and feeds the graph. Its poll() costs three loads when nothing changed, reads only the edges
 *   published since the last poll, and revisits known edges only after some gate shrank.
 */
import {
  type SharedMemory,
  DepBit,
  classBase,
  kClassUsage,
  kClassUsageSeq,
  kClassUsageSite,
  kClassUsageThread,
  kEdgeGateDirty,
  kEdgeKey,
  kHeaderEdgeGateChanges,
  kHeaderEdgeGeneration,
  kHeaderUsageChanges,
  kMaxLockClassesLimit,
} from '../layout.js';
import { classCount } from '../primitives/lock-table.js';
import { arrivesRecursive, depsOf, kFromExclusive, kTypesStrongestFirst, strongTypes } from './dependency-types.js';
import { type ClassUsage, type IrqInversion, findIrqInversions } from './irq-usage.js';

export { arrivesRecursive, depsOf, strongTypes } from './dependency-types.js';
import type { StringTable } from '../primitives/string-table.js';
import { edgeEnds, loggedEdgeBase, publishedEdgeCount, readDeps, readGate, readStoredEdge } from './edge-table.js';

export { resetSharedLockOrderGraph } from './edge-table.js';

/** One learned lock-order edge: `from` was held (on top of the stack) while `to` was taken. */
export interface OrderEdge {
  /** Class held. */
  from: number;
  /** Class taken. */
  to: number;
  /** Where `from` was taken, the first time the edge was seen. */
  fromSite: string;
  /** Where `to` was taken, the first time the edge was seen. */
  toSite: string;
  /** Thread that first made the edge. */
  thread: number;
  /** Round in which the edge was first seen. */
  round: number;
  /** Classes held around the edge every time it was seen, ascending; [] = no gate. */
  gate: number[];
  /** Order in which edges were learned (0 first). */
  seq: number;
  /** {@link DepBit} types the edge was seen with; absent = EN (both exclusive). */
  deps?: number;
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
  /** The dependency type (one {@link DepBit}) each edge takes in this strong cycle, as `edges`. */
  deps: number[];
}

/**
 * Edges one search may consider before giving up on that edge. Only a dense graph whose cycles are
 * all gated gets near it; a later edge or gate change searches again.
 */
const kSearchBudget = 200_000;

const kNoGate: readonly number[] = [];

export class LockOrderGraph {
  /** Edges by key from * kMaxLockClassesLimit + to. */
  private readonly byKey = new Map<number, OrderEdge>();
  /** outEdges[c]: the edges out of class c, in the order learned. */
  private outEdges: Array<OrderEdge[] | undefined> = [];
  /** inFrom[c]: the classes with an edge to c. */
  private inFrom: Array<number[] | undefined> = [];
  /** gatedBy[g]: how many edges have class g in their gate. */
  private readonly gatedBy: Int32Array;
  /** Canonical keys of the cycles already returned. */
  private readonly reported = new Set<string>();
  /** Search scratch, by class: distance to the goal, valid where distStamp holds the search's stamp. */
  private readonly dist: Int32Array;
  private readonly distStamp: Uint32Array;
  /** Search scratch: classes reached forward, valid where reachStamp holds the search's stamp. */
  private readonly reachStamp: Uint32Array;
  private readonly queue: Int32Array;
  private stamp = 0;
  /** 1 for the classes on the path being searched (cleared again by every search). */
  private readonly onPath: Uint8Array;

  /** @param classLimit class ids must be below it (at most kMaxLockClassesLimit) */
  constructor(readonly classLimit: number = kMaxLockClassesLimit) {
    if (!Number.isInteger(classLimit) || classLimit < 1 || classLimit > kMaxLockClassesLimit) {
      throw new RangeError(`class limit ${classLimit} is outside 1..${kMaxLockClassesLimit}`);
    }
    this.gatedBy = new Int32Array(classLimit);
    this.dist = new Int32Array(classLimit);
    this.distStamp = new Uint32Array(classLimit);
    this.reachStamp = new Uint32Array(classLimit);
    this.queue = new Int32Array(classLimit);
    this.onPath = new Uint8Array(classLimit);
  }

  /**
   * Adds an edge and returns a new, ungated cycle it closes (the smallest such), or null. An edge
   * that is already known is treated as a new sighting: its gate is intersected (see updateGate).
   * A self-edge (a class under itself) is recursion, reported by the tracker, and is ignored here.
   */
  addEdge(e: OrderEdge): LockOrderCycle | null {
    this.checkClass(e.from);
    this.checkClass(e.to);
    if (e.from === e.to) return null;
    const key = edgeKey(e.from, e.to);
    if (this.byKey.has(key)) return this.updateEdge(e.from, e.to, e.gate, depsOf(e));
    const edge = { ...e, gate: normalizeGate(e.gate), deps: depsOf(e) };
    for (const g of edge.gate) this.checkClass(g);
    this.byKey.set(key, edge);
    (this.outEdges[e.from] ??= []).push(edge);
    (this.inFrom[e.to] ??= []).push(e.from);
    for (const g of edge.gate) this.gatedBy[g] = (this.gatedBy[g] ?? 0) + 1;
    return this.findCycle(edge);
  }

  /**
   * Narrows the gate of a known edge (gates only shrink: the new one is intersected in). When it
   * shrank, cycles through the edge are searched again and a newly unblocked one is returned.
   */
  updateGate(from: number, to: number, gate: readonly number[]): LockOrderCycle | null {
    return this.updateEdge(from, to, gate, 0);
  }

  /**
   * A new sighting of a known edge: its gate is intersected in and its types `deps` added. When
   * either changed, cycles through the edge are searched again and a newly found one is returned.
   */
  updateEdge(from: number, to: number, gate: readonly number[], deps: number): LockOrderCycle | null {
    const edge = this.byKey.get(edgeKey(from, to));
    if (edge === undefined) throw new RangeError(`no lock-order edge ${from} -> ${to} to update`);
    const narrowed = intersect(edge.gate, normalizeGate(gate));
    const types = depsOf(edge) | deps;
    if (narrowed.length === edge.gate.length && types === depsOf(edge)) return null;
    for (const g of edge.gate) this.gatedBy[g] = (this.gatedBy[g] ?? 0) - 1;
    for (const g of narrowed) this.gatedBy[g] = (this.gatedBy[g] ?? 0) + 1;
    edge.gate = narrowed;
    edge.deps = types;
    return this.findCycle(edge);
  }

  /** The edges out of class `c`, in the order learned (the graph's own objects: do not change them). */
  edgesFrom(c: number): readonly OrderEdge[] {
    return this.outEdges[c] ?? [];
  }

  /** Whether the edge from -> to is known. */
  hasEdge(from: number, to: number): boolean {
    return this.byKey.has(edgeKey(from, to));
  }

  /** The gate of a known edge (a copy, ascending), or undefined. */
  gateOf(from: number, to: number): number[] | undefined {
    const gate = this.byKey.get(edgeKey(from, to))?.gate;
    return gate === undefined ? undefined : [...gate];
  }

  /** Every edge, in the order learned. Copies. */
  edges(): OrderEdge[] {
    return [...this.byKey.values()].sort((a, b) => a.seq - b.seq).map(copyEdge);
  }

  /** Forgets every edge and every reported cycle. */
  reset(): void {
    this.byKey.clear();
    this.outEdges = [];
    this.inFrom = [];
    this.gatedBy.fill(0);
    this.reported.clear();
  }

  /**
   * The smallest cycle through `closing` whose gates intersect to nothing and that was not reported
   * yet: a simple path closing.to -> ... -> closing.from, searched by iterative deepening (paths of
   * length L before L + 1), pruned by the distance to closing.from. Marks the result reported.
   */
  private findCycle(closing: OrderEdge): LockOrderCycle | null {
    const start = closing.to;
    const goal = closing.from;
    if (this.outEdges[start] === undefined || this.inFrom[goal] === undefined) return null;
    // A class in the gate of every edge (a lock held around everything) gates every cycle.
    for (const g of closing.gate) if (this.gatedBy[g] === this.byKey.size) return null;
    const reached = this.distancesTo(goal);
    const first = this.distanceOf(start);
    if (first < 0) return null;
    // A gate class held by every edge that could be on such a path can never be cleared.
    if (closing.gate.length > 0 && this.hasCommonGate(start, goal, closing.gate)) return null;
    const budget = { left: kSearchBudget };
    let found: { classes: number[]; deps: number[] } | null = null;
    const closingDeps = depsOf(closing);
    for (const type of kTypesStrongestFirst) {
      if ((closingDeps & type) === 0) continue;
      // The closing edge taken as `type`: it arrives at `start` recursively or not, and the path
      // must arrive at `goal` non-recursively unless the closing edge leaves it exclusively.
      const startRecursive = arrivesRecursive(type);
      const goalNeedsN = (type & kFromExclusive) === 0;
      // A simple path visits each class that can reach the goal at most once.
      for (let length = first; length < reached && found === null && budget.left > 0; length++) {
        found = this.walk(start, goal, closing.gate, length, budget, startRecursive, goalNeedsN);
      }
      if (found !== null) {
        found.deps.push(type);
        break;
      }
    }
    if (found === null) return null;
    const { classes } = found;
    this.reported.add(canonicalKey(classes));
    const edges: OrderEdge[] = [];
    for (let i = 0; i < classes.length; i++) {
      const edge = this.byKey.get(edgeKey(classes[i] ?? 0, classes[(i + 1) % classes.length] ?? 0));
      if (edge !== undefined) edges.push(copyEdge(edge));
    }
    return { classes, edges, closing: copyEdge(closing), deps: found.deps };
  }

  /**
   * Depth-first, with an explicit stack (a cycle may be thousands of classes long), over simple
   * strong paths start -> ... -> goal of exactly `length` edges whose gates, with `gate0`,
   * intersect to nothing and that were not reported. The path starts as if it had arrived at
   * `start` recursively when `startRecursive`, and must arrive at `goal` non-recursively when
   * `goalNeedsN`. Returns the path's classes (start first, goal last) and the type each edge takes.
   */
  private walk(
    start: number,
    goal: number,
    gate0: readonly number[],
    length: number,
    budget: { left: number },
    startRecursive: boolean,
    goalNeedsN: boolean,
  ): { classes: number[]; deps: number[] } | null {
    const { onPath } = this;
    const nodes = [start];
    const gates = [gate0];
    const nextIndex = [0];
    const recursive = [startRecursive];
    const types: number[] = [];
    onPath[start] = 1;
    let found: { classes: number[]; deps: number[] } | null = null;
    while (nodes.length > 0 && found === null) {
      const depth = nodes.length - 1;
      const node = nodes[depth] ?? 0;
      const out = this.outEdges[node] ?? [];
      let i = nextIndex[depth] ?? 0;
      let advanced = false;
      while (i < out.length) {
        const edge = out[i++] as OrderEdge;
        const to = edge.to;
        if (--budget.left < 0) break;
        if (onPath[to] === 1) continue;
        const d = this.distanceOf(to);
        if (d < 0 || d > length - depth - 1) continue;
        const allowed = strongTypes(depsOf(edge), recursive[depth] === true);
        if (allowed === 0) continue;
        const arrivedR = arrivesRecursive(allowed);
        const type = pickType(allowed);
        const running = gates[depth] ?? kNoGate;
        const gate = running.length === 0 ? kNoGate : intersect(running, edge.gate);
        if (to === goal) {
          if (depth + 1 !== length || gate.length !== 0 || (goalNeedsN && arrivedR)) continue;
          const path = [...nodes, goal];
          if (this.reported.has(canonicalKey(path))) continue;
          found = { classes: path, deps: [...types, type] };
          break;
        }
        nextIndex[depth] = i;
        nodes.push(to);
        gates.push(gate);
        nextIndex.push(0);
        recursive.push(arrivedR);
        types.push(type);
        onPath[to] = 1;
        advanced = true;
        break;
      }
      if (budget.left < 0) break;
      if (!advanced && found === null) {
        onPath[node] = 0;
        nodes.pop();
        gates.pop();
        nextIndex.pop();
        recursive.pop();
        types.pop();
      }
    }
    for (const node of nodes) onPath[node] = 0;
    return found;
  }

  /**
   * Edges from each class to `goal`, by reverse BFS, into the dist scratch (read with distanceOf).
   * Returns how many classes reach the goal (the goal included).
   */
  private distancesTo(goal: number): number {
    const { dist, distStamp, queue } = this;
    const stamp = this.nextStamp();
    distStamp[goal] = stamp;
    dist[goal] = 0;
    queue[0] = goal;
    let tail = 1;
    for (let head = 0; head < tail; head++) {
      const c = queue[head] ?? 0;
      const d = (dist[c] ?? 0) + 1;
      for (const p of this.inFrom[c] ?? kNoGate) {
        if (distStamp[p] === stamp) continue;
        distStamp[p] = stamp;
        dist[p] = d;
        queue[tail++] = p;
      }
    }
    return tail;
  }

  /** Distance from `c` to the goal of the last distancesTo, or -1. */
  private distanceOf(c: number): number {
    return this.distStamp[c] === this.stamp ? (this.dist[c] ?? -1) : -1;
  }

  /**
   * Whether some class of `gate` is in the gate of every edge that lies on some path
   * start -> ... -> goal (those edges from classes reached from start, not through the goal, to
   * classes that reach the goal). Uses the dist scratch of the last distancesTo.
   */
  private hasCommonGate(start: number, goal: number, gate: readonly number[]): boolean {
    const { reachStamp, queue } = this;
    const stamp = this.stamp;
    let common = [...gate];
    reachStamp[start] = stamp;
    queue[0] = start;
    let tail = 1;
    for (let head = 0; head < tail; head++) {
      const c = queue[head] ?? 0;
      if (c === goal) continue;
      for (const edge of this.outEdges[c] ?? []) {
        const to = edge.to;
        if (this.distanceOf(to) >= 0) {
          common = intersect(common, edge.gate);
          if (common.length === 0) return false;
        }
        if (reachStamp[to] !== stamp) {
          reachStamp[to] = stamp;
          queue[tail++] = to;
        }
      }
    }
    return true;
  }

  private nextStamp(): number {
    if (this.stamp === 0xffffffff) {
      this.distStamp.fill(0);
      this.reachStamp.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }

  private checkClass(cls: number): void {
    if (!Number.isInteger(cls) || cls < 0 || cls >= this.classLimit) {
      throw new RangeError(`lock class ${cls} is outside 0..${this.classLimit - 1}`);
    }
  }
}

/**
 * Reads the lock-order edges the workers learned into shared memory and reports new cycles.
 * Main thread. Notices a reset of the shared graph (resetSharedLockOrderGraph) and starts over.
 */
export class SharedLockOrderGraph {
  readonly graph: LockOrderGraph;
  /** Edges read so far: the next poll reads the edge log from here. */
  private cursor = 0;
  /** Slot bases of the edges read so far (revisited when a gate changed). */
  private known: number[] = [];
  /** kHeaderEdgeGeneration and kHeaderEdgeGateChanges as last seen. */
  private generation = 0;
  private gateChanges = 0;
  /** Irq inversions: kHeaderUsageChanges and the edge count when last searched, and those reported. */
  private usageChanges = 0;
  private edgesSearched = 0;
  private readonly inversionsReported = new Set<string>();

  constructor(
    private readonly memory: SharedMemory,
    private readonly strings: StringTable,
  ) {
    this.graph = new LockOrderGraph(memory.layout.capacities.classes);
    this.generation = Atomics.load(memory.i32, memory.layout.header + kHeaderEdgeGeneration);
  }

  /** New cycles since the last poll (new edges in the order learned, then narrowed gates). */
  poll(): LockOrderCycle[] {
    const { memory } = this;
    const { i32, layout } = memory;
    const generation = Atomics.load(i32, layout.header + kHeaderEdgeGeneration);
    if (generation !== this.generation) {
      // The shared graph was reset under us: forget everything and read it afresh.
      this.reset();
      this.generation = generation;
    }
    // Loaded before the edges are read: a narrowing after this load bumps it again (edge-table.ts).
    const gateChanges = Atomics.load(i32, layout.header + kHeaderEdgeGateChanges);
    const cycles: LockOrderCycle[] = [];
    const published = publishedEdgeCount(memory);
    while (this.cursor < published) {
      const base = loggedEdgeBase(memory, this.cursor);
      // Its writer took the number but has not logged it yet: the next poll picks it up.
      if (base < 0) break;
      this.cursor++;
      this.known.push(base);
      const stored = readStoredEdge(memory, base);
      const cycle = this.graph.addEdge({
        ...stored,
        fromSite: this.strings.lookup(stored.fromSite),
        toSite: this.strings.lookup(stored.toSite),
      });
      if (cycle !== null) cycles.push(cycle);
    }
    if (gateChanges !== this.gateChanges) {
      this.gateChanges = gateChanges;
      for (const base of this.known) {
        if (Atomics.load(i32, base + kEdgeGateDirty) === 0) continue;
        Atomics.store(i32, base + kEdgeGateDirty, 0);
        const { from, to } = edgeEnds(Atomics.load(i32, base + kEdgeKey));
        const cycle = this.graph.updateEdge(from, to, readGate(memory, base), readDeps(memory, base));
        if (cycle !== null) cycles.push(cycle);
      }
    }
    return cycles;
  }

  /**
   * New irq lock inversions (irq-usage.ts) since the last call, over the edges read so far. Searches
   * only when a class gained a usage bit or an edge was added or changed since the last search.
   */
  irqInversions(): IrqInversion[] {
    const { i32, layout } = this.memory;
    const usageChanges = Atomics.load(i32, layout.header + kHeaderUsageChanges);
    const edges = this.cursor + this.gateChanges;
    if (usageChanges === this.usageChanges && edges === this.edgesSearched) return [];
    this.usageChanges = usageChanges;
    this.edgesSearched = edges;
    const classes = Math.min(classCount(this.memory), layout.capacities.classes);
    return findIrqInversions(this.graph, classes, (c) => this.usage(c), this.inversionsReported);
  }

  /** Class `c`'s usage bits as the workers set them. */
  usage(c: number): ClassUsage & { site(bit: number): number; thread(bit: number): number } {
    const { i32, layout } = this.memory;
    const base = classBase(layout, c);
    return {
      mask: Atomics.load(i32, base + kClassUsage),
      seq: (bit) => Atomics.load(i32, base + kClassUsageSeq + bit) - 1,
      site: (bit) => Atomics.load(i32, base + kClassUsageSite + bit) - 1,
      thread: (bit) => Atomics.load(i32, base + kClassUsageThread + bit) - 1,
    };
  }

  /** Forgets every edge read so far (the next poll reads them all again and may re-report). */
  reset(): void {
    this.graph.reset();
    this.cursor = 0;
    this.known = [];
    this.gateChanges = 0;
    this.edgesSearched = -1;
    this.inversionsReported.clear();
  }
}

function edgeKey(from: number, to: number): number {
  return from * kMaxLockClassesLimit + to;
}

function copyEdge(edge: OrderEdge): OrderEdge {
  return { ...edge, gate: [...edge.gate] };
}

/** The type a strong path takes an edge with: one arriving non-recursively if it can (*N beats *R). */
function pickType(allowed: number): number {
  for (const type of kTypesStrongestFirst) if ((allowed & type) !== 0) return type;
  return DepBit.EN;
}

/** Ascending, without duplicates. */
function normalizeGate(gate: readonly number[]): number[] {
  const sorted = [...gate].sort((a, b) => a - b);
  return sorted.filter((c, i) => i === 0 || c !== sorted[i - 1]);
}

/** Intersection of two ascending lists. */
function intersect(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] ?? 0;
    const y = b[j] ?? 0;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

/** The cycle rotated so that its smallest class comes first, as a string. */
function canonicalKey(classes: readonly number[]): string {
  let at = 0;
  for (let i = 1; i < classes.length; i++) if ((classes[i] ?? 0) < (classes[at] ?? 0)) at = i;
  return [...classes.slice(at), ...classes.slice(0, at)].join(',');
}
