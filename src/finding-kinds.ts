/**
 * The kinds of finding lockstress reports, one line of doc each. Shared by every layer: workers log
 * them as codes (index + 1) in shared memory, the runner turns them into `Finding` records.
 */
export const kFindingKinds = [
  /** Observed: a closed wait-for cycle among blocked threads (the watchdog saw it). */
  'deadlock',
  /** Potential: a lock-order cycle in the lockdep graph (no race needed). */
  'lock-order-cycle',
  /** A lock of a class the thread already holds was requested ("possible recursive locking"). */
  'recursive-lock',
  /** Unlock of a lock that is not held, or that another thread holds ("bad unlock balance"). */
  'bad-unlock',
  /** `lockdep_assert_held` failed. */
  'lock-not-held',
  /** A sleeping lock or sleeping operation under a spinlock, irqs off or in irq context ("sleeping function called from invalid context"). */
  'sleep-in-atomic',
  /** A lock class used both in an interrupt and with that interrupt enabled ("inconsistent lock state"). */
  'inconsistent-lock-state',
  /** An irq-safe lock depends on an irq-unsafe one ("possible irq lock inversion dependency detected"). */
  'irq-lock-inversion',
  /** An operation returned with a lock still held ("lock held when returning to user space!"). */
  'held-at-return',
  /** A reference still held when everything was closed. */
  'refcount-leak',
  /** A put with the count already at zero ("refcount_t: underflow"). */
  'refcount-underflow',
  /** A non-safe get on a zero count ("refcount_t: addition on 0; use-after-free"). */
  'inc-on-zero',
  /** An access to, or a free of, an object that was already freed. */
  'use-after-free',
  /** A thread blocked longer than the hang bound with no wait-for cycle. */
  'stuck',
  /** A scenario invariant failed at the end of a round. */
  'invariant',
] as const;

export type FindingKind = (typeof kFindingKinds)[number];

export function findingKindCode(kind: FindingKind): number {
  return kFindingKinds.indexOf(kind) + 1;
}

export function findingKindOf(code: number): FindingKind | undefined {
  return kFindingKinds[code - 1];
}

export function isFindingKind(text: string): text is FindingKind {
  return (kFindingKinds as readonly string[]).includes(text);
}
