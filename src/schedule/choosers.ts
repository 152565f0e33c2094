/**
 * Who runs next, under a controlled schedule: one chooser per policy. A chooser is asked at every
 * scheduling decision, by whichever thread holds the turn, so its answer may depend only on shared
 * state: the seed, the round, the step number, the threads that can run, the one that ran last,
 * and (PCT) the priorities kept in shared memory.
 */
import { type SharedMemory, kSchedPrefixLength, kSchedPriority, schedThreadBase } from '../layout.js';
import { createRng, deriveSeed } from '../scenarios/rng.js';

export interface Chooser {
  /**
   * A thread from `runnable` (never empty), or -1 when a replayed decision names a thread that
   * cannot run (the run diverged from the recording). `current` is the thread that made the
   * last step, or -1 at the start of a round.
   */
  choose(step: number, runnable: readonly number[], current: number): number;
}

/** `--schedule random`: every decision draws uniformly from the runnable threads. */
export function randomChooser(seed: number, round: number): Chooser {
  return {
    choose: (step, runnable) => createRng(deriveSeed(seed, round, step, 0x5eed)).pick(runnable),
  };
}

/**
 * `--schedule pct`: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010). Each
 * thread gets a distinct random priority at the start of the round (d .. d+n-1); the runnable
 * thread with the highest priority runs. At d-1 change points, steps drawn uniformly from the
 * first `expectedSteps` steps, the running thread's priority drops to d-i, below every initial
 * one. A bug of depth d is found with probability at least 1/(n k^(d-1)) per round.
 */
export function pctChooser(memory: SharedMemory, seed: number, round: number, threads: number, depth: number, expectedSteps: number): Chooser {
  const rng = createRng(deriveSeed(seed, round, 0x9c7));
  const order = Array.from({ length: threads }, (_, t) => t);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const initial = new Int32Array(threads);
  order.forEach((thread, rank) => (initial[thread] = depth + rank));
  const changeAt = new Map<number, number>();
  for (let i = 1; i < depth; i++) changeAt.set(1 + rng.int(Math.max(1, expectedSteps)), depth - i);
  const lowered = (t: number): number => Atomics.load(memory.i32, schedThreadBase(memory.layout, t) + kSchedPriority);
  const priority = (t: number): number => lowered(t) || (initial[t] ?? 0);
  return {
    choose(step, runnable, current) {
      const drop = changeAt.get(step);
      if (drop !== undefined && current >= 0) Atomics.store(memory.i32, schedThreadBase(memory.layout, current) + kSchedPriority, drop);
      let best = runnable[0] ?? 0;
      for (const t of runnable) if (priority(t) > priority(best)) best = t;
      return best;
    },
  };
}

/**
 * The schedule with no preemption: the thread that ran goes on while it can, else the lowest
 * runnable thread. Replay and exhaustive exploration fall back to it past their recorded prefix.
 */
export function nonPreemptiveChoice(runnable: readonly number[], current: number): number {
  return runnable.includes(current) ? current : (runnable[0] ?? -1);
}

/** `--schedule exhaustive`: the forced prefix in the schedule region, then no preemption. */
export function prefixChooser(memory: SharedMemory): Chooser {
  return {
    choose(step, runnable, current) {
      if (step >= Atomics.load(memory.i32, memory.layout.schedule + kSchedPrefixLength)) return nonPreemptiveChoice(runnable, current);
      const forced = Atomics.load(memory.i32, memory.layout.schedulePrefix + step);
      return runnable.includes(forced) ? forced : -1;
    },
  };
}

/** `--replay`: the recorded decisions, step by step; past them, no preemption. */
export function replayChooser(decisions: readonly number[]): Chooser {
  return {
    choose(step, runnable, current) {
      const recorded = decisions[step];
      if (recorded === undefined) return nonPreemptiveChoice(runnable, current);
      return runnable.includes(recorded) ? recorded : -1;
    },
  };
}
