/**
 * Reading a controlled round's step log (written by controlled-schedule.ts): the decisions, for a
 * replay token, and the steps themselves, for a reproducer a reviewer can read.
 */
import {
  type SharedMemory,
  kSchedSteps,
  kStepChosen,
  kStepObject,
  kStepOp,
  kStepPoint,
  kStepRunnable,
  kStepSite,
  kStepThread,
  stepBase,
} from '../layout.js';

export interface Step {
  /** Who ran (-1 for step 0, the choice of who starts). */
  thread: number;
  point: number;
  /** Lock, word, refcount or slot id, or -1. */
  object: number;
  /** String id of the site. */
  site: number;
  runnable: number;
  chosen: number;
  /** kThreadCurrentOp of the thread: op index + 1, or 0. */
  op: number;
}

/** The decisions of the round so far (up to a stall, whose decision is -1). */
export function roundDecisions(memory: SharedMemory): number[] {
  const decisions: number[] = [];
  for (const step of readSteps(memory)) {
    if (step.chosen < 0) break;
    decisions.push(step.chosen);
  }
  return decisions;
}

export function readSteps(memory: SharedMemory): Step[] {
  const { i32, layout } = memory;
  const count = Math.min(Atomics.load(i32, layout.schedule + kSchedSteps), layout.capacities.scheduleSteps);
  const steps: Step[] = [];
  for (let n = 0; n < count; n++) {
    const base = stepBase(layout, n);
    steps.push({
      thread: Atomics.load(i32, base + kStepThread),
      point: Atomics.load(i32, base + kStepPoint),
      object: Atomics.load(i32, base + kStepObject),
      site: Atomics.load(i32, base + kStepSite),
      runnable: Atomics.load(i32, base + kStepRunnable),
      chosen: Atomics.load(i32, base + kStepChosen),
      op: Atomics.load(i32, base + kStepOp),
    });
  }
  return steps;
}
