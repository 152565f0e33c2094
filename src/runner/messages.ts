/**
 * The typed messages between the runner and its worker threads. Failures come back as data
 * (`status`), never as exceptions thrown across the thread boundary.
 */
import type { Capacities } from '../layout.js';

/** One thread's share of one round. */
export interface RoundTask {
  /** Identifies the world (memory + scenario + variant) so a worker builds its views once. */
  worldKey: string;
  buffer: SharedArrayBuffer;
  capacities: Capacities;
  /** `vfio-kvm` or a file URL of a scenario module. */
  scenarioUrl: string;
  variant: string;
  thread: number;
  round: number;
  /** Operation names this thread runs, in order. */
  ops: string[];
  /** Every op name of the variant, in coverage-index order. */
  opNames: string[];
  seed: number;
  jitter: boolean;
}

export type RoundTaskResult =
  | { status: 'done'; thread: number }
  /** The round was torn down (the abort word was set while this thread waited). */
  | { status: 'aborted'; thread: number }
  /** Scenario code threw, or a wait passed its hard bound: a bug in the scenario or the tool. */
  | { status: 'error'; thread: number; message: string };
