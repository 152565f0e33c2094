/** The exhaustive explorer on plain data: it visits every schedule within the preemption bound, once. */
import { describe, expect, it } from 'vitest';
import { type ExploredStep, alternativesAt, isPreemption, nextPrefix } from '../../src/schedule/explorer.js';
import { nonPreemptiveChoice } from '../../src/schedule/choosers.js';

/**
 * A toy program: each thread runs `steps[t]` steps, all always runnable; executes a prefix and
 * then the non-preemptive schedule, returning the step log the controlled schedule would write.
 */
function execute(steps: number[], prefix: readonly number[]): ExploredStep[] {
  const left = [...steps];
  const log: ExploredStep[] = [];
  let current = -1;
  for (let s = 0; ; s++) {
    const runnable = left.flatMap((n, t) => (n > 0 ? [t] : []));
    if (runnable.length === 0) break;
    const mask = runnable.reduce((m, t) => m | (1 << t), 0);
    // A finished thread's last step hands over without a preemption: model it as not runnable.
    const chosen = prefix[s] ?? nonPreemptiveChoice(runnable, current);
    log.push({ current: current >= 0 && left[current] === 0 ? -1 : current, runnable: mask, chosen });
    left[chosen] = (left[chosen] ?? 0) - 1;
    current = chosen;
  }
  return log;
}

function explore(steps: number[], bound: number): string[] {
  const seen: string[] = [];
  let prefix: number[] | null = [];
  while (prefix !== null && seen.length < 10_000) {
    const log = execute(steps, prefix);
    seen.push(log.map((s) => s.chosen).join(''));
    prefix = nextPrefix(log, bound);
  }
  return seen;
}

describe('bounded exhaustive exploration', () => {
  it('the non-preemptive choice comes first, then the other runnable threads from the lowest', () => {
    expect(alternativesAt({ current: 1, runnable: 0b111, chosen: 1 })).toEqual([1, 0, 2]);
    expect(alternativesAt({ current: -1, runnable: 0b110, chosen: 1 })).toEqual([1, 2]);
    expect(isPreemption({ current: 1, runnable: 0b11, chosen: 0 }, 0)).toBe(true);
    expect(isPreemption({ current: 1, runnable: 0b01, chosen: 0 }, 0)).toBe(false);
  });

  it('with no bound on preemptions, two threads of 2 steps give all 6 interleavings, each once', () => {
    const schedules = explore([2, 2], 10);
    expect(new Set(schedules).size).toBe(schedules.length);
    expect(schedules.sort()).toEqual(['0011', '0101', '0110', '1001', '1010', '1100']);
  });

  it('a bound of 0 preemptions leaves only the choice of who starts', () => {
    expect(explore([2, 2], 0).sort()).toEqual(['0011', '1100']);
  });

  it('a bound of 1 adds every schedule with one preemption, and nothing with two', () => {
    const schedules = explore([2, 2], 1);
    expect(schedules.sort()).toEqual(['0011', '0110', '1001', '1100']);
  });
});
