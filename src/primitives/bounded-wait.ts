/**
 * The one way lockstress sleeps on a shared word. Every `Atomics.wait` is a slice of at most
 * {@link kWaitSliceMs}; between slices the caller's loop rechecks the abort word (so the watchdog
 * can tear a round down) and a hard bound (so nothing blocks for ever, even outside the runner).
 */
import { type SharedMemory, wallClockMs } from '../layout.js';
import { RoundAborted, WaitTimeout } from '../errors.js';

/** Longest single sleep. Short enough that an abort is noticed quickly, long enough to cost nothing. */
export const kWaitSliceMs = 20;
/** No wait in lockstress lasts longer than this, abort word or not. */
export const kHardWaitBoundMs = 30_000;

/**
 * Sleeps while `i32[index] === expected`, for one slice. Throws {@link RoundAborted} when the run
 * is being torn down and {@link WaitTimeout} past the hard bound measured from `startedMs`.
 * Returns the result of `Atomics.wait` so callers can tell a wake-up from a time-out.
 */
export function waitSlice(
  memory: SharedMemory,
  index: number,
  expected: number,
  startedMs: number,
  what: string,
  sliceMs: number = kWaitSliceMs,
): 'ok' | 'not-equal' | 'timed-out' {
  if (memory.isAborted()) throw new RoundAborted();
  const result = Atomics.wait(memory.i32, index, expected, sliceMs);
  if (result === 'timed-out' && wallClockMs() - startedMs > kHardWaitBoundMs) {
    throw new WaitTimeout(what, kHardWaitBoundMs);
  }
  return result;
}
