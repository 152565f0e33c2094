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

/** One thread's share of one round. The thread computes its own plan from the seed and the round. */
export interface RoundTask {
  type: 'round';
  /** Identifies the world (memory + scenario + variant) so a worker builds its views once. */
  worldKey: string;
  buffer: SharedArrayBuffer;
  capacities: Capacities;
  /** A built-in scenario's or a scenario module's file URL. */
  scenarioUrl: string;
  variant: string;
  thread: number;
  /** Threads in the round (the plan is made for this many). */
  threads: number;
  round: number;
  /** Every op name of the variant, in coverage-index order. */
  opNames: string[];
  seed: number;
  jitter: boolean;
}

export type WorkerTask = WarmUpTask | RoundTask;

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

export type RoundTaskResult =
  | {
      status: 'done';
      thread: number;
      /** The ops this thread ran (for coverage). */
      ops: string[];
      /** Thread 0 only: the end-of-round checks (invariants, refcount leaks). */
      checks: Finding[];
    }
  /** The round was torn down (the abort word was set while this thread waited). */
  | { status: 'aborted'; thread: number }
  /** Scenario code failed: the run stops with this as its first error line. */
  | { status: 'scenario-error'; thread: number; failure: ScenarioFailure }
  /** A wait passed its hard bound, or a primitive was misused without a tracker: a tool error. */
  | { status: 'error'; thread: number; message: string };
