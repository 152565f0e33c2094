/**
 * The types of the `--json` document, on their own so that the package's public types
 * (src/index.ts) reach nothing but this file, the contract and the finding kinds: a user's
 * type-check then needs neither @types/node nor piscina's types.
 */
import type { FindingTimeline } from '../event-types.js';
import type { FindingKind } from '../finding-kinds.js';
import type { ShardSpec } from '../runner/shard.js';

/** A variant's verdict (the same union as runner/verdict.ts `VerdictStatus`; document.ts checks it). */
export type VariantStatus = 'pass' | 'fail' | 'inconclusive' | 'skipped' | 'interrupted';

export interface FindingDocument {
  kind: FindingKind;
  /** Rounds that showed it. */
  count: number;
  firstRound: number;
  locks: string[];
  /** One line. */
  message: string;
  evidence: unknown;
  /** The kernel-format report of its first occurrence, then the last events of its threads. */
  report: string;
  /** Found under a controlled schedule: the token that replays it (`--replay TOKEN`); else null. */
  replay: string | null;
  /** The last events of the threads involved, from their event rings (absent for checks made at the end of a round). */
  timeline?: FindingTimeline;
}

/** A learned lock-order edge: `from` was held while `to` was taken. */
export interface LockOrderEdgeDocument {
  from: string;
  to: string;
  fromSite: string;
  toSite: string;
  thread: number;
  round: number;
}

export interface VariantDocument {
  name: string;
  description: string;
  /** `['clean']`, or kinds and lists of alternative kinds. */
  expect: ReadonlyArray<string | readonly string[]>;
  seen: string[];
  pass: boolean;
  status: VariantStatus;
  note: string;
  rounds: number;
  durationMs: number;
  /** Rounds per barrier rendezvous (`--stride`; absent in older documents). */
  stride?: number;
  /** Rounds and lock acquisitions per second of the variant's wall time (absent in older documents). */
  roundsPerSec?: number;
  acquisitionsPerSec?: number;
  abortedRounds: number;
  firstDeadlockMs: number | null;
  stoppedBy: string;
  errors: string[];
  findings: FindingDocument[];
  lockStats: Array<{ lock: string; acquisitions: number; contentions: number; maxWaitUs: number; maxHoldUs: number }>;
  /** The ops that ran (absent in documents from before it was added), and the pairs seen overlapping. */
  coverage: { ops?: string[]; pairsOverlapped: number; pairsPossible: number; overlapped: string[] };
  /** Every lock-order edge the variant learned (absent in documents from before it was added). */
  lockOrder?: LockOrderEdgeDocument[];
  /** `--schedule exhaustive`: schedules run, the plans explored, and whether it was complete; else null. */
  exploration?: { preemptions: number; schedules: number; plans: string[]; complete: boolean } | null;
  /** `--replay` (and `--shrink`): the round as a numbered interleaving; else null. */
  reproducer?: {
    plan: string[][];
    threads: number;
    ops: number;
    preemptions: number;
    steps: Array<{ thread: number; op: string; action: string; lock: string; site: string }>;
    replay: string;
  } | null;
  /** The seed this variant ran with (runs with `--seeds K` run a variant once per seed). */
  seed: number;
}

/** The verdict of a whole run or merge; {@link kRunExitCodes} maps it to the exit status. */
export type RunVerdict = 'pass' | 'fail' | 'inconclusive' | 'interrupted';

export interface StressDocument {
  tool: 'lockstress';
  scenario: string;
  /** The (first) seed of the run; null in a merge of runs with different seeds. */
  seed: number | null;
  /** Seeds per variant (`--seeds`). */
  seeds: number;
  /** null in a merge of runs with different thread counts. */
  threads: number | null;
  /** When the run started (ISO 8601, UTC); the earliest start in a merge. */
  startedAt: string;
  /** Wall time of the run; in a merge, the sum of the merged runs' times. */
  durationMs: number;
  interrupted: boolean;
  /** The slice this run covered (`--shard`), or null for a whole run (and for a merge). */
  shard: ShardSpec | null;
  variants: VariantDocument[];
  /** Every variant passed or was skipped, and the run was not interrupted. */
  ok: boolean;
  verdict: RunVerdict;
  exitCode: number;
  /** Only in the output of `lockstress merge`: the documents it merged. */
  merged?: Array<{ file: string; shard: ShardSpec | null; seed: number | null; variants: number }>;
}
