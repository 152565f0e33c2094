/**
 * Bounded exhaustive exploration (CHESS-style preemption bounding, Musuvathi & Qadeer, PLDI 2007):
 * every schedule of a round's plan with at most K preemptions, each executed once, statelessly:
 * a schedule is a prefix of forced decisions, then no preemption at all. After each execution
 * the explorer backtracks over its step log, depth first, to the next unexplored prefix.
 *
 * A preemption is a decision that takes the turn from a thread that could have gone on (it is
 * runnable and another is chosen). Blocking, finishing and the first choice are not preemptions.
 *
 * At each step the alternatives are tried in one fixed order: the non-preemptive choice first,
 * then the other runnable threads from the lowest. The explorer is pure (plain data in, prefix
 * out), so it is tested without threads.
 */
import { nonPreemptiveChoice } from './choosers.js';

/** One decision of an executed round, as the step log has it. */
export interface ExploredStep {
  /** The thread that made the step (-1 for step 0, the first choice). */
  current: number;
  /** Bit mask of the threads that could run. */
  runnable: number;
  chosen: number;
}

export function threadsOf(mask: number): number[] {
  const threads: number[] = [];
  for (let t = 0; t < 31; t++) if ((mask & (1 << t)) !== 0) threads.push(t);
  return threads;
}

/** The order in which the alternatives at a step are explored. */
export function alternativesAt(step: ExploredStep): number[] {
  const runnable = threadsOf(step.runnable);
  const first = nonPreemptiveChoice(runnable, step.current);
  return first < 0 ? [] : [first, ...runnable.filter((t) => t !== first)];
}

export function isPreemption(step: ExploredStep, chosen: number): boolean {
  return step.current >= 0 && (step.runnable & (1 << step.current)) !== 0 && chosen !== step.current;
}

/**
 * The prefix of the next schedule to run after `executed`, or null when every schedule with at
 * most `bound` preemptions has been run. Steps whose decision was -1 (a stall) end the path.
 */
export function nextPrefix(executed: readonly ExploredStep[], bound: number): number[] | null {
  const path = executed.filter((s, i) => s.chosen >= 0 || i < executed.findIndex((x) => x.chosen < 0));
  const preemptionsBefore: number[] = [];
  let count = 0;
  for (const step of path) {
    preemptionsBefore.push(count);
    if (isPreemption(step, step.chosen)) count++;
  }
  for (let s = path.length - 1; s >= 0; s--) {
    const step = path[s] as ExploredStep;
    const alternatives = alternativesAt(step);
    const at = alternatives.indexOf(step.chosen);
    for (let k = at + 1; k < alternatives.length; k++) {
      const alternative = alternatives[k] as number;
      if ((preemptionsBefore[s] ?? 0) + (isPreemption(step, alternative) ? 1 : 0) > bound) continue;
      return [...path.slice(0, s).map((p) => p.chosen), alternative];
    }
  }
  return null;
}
