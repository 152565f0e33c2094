/**
 * The schedule seam: every point where a thread may be paused or preempted goes through one
 * policy object, so that how threads interleave is decided in one place.
 *
 * The points: before every lock and tryLock (`beforeLock`), before every unlock and every shared
 * word, refcount and object operation (`atSharedOp`), every sleep of a wait (`wait`), and
 * `ctx.jitter()` in scenario code. Today's policies: free running (no pauses; benchmarks and unit
 * tests) and the seeded jitter of a stress round (src/schedule/os-schedule.ts). A controlled
 * schedule (one thread runs between two points) plugs in here too.
 */
import type { SharedMemory } from '../layout.js';
import { waitSlice } from './bounded-wait.js';

export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

/** What a thread is about to do at a scheduling point (a reproducer prints it). */
export const SchedulePoint = {
  Lock: 1,
  TryLock: 2,
  Unlock: 3,
  Word: 4,
  Refcount: 5,
  Object: 6,
  Jitter: 7,
  /** wait_for_completion, complete, complete_all. */
  Completion: 8,
} as const;
export type SchedulePoint = (typeof SchedulePoint)[keyof typeof SchedulePoint];

export interface SchedulePolicy {
  /** True when one thread runs at a time and the policy picks it (see controlled-schedule.ts). */
  readonly controlled: boolean;
  /**
   * Before a lock, tryLock or unlock, or a shared word, refcount or object operation: `id` is
   * the lock, word, refcount or slot id, `site` the scenario's site label.
   */
  point(kind: SchedulePoint, id: number, site: string): void;
  /**
   * One bounded sleep while `i32[index] === expected` (see bounded-wait.ts: throws RoundAborted on
   * teardown and WaitTimeout past the hard bound). Callers loop and re-read.
   */
  wait(memory: SharedMemory, index: number, expected: number, startedMs: number, what: string, sliceMs?: number): WaitResult;
  /** `ctx.jitter()`: a pause point the scenario asked for. */
  jitter(): void;
  /** Round `round` starts on this thread (a seeded policy re-seeds here). */
  startRound(round: number): void;
  /** Before the start barrier: this thread is about to run its ops. */
  enterOps(): void;
  /** After the start barrier, before the first op (a controlled policy waits for its turn here). */
  beginOps(): void;
  /** After the last op, before the end barrier. */
  leaveOps(): void;
  /** The round was torn down: forget it (no decision is pending). */
  abandon(): void;
}

/** No pauses at all: the OS alone interleaves. For benchmarks and for single-thread tests. */
export const kFreeRunning: SchedulePolicy = {
  controlled: false,
  point: () => undefined,
  wait: waitSlice,
  jitter: () => undefined,
  startRound: () => undefined,
  enterOps: () => undefined,
  beginOps: () => undefined,
  leaveOps: () => undefined,
  abandon: () => undefined,
};
