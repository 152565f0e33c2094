/**
 * Completion: `struct completion`, a one-word event that threads wait for, for any thread.
 *
 * Algorithm: the kernel's completion (kernel/sched/completion.c) is a `done` counter under a wait
 * queue: complete() adds one and wakes one waiter, complete_all() sets it to UINT_MAX and wakes
 * all, wait_for_completion() sleeps until `done` is non-zero and then consumes one (never the
 * UINT_MAX of complete_all). Here `done` is one shared word and the waiters sleep on it while it is
 * 0 (the futex pattern of futex-mutex.ts), counted in kCompletionSleepers so that a complete with
 * nobody asleep pays no notify.
 *
 * | kCompletionDone   | meaning                                                    |
 * |-------------------|------------------------------------------------------------|
 * | 0                 | not completed: wait_for_completion sleeps                  |
 * | n (1..2^31-2)     | n completions not yet consumed                             |
 * | kCompletionAll    | complete_all(): every wait, now and later, returns at once |
 *
 * - wait_for_completion: CAS done -> done - 1 while it is a count; return at once on
 *   kCompletionAll; otherwise count itself a sleeper, re-read, sleep while the word is 0.
 * - try_wait_for_completion: the same CAS once; false without sleeping.
 * - complete: CAS done -> done + 1 (not past kCompletionAll - 1), then wake one sleeper.
 * - complete_all: store kCompletionAll, then wake every sleeper.
 * - completion_done: whether `done` is non-zero.
 * - reinit_completion: store 0 (only with nobody waiting, as in the kernel).
 *
 * No lost wake-up: a waiter counts itself in kCompletionSleepers before its last read of `done`,
 * and sleeps only on 0; complete changes `done` before it reads the sleeper count (both seq-cst),
 * so either the waiter sees the new value, or complete sees the waiter and notifies. Waits are
 * bounded slices that give up on a teardown (bounded-wait.ts) and go through the schedule seam.
 *
 * With tracking on, the tracker learns what DEPT calls wait -> event dependencies (see
 * lock-tracker.ts, "Completions"), publishes the wait for the watchdog's wait-for graph, and checks
 * that a wait is not made in atomic context.
 *
 * Kernel analogue: `struct completion` (wait_for_completion, complete, complete_all,
 * try_wait_for_completion, completion_done, reinit_completion).
 */
import { type SharedMemory, completionBase, kCompletionAll, kCompletionClass, kCompletionDone, kCompletionSleepers, wallClockMs } from '../layout.js';
import type { LockObserver } from './lock-observer.js';
import { type SchedulePolicy, kFreeRunning } from './schedule-policy.js';

export class Completion {
  private readonly i32: Int32Array;
  private readonly doneIndex: number;
  private readonly sleepersIndex: number;
  /** The completion's lock class (a node of the lock-order graph). */
  readonly classId: number;

  constructor(
    private readonly memory: SharedMemory,
    readonly id: number,
    readonly thread: number,
    private readonly observer: LockObserver | null = null,
    private readonly schedule: SchedulePolicy = kFreeRunning,
  ) {
    this.i32 = memory.i32;
    const base = completionBase(memory.layout, id);
    this.doneIndex = base + kCompletionDone;
    this.sleepersIndex = base + kCompletionSleepers;
    this.classId = this.i32[base + kCompletionClass] ?? 0;
  }

  /** wait_for_completion. */
  wait(site = ''): void {
    const { observer } = this;
    observer?.willWaitCompletion(this.id, this.classId, site);
    if (this.tryConsume()) {
      observer?.completionWaited(this.id, this.classId, site, -1);
      return;
    }
    const waitStart = observer === null ? -1 : observer.waitingCompletion(this.id, site);
    const { i32, doneIndex, sleepersIndex } = this;
    const started = wallClockMs();
    while (!this.tryConsume()) {
      Atomics.add(i32, sleepersIndex, 1);
      try {
        if (Atomics.load(i32, doneIndex) === 0) this.schedule.wait(this.memory, doneIndex, 0, started, `wait_for_completion ${this.id}`);
      } finally {
        Atomics.sub(i32, sleepersIndex, 1);
      }
    }
    observer?.completionWaited(this.id, this.classId, site, waitStart);
  }

  /** try_wait_for_completion: consumes a completion if one is there, never sleeps. */
  tryWait(): boolean {
    return this.tryConsume();
  }

  /** complete: one waiter (present or future) may go. */
  complete(site = ''): void {
    this.observer?.completing(this.classId, site);
    const { i32, doneIndex } = this;
    let seen = Atomics.load(i32, doneIndex);
    while (seen < kCompletionAll - 1) {
      const before = Atomics.compareExchange(i32, doneIndex, seen, seen + 1);
      if (before === seen) break;
      seen = before;
    }
    if (Atomics.load(i32, this.sleepersIndex) > 0) Atomics.notify(i32, doneIndex, 1);
  }

  /** complete_all: every waiter, now and until reinit, goes. */
  completeAll(site = ''): void {
    this.observer?.completing(this.classId, site);
    Atomics.store(this.i32, this.doneIndex, kCompletionAll);
    if (Atomics.load(this.i32, this.sleepersIndex) > 0) Atomics.notify(this.i32, this.doneIndex);
  }

  /** completion_done: true when a wait would not sleep. */
  done(): boolean {
    return Atomics.load(this.i32, this.doneIndex) !== 0;
  }

  /** reinit_completion: back to "not completed". */
  reinit(): void {
    Atomics.store(this.i32, this.doneIndex, 0);
  }

  private tryConsume(): boolean {
    const { i32, doneIndex } = this;
    let seen = Atomics.load(i32, doneIndex);
    for (;;) {
      if (seen === 0) return false;
      if (seen === kCompletionAll) return true;
      const before = Atomics.compareExchange(i32, doneIndex, seen, seen - 1);
      if (before === seen) return true;
      seen = before;
    }
  }
}
