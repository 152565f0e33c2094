/**
 * The leader's side of `--schedule exhaustive` (thread 0, between rounds, in its worker): which
 * plan is being explored, and the next schedule of it. For each of the plans of rounds 1..P
 * (distinct ones only; a plan is drawn from the seed and its round, as always), every schedule
 * with at most K preemptions is run once (explorer.ts); then the next plan; then the variant is
 * done, and the exploration is `complete`. The forced prefix of the next schedule goes into the
 * schedule region, where every thread's chooser reads it.
 */
import {
  type SharedMemory,
  kSchedPlanRound,
  kSchedPrefixLength,
  kSchedSteps,
} from '../layout.js';
import { type ExploredStep, nextPrefix } from '../schedule/explorer.js';
import { readSteps } from '../schedule/step-log.js';
import type { ExplorationStatus } from './messages.js';

export class Exploration {
  private readonly seenPlans = new Set<string>();
  private readonly plans: string[] = [];
  private schedules = 0;
  private planRound = 0;
  private complete = false;

  constructor(
    private readonly memory: SharedMemory,
    private readonly preemptions: number,
    private readonly planRounds: number,
    /** The plan of a round, as the variant's plan function draws it. */
    private readonly planOf: (round: number) => string[][],
  ) {}

  /**
   * Before each round: sets up the next schedule (or the first of the next plan) and returns
   * true, or returns false once everything was explored.
   */
  prepare(): boolean {
    const { i32, layout } = this.memory;
    let prefix: number[] | null = null;
    if (this.planRound > 0) {
      this.schedules++;
      prefix = nextPrefix(this.executed(), this.preemptions);
    }
    if (prefix === null) {
      if (!this.nextPlan()) {
        this.complete = true;
        return false;
      }
      prefix = [];
    }
    for (const [step, thread] of prefix.entries()) Atomics.store(i32, layout.schedulePrefix + step, thread);
    Atomics.store(i32, layout.schedule + kSchedPrefixLength, prefix.length);
    Atomics.store(i32, layout.schedule + kSchedPlanRound, this.planRound);
    Atomics.store(i32, layout.schedule + kSchedSteps, 0);
    return true;
  }

  status(): ExplorationStatus {
    return { preemptions: this.preemptions, schedules: this.schedules, plans: [...this.plans], complete: this.complete };
  }

  /** Moves to the next plan round whose plan was not explored yet; false past round P. */
  private nextPlan(): boolean {
    while (this.planRound < this.planRounds) {
      this.planRound++;
      const lists = this.planOf(this.planRound);
      const key = lists.map((ops, t) => `thread ${t}: ${ops.join(', ') || '(nothing)'}`).join(' | ');
      if (this.seenPlans.has(key)) continue;
      this.seenPlans.add(key);
      this.plans.push(key);
      return true;
    }
    return false;
  }

  private executed(): ExploredStep[] {
    return readSteps(this.memory).map((s) => ({ current: s.thread, runnable: s.runnable, chosen: s.chosen }));
  }
}
