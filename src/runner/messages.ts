/**
 * The typed messages between the runner and its worker threads. Failures come back as data
 * (`status`), never as exceptions thrown across the thread boundary.
 */
import type { Capacities } from '../layout.js';
import type { Expectation, SharedObjects } from '../scenarios/contract.js';
import type { Finding } from './findings.js';

/** What the main thread knows of a scenario: plain data, made in a worker (describe-task.ts). */
export interface ScenarioDescription {
  name: string;
  description: string;
  /** The declarations, without the functions (ids are assigned from them, in order). */
  objects: SharedObjects;
  variants: Array<{
    name: string;
    description: string;
    expect: Expectation;
    minThreads: number;
    /** Runs only with --full or when named. */
    extended: boolean;
    /** Every op name the variant can run, in coverage-index order. */
    opNames: string[];
  }>;
}

/** Warm-up: load the scenario and meet every other worker, so that no budget pays for start-up. */
export interface WarmUpTask {
  type: 'warm-up';
  scenarioUrl: string;
  /** A small buffer of its own: word 0 counts the arrivals. */
  rendezvous: SharedArrayBuffer;
  parties: number;
  timeoutMs: number;
}

/**
 * One thread's share of a whole variant: the worker runs rounds back to back (variant-task.ts)
 * until the variant is done, meeting the other threads at a barrier at the start and the end of
 * each round. The thread computes its own plan from the seed and the round number.
 */
export interface VariantTask {
  type: 'variant';
  /** Identifies the world (memory + scenario + variant) so a worker builds its views once. */
  worldKey: string;
  buffer: SharedArrayBuffer;
  capacities: Capacities;
  /** A built-in scenario's or a scenario module's file URL. */
  scenarioUrl: string;
  variant: string;
  thread: number;
  /** Threads in the rounds (the plan is made for this many). */
  threads: number;
  /** Every op name of the variant, in coverage-index order. */
  opNames: string[];
  seed: number;
  jitter: boolean;
  /** Round limit (0 = none): thread 0 ends the variant after the round with this number. */
  roundsLimit: number;
  /** Copies of the world per rendezvous (run-stress.ts effectiveStride): rounds round..round+stride-1 run between two barrier crossings. */
  stride: number;
  /** Who interleaves the threads (the schedule seam's policy). */
  schedule: ScheduleConfig;
  /** Barrier spins before sleeping (see barrier.ts). */
  barrierSpins: number;
  /**
   * This task replaces a thread whose worker was terminated during a teardown: it starts parked,
   * waiting for the release the other threads wait for.
   */
  joinParked: boolean;
  /** Thread 0 only: where it posts each round's end-of-round checks ({@link RoundChecks}). */
  port?: MessagePort;
}

/** The schedule policy of a variant's threads. */
export interface ScheduleConfig {
  /** `os`: free running with seeded jitter; otherwise one thread at a time, chosen by the mode. */
  mode: 'os' | 'random' | 'pct' | 'exhaustive' | 'replay';
  pctDepth: number;
  /** Exhaustive: the preemption bound, and how many rounds' plans to explore. */
  preemptions: number;
  plans: number;
  /** `replay`: the decisions to follow, step by step. */
  decisions: number[];
  /**
   * Ops per thread to run instead of the variant's plan (a shrunk reproducer's plan, which no
   * seed draws); null = the plan function, as always.
   */
  plan: string[][] | null;
}

/**
 * Posted by thread 0 after a round's arbiter ran, when the round found something: the checks'
 * findings, and under a controlled schedule the round's decisions (for its replay token).
 */
export interface RoundChecks {
  round: number;
  checks: Finding[];
  decisions: number[] | null;
  /** The round the plan was drawn from (the round itself, except under exhaustive exploration). */
  planRound: number;
  /** The ops each thread ran this round (a replay reports its plan, for shrinking). */
  plan: string[][] | null;
  /** Exhaustive exploration so far. */
  exploration: ExplorationStatus | null;
}

/** Where a bounded exhaustive exploration stands (src/runner/exploration.ts). */
export interface ExplorationStatus {
  preemptions: number;
  /** Schedules run to their end or to a finding, over every plan. */
  schedules: number;
  /** The distinct plans explored, each as `thread 0: A, B | thread 1: C`. */
  plans: string[];
  /** Every schedule of every plan within the bound was run. */
  complete: boolean;
}

export type WorkerTask = WarmUpTask | VariantTask;

/**
 * A mistake in scenario code, located: which variant, thread and step, the message, and the
 * `file:line:column` in the user's file where it was thrown when the stack shows one.
 */
export interface ScenarioFailure {
  /** `ScenarioError` (unknown names, a bad plan), `LimitError` (a capacity), or `thrown` (scenario code threw). */
  kind: 'scenario' | 'limit' | 'thrown';
  message: string;
  /** `op DEV_OPEN`, `plan()`, `setup`, `finish`, `invariants`. */
  step: string;
  /** `/path/my-scenario.js:12:5`, or '' when the stack names no scenario file. */
  location: string;
}

export type VariantTaskResult =
  | {
      status: 'done';
      thread: number;
      /** The ops this thread ran (for coverage). */
      ops: string[];
      /** Messages posted on `port` ({@link RoundChecks}), so the main thread can wait for the last. */
      posted: number;
    }
  /** Scenario code failed: the run stops with this as its first error line. */
  | { status: 'scenario-error'; thread: number; failure: ScenarioFailure }
  /** A wait passed its hard bound, or a primitive was misused without a tracker: a tool error. */
  | { status: 'error'; thread: number; message: string };
