/**
 * A controlled schedule: the threads are real workers, but exactly one of them runs between two
 * scheduling points. It holds the turn (kSchedTurn); at its next point it asks the chooser who
 * runs next, records the decision in the round's step log, and hands the turn over if that is
 * another thread. So a round is a sequence of decisions, and the same decisions replay it exactly.
 *
 * Protocol, per round:
 * - Every thread starts a round Runnable (the reset between rounds sets it). After the start
 *   barrier thread 0 makes step 0: who runs first. Everyone then waits for its turn.
 * - point(kind, id, site): one decision among the runnable threads (this one included).
 * - wait(index, expected): the thread is Waiting on that word, and can run again once the word
 *   holds anything else. It makes a decision without itself; if it is chosen at once (the word
 *   already changed) it goes on. If no thread can run, the round has stalled (kSchedStall): a
 *   deadlock (the watchdog sees the lock-wait cycle the tracker published) or a hang. A word
 *   wait (`ctx.words[x].waitFor`) is different: time stands still here, so a stall answers the
 *   lowest such waiter with 'timed-out' and it goes on.
 * - leaveOps: the thread is Finished and hands the turn to whoever can run.
 *
 * Only the turn holder writes the schedule region (and thread 0 before the first decision), and it
 * publishes the turn last (a seq-cst store), so the next holder sees every step it wrote. Waits for
 * the turn are bounded slices that give up when the round is torn down (RoundAborted).
 */
import {
  type SharedMemory,
  SchedState,
  kSchedDiverged,
  kSchedPreemptions,
  kSchedStall,
  kSchedState,
  kSchedSteps,
  kSchedTurn,
  kSchedWaitExpected,
  kSchedWaitIndex,
  kStepChosen,
  kStepObject,
  kStepOp,
  kStepPoint,
  kStepRunnable,
  kStepSite,
  kStepThread,
  kThreadCurrentOp,
  kThreadProgress,
  schedThreadBase,
  stepBase,
  threadBase,
  wallClockMs,
} from '../layout.js';
import { LimitError } from '../errors.js';
import { waitSlice } from '../primitives/bounded-wait.js';
import { type SchedulePolicy, type WaitResult, SchedulePoint } from '../primitives/schedule-policy.js';
import type { StringTable } from '../primitives/string-table.js';
import type { Chooser } from './choosers.js';

/** The most threads a controlled round takes: a step keeps the runnable set in one 32-bit mask. */
export const kMaxControlledThreads = 31;
/** Step 0 records the first decision; its point is this. */
export const kStartPoint = 0;

export class ControlledSchedule implements SchedulePolicy {
  readonly controlled = true;
  private readonly i32: Int32Array;
  private readonly header: number;
  private readonly mine: number;
  private chooser: Chooser | null = null;
  /** Between enterOps and leaveOps: points are decisions. Outside (setup, finish): free running. */
  private active = false;

  constructor(
    private readonly memory: SharedMemory,
    private readonly strings: StringTable,
    private readonly thread: number,
    private readonly threads: number,
    private readonly chooserFor: (round: number) => Chooser,
  ) {
    if (threads > kMaxControlledThreads) {
      throw new LimitError(`a controlled schedule takes at most ${kMaxControlledThreads} threads, not ${threads}`);
    }
    this.i32 = memory.i32;
    this.header = memory.layout.schedule;
    this.mine = schedThreadBase(memory.layout, thread);
  }

  startRound(round: number): void {
    this.chooser = this.chooserFor(round);
  }

  /** Every thread is Runnable already: the reset between rounds made it so (world.ts). */
  enterOps(): void {
    this.active = true;
  }

  beginOps(): void {
    if (this.thread === 0) {
      const next = this.decide(-1, kStartPoint, -1, '', false);
      this.handTo(next);
    }
    this.waitTurn();
  }

  leaveOps(): void {
    Atomics.store(this.i32, this.mine + kSchedState, SchedState.Finished);
    this.active = false;
    const next = this.decide(this.thread, SchedulePoint.Jitter, -1, '', true);
    this.handTo(next);
  }

  point(kind: SchedulePoint, id: number, site: string): void {
    if (!this.active) return;
    const next = this.decide(this.thread, kind, id, site, false);
    if (next !== this.thread) {
      this.handTo(next);
      this.waitTurn();
    }
  }

  abandon(): void {
    this.active = false;
  }

  jitter(): void {
    this.point(SchedulePoint.Jitter, -1, '');
  }

  wait(memory: SharedMemory, index: number, expected: number, startedMs: number, what: string, sliceMs?: number): WaitResult {
    if (!this.active) return waitSlice(memory, index, expected, startedMs, what, sliceMs);
    return this.block(index, expected, what.startsWith('word '));
  }

  /** Waits on a word as the only thing that may run next: see the file comment. */
  private block(index: number, expected: number, answersStall: boolean): WaitResult {
    const { i32, mine } = this;
    Atomics.store(i32, mine + kSchedWaitIndex, index);
    Atomics.store(i32, mine + kSchedWaitExpected, expected);
    Atomics.store(i32, mine + kSchedState, answersStall ? SchedState.WaitingWord : SchedState.Waiting);
    const next = this.decide(this.thread, SchedulePoint.Jitter, index, '', true);
    if (next === this.thread) {
      Atomics.store(i32, mine + kSchedState, SchedState.Runnable);
      // Chosen at once: the word changed already, or (a stalled word wait) it never will.
      return Atomics.load(i32, index) !== expected ? 'not-equal' : 'timed-out';
    }
    if (next < 0) {
      // Nobody can run: leave the round to the watchdog (deadlock or hang), which tears it down.
      const started = wallClockMs();
      for (;;) waitSlice(this.memory, index, expected, started, 'a stalled controlled round');
    }
    this.handTo(next);
    this.waitTurn();
    Atomics.store(i32, mine + kSchedState, SchedState.Runnable);
    // Given the turn with the word unchanged: a stall answered this word wait.
    return Atomics.load(i32, index) !== expected ? 'ok' : 'timed-out';
  }

  /**
   * One decision: records the step and returns the next thread, or -1 when none can run (a stall,
   * marked in kSchedStall) or a replay diverged (kSchedDiverged). `waiting` says this thread is
   * not itself a candidate unless its wait condition already holds.
   */
  private decide(thread: number, kind: number, id: number, site: string, waiting: boolean): number {
    const { i32, header } = this;
    const runnable: number[] = [];
    for (let t = 0; t < this.threads; t++) if (this.canRun(t)) runnable.push(t);
    const step = Atomics.load(i32, header + kSchedSteps);
    if (step >= this.memory.layout.capacities.scheduleSteps) {
      throw new LimitError(`a controlled round took more than ${this.memory.layout.capacities.scheduleSteps} scheduling decisions`);
    }
    let next = -1;
    if (runnable.length === 0) {
      // Time stands still, so the first word wait (a `waitFor`) times out; else, unless every
      // thread has finished, the round stalled.
      let unfinished = false;
      for (let t = 0; t < this.threads; t++) {
        const state = Atomics.load(i32, schedThreadBase(this.memory.layout, t) + kSchedState);
        if (state === SchedState.WaitingWord && next < 0) next = t;
        if (state !== SchedState.Finished) unfinished = true;
      }
      if (next < 0 && unfinished) Atomics.store(i32, header + kSchedStall, 1);
    } else {
      next = this.chooser?.choose(step, runnable, thread) ?? (runnable[0] as number);
      if (next < 0) Atomics.store(i32, header + kSchedDiverged, 1);
    }
    if (!waiting && thread >= 0 && next >= 0 && next !== thread) Atomics.add(i32, header + kSchedPreemptions, 1);
    const base = stepBase(this.memory.layout, step);
    let mask = 0;
    for (const t of runnable) mask |= 1 << t;
    Atomics.store(i32, base + kStepThread, thread);
    Atomics.store(i32, base + kStepPoint, kind);
    Atomics.store(i32, base + kStepObject, id);
    Atomics.store(i32, base + kStepSite, site === '' ? 0 : this.strings.intern(site));
    Atomics.store(i32, base + kStepRunnable, mask);
    Atomics.store(i32, base + kStepChosen, next);
    Atomics.store(i32, base + kStepOp, thread >= 0 ? Atomics.load(i32, threadBase(this.memory.layout, thread) + kThreadCurrentOp) : 0);
    Atomics.store(i32, header + kSchedSteps, step + 1);
    return next;
  }

  private canRun(t: number): boolean {
    const base = schedThreadBase(this.memory.layout, t);
    const state = Atomics.load(this.i32, base + kSchedState);
    if (state === SchedState.Runnable) return true;
    if (state !== SchedState.Waiting && state !== SchedState.WaitingWord) return false;
    return Atomics.load(this.i32, Atomics.load(this.i32, base + kSchedWaitIndex)) !== Atomics.load(this.i32, base + kSchedWaitExpected);
  }

  /** Publishes whose turn it is (also when it stays with this thread: the first decision). */
  private handTo(next: number): void {
    if (next < 0) return;
    Atomics.store(this.i32, this.header + kSchedTurn, next + 1);
    if (next !== this.thread) Atomics.notify(this.i32, this.header + kSchedTurn);
  }

  private waitTurn(): void {
    const { i32 } = this;
    const turn = this.header + kSchedTurn;
    const progress = threadBase(this.memory.layout, this.thread) + kThreadProgress;
    const started = wallClockMs();
    for (let seen = Atomics.load(i32, turn); seen !== this.thread + 1; seen = Atomics.load(i32, turn)) {
      // Waiting for the turn is progress (the runaway check must not take it for a loop).
      i32[progress] = ((i32[progress] ?? 0) + 1) | 0;
      waitSlice(this.memory, turn, seen, started, 'the controlled turn');
    }
  }
}
