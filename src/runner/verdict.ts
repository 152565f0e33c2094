/**
 * Verdicts: the distinct findings of one variant with counts, and whether the variant showed what
 * it was expected to show. Pure data, no threads.
 */
import type { FindingKind } from '../finding-kinds.js';
import type { LockClassStats } from '../primitives/lock-table.js';
import type { Expectation } from '../scenarios/contract.js';
import type { Finding } from './findings.js';

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

export interface Coverage {
  /** Pairs of operations seen running at the same time on two threads. */
  pairsOverlapped: number;
  /** Pairs that could overlap: n(n+1)/2 for n operations (an op may overlap itself). */
  pairsPossible: number;
  /** The pairs seen, as `A || B`. */
  overlapped: string[];
}

export type StopReason = 'duration' | 'rounds' | 'first-finding' | 'expected-seen' | 'deadline' | 'interrupted' | 'error';

export interface VariantVerdict {
  name: string;
  description: string;
  expect: Expectation;
  /** Distinct kinds seen. */
  seen: FindingKind[];
  pass: boolean;
  rounds: number;
  durationMs: number;
  findings: FindingSummary[];
  lockStats: LockClassStats[];
  coverage: Coverage;
  /** Rounds torn down by the watchdog. */
  abortedRounds: number;
  /** Milliseconds from the variant's start to its first observed deadlock. */
  firstDeadlockMs: number | null;
  stoppedBy: StopReason;
  /** Scenario or tool errors (an operation threw): the variant cannot pass. */
  errors: string[];
}

/** Whether the seen kinds satisfy the expectation, as written: 'clean' means no finding at all. */
export function expectationMet(expect: Expectation, seen: ReadonlySet<FindingKind>): boolean {
  if (expect === 'clean') return seen.size === 0;
  return expect.every((entry) => (typeof entry === 'string' ? seen.has(entry) : entry.some((k) => seen.has(k))));
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
