/**
 * A reproducer a reviewer can read: the actions of a controlled round in the order they ran,
 * numbered, each with its thread, op, what it did and where (`mutex_lock(kvm->lock) at
 * kvm_device_release`). Built from the step log: at a step, a thread is *about* to act; it acts
 * at once if the scheduler lets it go on, or later, when the scheduler gives it the turn back.
 */
import { SchedulePoint } from '../primitives/schedule-policy.js';
import { type ExploredStep, isPreemption } from './explorer.js';
import type { Step } from './step-log.js';

export interface ReproducerStep {
  thread: number;
  op: string;
  /** `mutex_lock(kvm->lock)`, `refcount(users_count)`, `word(group->kvm)`... */
  action: string;
  /** The lock's class for lock actions, else ''. */
  lock: string;
  site: string;
}

export interface Reproducer {
  /** The ops of each thread. */
  plan: string[][];
  threads: number;
  /** Ops in the plan, over every thread. */
  ops: number;
  preemptions: number;
  steps: ReproducerStep[];
  /** The token that replays exactly this. */
  replay: string;
}

/** Names the reproducer needs: of locks (instance, class, and whether it spins), refcounts, words, slots, sites, ops. */
export interface ReproducerNames {
  lock(id: number): { lock: string; class: string; kind: string };
  refcount(id: number): string;
  word(id: number): string;
  slot(id: number): string;
  site(id: number): string;
  op(opIndex: number): string;
}

/** The actions of a round, in execution order (waits and pause points are not actions). */
export function actionsOf(steps: readonly Step[], names: ReproducerNames): ReproducerStep[] {
  const pending = new Map<number, ReproducerStep>();
  const out: ReproducerStep[] = [];
  for (const step of steps) {
    const action = step.thread >= 0 ? describe(step, names) : null;
    if (step.chosen === step.thread) {
      if (action !== null) out.push(action);
      continue;
    }
    if (action !== null && step.thread >= 0) pending.set(step.thread, action);
    // The chosen thread resumes: the action it was preempted before runs now.
    const resumed = pending.get(step.chosen);
    if (resumed !== undefined) {
      out.push(resumed);
      pending.delete(step.chosen);
    }
  }
  return out;
}

export function preemptionsOf(steps: readonly Step[]): number {
  return steps.filter((s) => isPreemption({ current: s.thread, runnable: s.runnable, chosen: s.chosen } satisfies ExploredStep, s.chosen)).length;
}

function describe(step: Step, names: ReproducerNames): ReproducerStep | null {
  const base = { thread: step.thread, op: step.op > 0 ? names.op(step.op - 1) : '', site: names.site(step.site) };
  switch (step.point) {
    case SchedulePoint.Lock:
    case SchedulePoint.TryLock:
    case SchedulePoint.Unlock: {
      const lock = names.lock(step.object);
      const what = step.point === SchedulePoint.Lock ? 'lock' : step.point === SchedulePoint.TryLock ? 'trylock' : 'unlock';
      // The kernel's verbs where one kind has one; an rwsem or rwlock point does not say read or write.
      const verb = lock.kind === 'mutex' ? 'mutex_' : lock.kind.endsWith('spinlock') ? 'spin_' : `${lock.kind} `;
      return { ...base, action: `${verb}${what}(${lock.lock})`, lock: lock.class };
    }
    case SchedulePoint.Refcount:
      return { ...base, action: `refcount(${names.refcount(step.object)})`, lock: '' };
    case SchedulePoint.Word:
      // A word's "site" is its own name: say it once.
      return { ...base, action: `word(${names.word(step.object)})`, lock: '', site: '' };
    case SchedulePoint.Object:
      return { ...base, action: `object(${names.slot(step.object)})`, lock: '' };
    default:
      return null;
  }
}

/** The numbered interleaving, as the README and the report print it. */
export function formatReproducer(r: Reproducer): string {
  const opWidth = Math.max(2, ...r.steps.map((s) => s.op.length)) + 2;
  const actionWidth = Math.max(6, ...r.steps.map((s) => s.action.length)) + 2;
  const numberWidth = String(r.steps.length).length;
  const lines = [
    `reproducer: ${r.threads} thread${r.threads === 1 ? '' : 's'}, ${r.ops} op${r.ops === 1 ? '' : 's'}, ${r.preemptions} preemption${r.preemptions === 1 ? '' : 's'}`,
    ...r.steps.map(
      (s, i) =>
        `${String(i + 1).padStart(numberWidth + 1)}  thread ${s.thread} ${s.op.padEnd(opWidth)}${s.site === '' ? s.action : `${s.action.padEnd(actionWidth)}at ${s.site}`}`,
    ),
    `replay: npm run stress -- --replay ${r.replay}`,
  ];
  return lines.join('\n');
}
