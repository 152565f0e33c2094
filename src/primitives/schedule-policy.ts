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

export interface SchedulePolicy {
  /** Before a lock or tryLock. */
  beforeLock(): void;
  /** Before an unlock, or a shared word, refcount or object operation. */
  atSharedOp(): void;
  /**
   * One bounded sleep while `i32[index] === expected` (see bounded-wait.ts: throws RoundAborted on
   * teardown and WaitTimeout past the hard bound). Callers loop and re-read.
   */
  wait(memory: SharedMemory, index: number, expected: number, startedMs: number, what: string, sliceMs?: number): WaitResult;
  /** `ctx.jitter()`: a pause point the scenario asked for. */
  jitter(): void;
  /** Round `round` starts on this thread (a seeded policy re-seeds here). */
  startRound(round: number): void;
}

/** No pauses at all: the OS alone interleaves. For benchmarks and for single-thread tests. */
export const kFreeRunning: SchedulePolicy = {
  beforeLock: () => undefined,
  atSharedOp: () => undefined,
  wait: waitSlice,
  jitter: () => undefined,
  startRound: () => undefined,
};
