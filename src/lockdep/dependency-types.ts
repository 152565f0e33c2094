/**
 * lockdep's read/write dependency types (v5.10+, "lockdep: Add recursive read locks into dependency
 * graph") and the strong-path rule, shared by the cycle search (lock-order-graph.ts) and the irq
 * inversion search (irq-usage.ts).
 *
 * An edge prev -> next has one or more types, DEP_{SR,ER,SN,EN} (layout.ts `DepBit`): S when prev
 * was held as a reader, E when exclusively; R when next was taken as a recursive reader, N when not
 * (a writer or a non-recursive reader). A path is strong when no class on it is entered by an
 * -(*R)-> edge and left by an -(S*)-> edge: two readers of one lock never wait for each other, so
 * such a junction cannot be part of a deadlock.
 */
import { DepBit } from '../layout.js';

/** The types of an edge (EN when it has none recorded: lockdep before v5.10, plain test edges). */
export const depsOf = (edge: { deps?: number }): number => edge.deps ?? DepBit.EN;
/** Types that leave their `from` as an exclusive holder (-(E*)->). */
export const kFromExclusive = DepBit.ER | DepBit.EN;
/** Types that arrive at their `to` as a non-recursive acquisition (-(*N)->). */
export const kToNonRecursive = DepBit.SN | DepBit.EN;
/** Types in the order a search prefers them: an E* start and an *N end constrain the least. */
export const kTypesStrongestFirst = [DepBit.EN, DepBit.ER, DepBit.SN, DepBit.SR];

/**
 * The types of `deps` an edge may be taken with after arriving at its `from` (only through *R
 * types when `arrivedRecursive`): -(*R)-> -(S*)-> is not a strong junction (lockdep's `only_xr`).
 */
export function strongTypes(deps: number, arrivedRecursive: boolean): number {
  return arrivedRecursive ? deps & kFromExclusive : deps;
}

/** Whether taking an edge with `types` (non-empty) arrives only as a recursive reader. */
export function arrivesRecursive(types: number): boolean {
  return (types & kToNonRecursive) === 0;
}
