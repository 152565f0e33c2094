/**
 * The `os` schedule policy of a stress round: the operating system interleaves the threads, and a
 * seeded jitter before each lock (and at `ctx.jitter()`) shifts them against each other to widen
 * race windows. The jitter of a round is derived from (seed, round, thread), so a seed replays the
 * same pauses (not the same OS decisions). Only the ops phase of a round pauses: in setup and
 * finish no other thread runs.
 *
 * Every scheduling point also bumps the thread's progress word (kThreadProgress), which the
 * watchdog reads to tell a thread that loops without ever reaching a lock, a shared operation or a
 * wait (a runaway op) from one that merely runs long.
 */
import { type SharedMemory, kThreadProgress, threadBase } from '../layout.js';
import { type SchedulePolicy, type WaitResult, SchedulePoint } from '../primitives/schedule-policy.js';
import { waitSlice } from '../primitives/bounded-wait.js';
import { tightenTimerSlack } from '../primitives/timer-slack.js';
import type { Rng } from '../scenarios/contract.js';
import { createRng, deriveSeed } from '../scenarios/rng.js';

/** Chance that a scheduling point does not pause at all. */
const kNoPause = 0.55;
/** Chance (cumulative) of a short spin; the rest (one point in ten) are long pauses. */
const kShortBelow = 0.9;
/** Longest short spin: 2^kMaxSpinLog2 loads of a private word (about 10 µs here). */
const kMaxSpinLog2 = 10;
/**
 * A long pause lasts this long, plus up to kLongSpreadMs more: long enough for another thread to
 * run a whole op meanwhile, as if this one had been preempted. A sleep overshoots by 20 to 30 µs
 * even with a tight timer slack (primitives/timer-slack.ts).
 */
const kLongMinMs = 0.01;
const kLongSpreadMs = 0.05;

export class OsSchedule implements SchedulePolicy {
  readonly controlled = false;
  private readonly i32: Int32Array;
  private readonly progress: number;
  private rng: Rng;
  /** A private word to spin on and to sleep on (nobody ever notifies it). */
  private readonly own = new Int32Array(new SharedArrayBuffer(4));
  /**
   * Between beginOps and leaveOps. Pauses outside the ops phase (thread 0's setup, finish and
   * checks, while every other thread waits at a barrier) widen no race and only slow the rounds.
   */
  private inOps = false;

  constructor(
    memory: SharedMemory,
    private readonly thread: number,
    private readonly seed: number,
    private readonly jitterOn: boolean,
    /** More threads than cores: long pauses sleep rather than spin. */
    private readonly oversubscribed = false,
  ) {
    this.i32 = memory.i32;
    this.progress = threadBase(memory.layout, thread) + kThreadProgress;
    this.rng = createRng(seed);
    // Long pauses sleep only here; without a tight slack each would sleep ~100 µs past its length.
    if (jitterOn && oversubscribed) tightenTimerSlack();
  }

  point(kind: SchedulePoint): void {
    this.bump();
    // Race windows open before a lock is taken: that is where the pauses go.
    if (kind === SchedulePoint.Lock) this.pause();
  }

  wait(memory: SharedMemory, index: number, expected: number, startedMs: number, what: string, sliceMs?: number): WaitResult {
    this.bump();
    return waitSlice(memory, index, expected, startedMs, what, sliceMs);
  }

  jitter(): void {
    this.bump();
    this.pause();
  }

  startRound(round: number): void {
    this.rng = createRng(deriveSeed(this.seed, round, this.thread));
  }

  enterOps(): void {}

  beginOps(): void {
    this.inOps = true;
  }

  leaveOps(): void {
    this.inOps = false;
  }

  abandon(): void {
    this.inOps = false;
  }

  private bump(): void {
    // Plain store: only this thread writes its progress word; the watchdog only compares values.
    this.i32[this.progress] = ((this.i32[this.progress] ?? 0) + 1) | 0;
  }

  private pause(): void {
    if (!this.jitterOn || !this.inOps) return;
    const r = this.rng.next();
    if (r < kNoPause) return;
    if (r < kShortBelow) {
      // Keeps the core, shifts this thread by up to ~10 µs.
      const n = 1 << this.rng.int(kMaxSpinLog2);
      for (let i = 0; i < n; i++) Atomics.load(this.own, 0);
      return;
    }
    const ms = kLongMinMs + this.rng.next() * kLongSpreadMs;
    if (this.oversubscribed) {
      // More threads than cores: give the core away, so a thread waiting for it runs meanwhile.
      Atomics.wait(this.own, 0, 0, ms);
      return;
    }
    // A core per thread: spin for the time instead. A sleep would overshoot by 20 to 90 µs (the
    // timer slack, then the wake-up), and nobody is waiting for this core.
    const until = performance.now() + ms;
    while (performance.now() < until) Atomics.load(this.own, 0);
  }
}
