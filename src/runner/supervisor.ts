/**
 * The main thread's half of a teardown (the workers' half is `park` in variant-task.ts).
 *
 * 1. Set the abort word and wake every sleeper (lock words, shared words, the barrier), so every
 *    thread leaves its bounded wait with RoundAborted and parks (kThreadParked).
 * 2. Wait up to {@link kCooperativeAbortMs} for every live thread to park. A thread that does not
 *    (scenario code looping, never reaching a wait) has its task aborted through piscina, which
 *    terminates its worker; the caller starts a replacement that joins parked.
 * 3. With every live thread parked, nothing runs: the caller resets the world, then
 *    {@link releaseParked} bumps the release word and the threads go on (or return, if done).
 */
import {
  type SharedMemory,
  kHeaderAbort,
  kHeaderBarrierPhase,
  kHeaderRelease,
  kLockState,
  kSchedTurn,
  kThreadParked,
  lockBase,
  threadBase,
  wallClockMs,
  wordIndex,
} from '../layout.js';
import type { WorldIds } from '../scenarios/world.js';

/** How often the watchdog reads the wait-for state while rounds run. */
export const kWatchdogPollMs = 2;
/** How long blocked threads get to park on their own after the abort word is set. */
export const kCooperativeAbortMs = 300;

/** Sets the abort word and wakes every sleeper. */
export function signalAbort(memory: SharedMemory, ids: WorldIds, stride = 1): void {
  const { i32, layout } = memory;
  Atomics.store(i32, layout.header + kHeaderAbort, 1);
  // Every copy of the world (world.ts strideIds: copies are contiguous ranges of ids).
  for (let id = 0; id < ids.locks.size * stride; id++) Atomics.notify(i32, lockBase(layout, id) + kLockState);
  for (let index = 0; index < ids.words.size * stride; index++) Atomics.notify(i32, wordIndex(layout, index));
  Atomics.notify(i32, layout.header + kHeaderBarrierPhase);
  // Threads of a controlled round that wait for their turn sleep on the turn word.
  Atomics.notify(i32, layout.schedule + kSchedTurn);
}

/** Whether `thread` is parked for the current release generation. */
export function isParked(memory: SharedMemory, thread: number): boolean {
  const { i32, layout } = memory;
  return Atomics.load(i32, threadBase(layout, thread) + kThreadParked) === Atomics.load(i32, layout.header + kHeaderRelease) + 1;
}

/** Waits (polling, at most `timeoutMs`) until every thread in `threads` is parked; returns the ones that are not. */
export async function waitParked(memory: SharedMemory, threads: readonly number[], timeoutMs: number): Promise<number[]> {
  const until = wallClockMs() + timeoutMs;
  for (;;) {
    const missing = threads.filter((t) => !isParked(memory, t));
    if (missing.length === 0 || wallClockMs() > until) return missing;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Clears the abort word and lets the parked threads go. */
export function releaseParked(memory: SharedMemory): void {
  const { i32, layout } = memory;
  Atomics.store(i32, layout.header + kHeaderAbort, 0);
  Atomics.add(i32, layout.header + kHeaderRelease, 1);
  Atomics.notify(i32, layout.header + kHeaderRelease);
}
