/**
 * lockdep's irq checks: the usage bits of lock classes, and the irq lock inversions that need the
 * lock-order graph. Pure functions over plain data (the tracker and SharedLockOrderGraph feed them).
 *
 * Usage bits (layout.ts `UsageBit`, lockdep's LOCK_USED_IN_HARDIRQ ...): a class is
 * - IN-HARDIRQ-W / IN-SOFTIRQ-W when taken in hardirq / softirq context ("irq-safe": it must never
 *   be held where that interrupt can arrive), -R when taken there for read;
 * - HARDIRQ-ON-W / SOFTIRQ-ON-W when held with that interrupt enabled ("irq-unsafe"), -R for read.
 *
 * Two kinds of bug, as lockdep reports them:
 * 1. `inconsistent lock state`: one class is both safe and unsafe for one interrupt (mark_lock_irq's
 *    valid_state): IN-X-W against X-ON-W or X-ON-R, IN-X-R against X-ON-W. Two readers never
 *    block each other, so IN-X-R with X-ON-R is fine. The tracker checks this as it sets a bit
 *    ({@link conflictingUsage}).
 * 2. an irq lock inversion: a strong dependency path A -> ... -> B where A is X-safe and B is
 *    X-unsafe: a CPU holding B with X enabled can be interrupted by a handler that takes A, while
 *    another CPU holds A (with X off) and waits, through the path, for B. Whether the usages count
 *    depends on the path's ends, as in lockdep's usage_match / usage_accumulate: the interrupt adds
 *    the edge B -> A, and the cycle B -> A -> ... -> B must be strong, so
 *    - if A is X-safe only for read (IN-X-R), the interrupt's edge arrives at A as a recursive
 *      reader and the path must leave A exclusively (-(E*)->);
 *    - if the path can only arrive at B as a recursive reader (-(*R)->), only a write usage of B
 *      (X-ON-W) closes the cycle.
 *    {@link findIrqInversions} searches every X-safe class forward over strong paths
 *    (lock-order-graph.ts `strongTypes`) for an X-unsafe one. Which event closed the inversion
 *    decides the report, as in lockdep: the new dependency ("X-safe -> X-unsafe lock order
 *    detected", check_irq_usage) or the usage that changed last ("possible irq lock inversion
 *    dependency detected", check_usage_forwards / _backwards).
 */
import { UsageBit } from '../layout.js';
import { arrivesRecursive, depsOf, strongTypes } from './dependency-types.js';
import type { LockOrderGraph, OrderEdge } from './lock-order-graph.js';

/** lockdep's usage_str. */
export const kUsageNames = [
  'IN-HARDIRQ-W',
  'IN-HARDIRQ-R',
  'HARDIRQ-ON-W',
  'HARDIRQ-ON-R',
  'IN-SOFTIRQ-W',
  'IN-SOFTIRQ-R',
  'SOFTIRQ-ON-W',
  'SOFTIRQ-ON-R',
] as const;

export type IrqState = 'HARDIRQ' | 'SOFTIRQ';

/**
 * The bit that `bit`, newly set on a class whose usage was `mask`, conflicts with (the one lockdep
 * names first: the write form of the opposite direction, then its read form), or -1.
 */
export function conflictingUsage(mask: number, bit: number): number {
  const read = bit & 1;
  const excl = (bit & 4) | ((bit & 2) ^ 2);
  if ((mask & (1 << excl)) !== 0) return excl;
  if (read === 0 && (mask & (1 << (excl + 1))) !== 0) return excl + 1;
  return -1;
}

/** What the inversion search needs to know about a class's usage. */
export interface ClassUsage {
  mask: number;
  /** Edges published (kHeaderEdgeSeq) when `bit` was set, or -1 if unknown. */
  seq(bit: number): number;
}

/** An X-safe class that reaches an X-unsafe one over a strong path. */
export interface IrqInversion {
  state: IrqState;
  /** The X-safe class and its IN-X bit that counts. */
  safe: number;
  safeBit: number;
  /** The X-unsafe class and its X-ON bit that counts. */
  unsafe: number;
  unsafeBit: number;
  /** The dependency path safe -> ... -> unsafe (the graph's edges, copied). */
  path: OrderEdge[];
  /**
   * What happened last: the path's newest edge (`dependency`, reported as "X-safe -> X-unsafe lock
   * order detected"), the safe class's usage (`safe`) or the unsafe one's (`unsafe`), both reported
   * as "possible irq lock inversion dependency detected".
   */
  closedBy: 'dependency' | 'safe' | 'unsafe';
  /** The newest edge of the path (the new dependency when closedBy is `dependency`). */
  newest: OrderEdge;
}

/** Key under which an inversion is reported once. */
export const inversionKey = (inv: Pick<IrqInversion, 'state' | 'safe' | 'unsafe'>): string => `${inv.state}:${inv.safe}->${inv.unsafe}`;

/**
 * Every X-safe -> X-unsafe strong path of the graph not in `reported` (keys of
 * {@link inversionKey}), the shortest per pair, marked reported. `usage(c)` gives class c's usage.
 */
export function findIrqInversions(
  graph: LockOrderGraph,
  classes: number,
  usage: (c: number) => ClassUsage,
  reported: Set<string>,
): IrqInversion[] {
  const found: IrqInversion[] = [];
  for (const state of ['HARDIRQ', 'SOFTIRQ'] as const) {
    const offset = state === 'HARDIRQ' ? 0 : 4;
    const usedIn = UsageBit.UsedInHardirq + offset;
    const enabled = UsageBit.EnabledHardirq + offset;
    for (let safe = 0; safe < classes; safe++) {
      const mask = usage(safe).mask;
      if ((mask & (3 << usedIn)) === 0) continue;
      // Taken in the irq for write: the interrupt's edge arrives non-recursively, anything may follow.
      const safeBit = (mask & (1 << usedIn)) !== 0 ? usedIn : usedIn + 1;
      searchFrom(graph, classes, safe, safeBit === usedIn + 1, (unsafe, arrivedR) => {
        if (unsafe === safe) return false;
        const target = usage(unsafe).mask;
        const write = (target & (1 << enabled)) !== 0;
        const read = !arrivedR && (target & (1 << (enabled + 1))) !== 0;
        if (!write && !read) return false;
        const key = inversionKey({ state, safe, unsafe });
        if (reported.has(key)) return false;
        return { key, unsafeBit: write ? enabled : enabled + 1 };
      }).forEach(({ key, unsafe, unsafeBit, path }) => {
        reported.add(key);
        const newest = path.reduce((a, b) => (b.seq > a.seq ? b : a));
        // A usage set when n edges were published came after edges 0..n-1 and before edge n.
        const safeAt = usage(safe).seq(safeBit) - 0.5;
        const unsafeAt = usage(unsafe).seq(unsafeBit) - 0.5;
        const closedBy = newest.seq >= Math.max(safeAt, unsafeAt) ? 'dependency' : safeAt >= unsafeAt ? 'safe' : 'unsafe';
        found.push({ state, safe, safeBit, unsafe, unsafeBit, path: path.map((e) => ({ ...e, gate: [...e.gate] })), closedBy, newest: { ...newest, gate: [...newest.gate] } });
      });
    }
  }
  return found;
}

/**
 * Breadth-first over (class, arrived-recursively) states from `start`, each class reported by
 * `match` at most once (the first, shortest strong path to it). A state arrived at non-recursively
 * dominates the recursive one, so a class reached both ways is expanded at most twice.
 */
function searchFrom(
  graph: LockOrderGraph,
  classes: number,
  start: number,
  startRecursive: boolean,
  match: (c: number, arrivedR: boolean) => { key: string; unsafeBit: number } | false,
): Array<{ key: string; unsafe: number; unsafeBit: number; path: OrderEdge[] }> {
  const results: Array<{ key: string; unsafe: number; unsafeBit: number; path: OrderEdge[] }> = [];
  // seen[c]: 0 unseen, 1 reached recursively only, 2 reached non-recursively.
  const seen = new Uint8Array(classes);
  const via = new Map<number, { edge: OrderEdge; from: number }>();
  const queue: number[] = [start * 2 + (startRecursive ? 1 : 0)];
  seen[start] = startRecursive ? 1 : 2;
  const matched = new Set<number>();
  for (let head = 0; head < queue.length; head++) {
    const state = queue[head] ?? 0;
    const c = state >> 1;
    const arrivedR = (state & 1) === 1;
    if (c !== start && !matched.has(c)) {
      const m = match(c, arrivedR);
      if (m !== false) {
        matched.add(c);
        results.push({ key: m.key, unsafe: c, unsafeBit: m.unsafeBit, path: pathTo(via, state) });
      }
    }
    for (const edge of graph.edgesFrom(c)) {
      const allowed = strongTypes(depsOf(edge), arrivedR);
      if (allowed === 0 || edge.to >= classes) continue;
      const nextR = arrivesRecursive(allowed);
      const level = nextR ? 1 : 2;
      if ((seen[edge.to] ?? 0) >= level) continue;
      seen[edge.to] = level;
      const next = edge.to * 2 + (nextR ? 1 : 0);
      via.set(next, { edge, from: state });
      queue.push(next);
    }
  }
  return results;
}

function pathTo(via: Map<number, { edge: OrderEdge; from: number }>, state: number): OrderEdge[] {
  const path: OrderEdge[] = [];
  for (let at = via.get(state); at !== undefined; at = via.get(at.from)) path.unshift(at.edge);
  return path;
}
