/**
 * Verdicts: the distinct findings of one variant with counts, and whether the variant showed what
 * it was expected to show. Pure data, no threads.
 */
import type { FindingKind } from '../finding-kinds.js';
import type { LockClassStats } from '../primitives/lock-table.js';
import type { Expectation } from '../scenarios/contract.js';
import type { Finding } from './findings.js';
import type { ExplorationStatus } from './messages.js';
import type { Reproducer } from '../schedule/reproducer.js';

export interface FindingSummary {
  kind: FindingKind;
  key: string;
  /** Rounds that showed it. */
  count: number;
  firstRound: number;
  locks: string[];
  message: string;
  /** The first occurrence, with its full evidence. */
  first: Finding;
}

/** A lock-order edge the variant learned: `from` was held while `to` was taken. */
export interface LockOrderEdge {
  from: string;
  to: string;
  /** Where `from` and `to` were taken the first time the edge was seen. */
  fromSite: string;
  toSite: string;
  /** The thread and round that first showed it. */
  thread: number;
  round: number;
}

export interface Coverage {
  /** The operations that ran, in the scenario's order (the matrix's rows and columns). */
  ops: string[];
  /** Pairs of operations seen running at the same time on two threads. */
  pairsOverlapped: number;
  /** Pairs that could overlap: n(n+1)/2 for n operations (an op may overlap itself). */
  pairsPossible: number;
  /** The pairs seen, as `A || B`. */
  overlapped: string[];
}

export type StopReason =
  | 'duration'
  | 'rounds'
  | 'first-finding'
  | 'expected-seen'
  | 'deadline'
  | 'interrupted'
  | 'error'
  | 'explored';

/**
 * A variant's outcome:
 * - `pass`: it showed what it expects (a clean variant: nothing, over at least the minimum rounds);
 * - `fail`: a finding it does not expect, an expected kind missing after enough rounds, or an error;
 * - `inconclusive`: it ran fewer rounds than the minimum and has no evidence either way (no
 *   unexpected finding, expectation not yet met, or clean on too few rounds);
 * - `skipped`: the run has fewer threads than the variant needs (`minThreads`);
 * - `interrupted`: SIGINT stopped it before its budget ran out.
 */
export type VerdictStatus = 'pass' | 'fail' | 'inconclusive' | 'skipped' | 'interrupted';

export interface VariantVerdict {
  name: string;
  description: string;
  expect: Expectation;
  /** Distinct kinds seen. */
  seen: FindingKind[];
  /** `status === 'pass'`. */
  pass: boolean;
  status: VerdictStatus;
  /** Why a variant is not plainly pass or fail: `needs 2 threads`, `3 rounds, fewer than 20`. */
  note: string;
  rounds: number;
  /** Rounds per barrier rendezvous the variant ran with (`--stride`; 1 under a controlled schedule). */
  stride: number;
  durationMs: number;
  /** Rounds per second of the variant's wall time (teardowns included). */
  roundsPerSec: number;
  /** Lock acquisitions per second, over every thread (lock_stat's counts). */
  acquisitionsPerSec: number;
  findings: FindingSummary[];
  lockStats: LockClassStats[];
  /** Every lock-order edge the variant learned, in the order learned (the lock-order graph). */
  lockOrder: LockOrderEdge[];
  coverage: Coverage;
  /** Rounds torn down by the watchdog. */
  abortedRounds: number;
  /** Milliseconds from the variant's start to its first observed deadlock. */
  firstDeadlockMs: number | null;
  stoppedBy: StopReason;
  /** Scenario or tool errors (an operation threw): the variant cannot pass. */
  errors: string[];
  /** `--schedule exhaustive`: schedules run, plans explored, and whether it was complete. */
  exploration: ExplorationStatus | null;
  /** `--replay`: the replayed round as a numbered interleaving (see schedule/reproducer.ts); else null. */
  reproducer: Reproducer | null;
}

/** Whether the seen kinds satisfy the expectation, as written: 'clean' means no finding at all. */
export function expectationMet(expect: Expectation, seen: ReadonlySet<FindingKind>): boolean {
  if (expect === 'clean') return seen.size === 0;
  return expect.every((entry) => (typeof entry === 'string' ? seen.has(entry) : entry.some((k) => seen.has(k))));
}

/** What decides a status, and nothing else (pure, so the rule is tested on plain data). */
export interface StatusInputs {
  expect: Expectation;
  seen: ReadonlySet<FindingKind>;
  rounds: number;
  /** Rounds a verdict needs unless the evidence is already decisive. */
  minRounds: number;
  stoppedBy: StopReason;
  errors: number;
  /** Threads of the run, and the fewest the variant needs to show its expectation. */
  threads: number;
  minThreads: number;
  /** Exhaustive exploration: whether every schedule within the bound was run (else null). */
  complete?: boolean | null;
}

/**
 * The rule, in order: errors fail; a run with fewer threads than the variant needs is `skipped`
 * (it still runs: what it shows on fewer threads, a lock-order cycle say, is worth seeing);
 * a clean variant with any finding fails at once (one round of evidence is enough); an
 * interrupted variant is `interrupted`; a broken variant that showed every kind it expects passes
 * (extra kinds are allowed: a bug often shows more than one face); a clean variant passes only
 * after at least `minRounds` rounds; anything else is `inconclusive` below `minRounds` rounds and
 * `fail` at or above it. An exhaustive exploration replaces the round count: complete, it decides
 * (clean passes, a missing expected kind fails); cut short, it is `inconclusive`.
 */
export function decideStatus(i: StatusInputs): VerdictStatus {
  if (i.errors > 0) return 'fail';
  if (i.threads < i.minThreads) return 'skipped';
  if (i.expect === 'clean' && i.seen.size > 0) return 'fail';
  if (i.stoppedBy === 'interrupted') return 'interrupted';
  const enough = i.rounds >= i.minRounds;
  if (i.expect !== 'clean' && expectationMet(i.expect, i.seen)) return 'pass';
  // A bounded proof: clean over every schedule is a pass however few they were; cut short, it proves nothing.
  if (i.complete === true) return i.expect === 'clean' ? 'pass' : 'fail';
  if (i.complete === false) return 'inconclusive';
  return enough ? (i.expect === 'clean' ? 'pass' : 'fail') : 'inconclusive';
}

/** `deadlock + lock-order-cycle`, `refcount-underflow|use-after-free`, `clean`. */
export function formatExpectation(expect: Expectation): string {
  if (expect === 'clean') return 'clean';
  return expect.map((entry) => (typeof entry === 'string' ? entry : entry.join('|'))).join(' + ');
}

/** Collects findings of one variant, deduplicated by kind and key. */
export class FindingCollector {
  private readonly byKey = new Map<string, FindingSummary & { lastRound: number }>();

  add(finding: Finding): boolean {
    const key = `${finding.kind}\u0000${finding.key}`;
    const known = this.byKey.get(key);
    if (known === undefined) {
      this.byKey.set(key, {
        kind: finding.kind,
        key: finding.key,
        count: 1,
        firstRound: finding.round,
        locks: finding.locks,
        message: finding.message,
        first: finding,
        lastRound: finding.round,
      });
      return true;
    }
    if (known.lastRound !== finding.round) {
      known.count++;
      known.lastRound = finding.round;
    }
    return false;
  }

  get size(): number {
    return this.byKey.size;
  }

  kinds(): Set<FindingKind> {
    return new Set([...this.byKey.values()].map((s) => s.kind));
  }

  summaries(): FindingSummary[] {
    return [...this.byKey.values()]
      .map(({ lastRound: _lastRound, ...summary }) => summary)
      .sort((a, b) => a.firstRound - b.firstRound);
  }
}
