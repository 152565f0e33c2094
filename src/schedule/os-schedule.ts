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
import type { Rng } from '../scenarios/contract.js';
import { createRng, deriveSeed } from '../scenarios/rng.js';

/** Chance that a scheduling point does not pause at all. */
const kNoPause = 0.55;
/** Longest spin: 2^kMaxSpinLog2 loads of a private word (about 10 µs here). */
const kMaxSpinLog2 = 10;

export class OsSchedule implements SchedulePolicy {
  readonly controlled = false;
  private readonly i32: Int32Array;
  private readonly progress: number;
  private rng: Rng;
  /** A private word to spin on. */
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
  ) {
    this.i32 = memory.i32;
    this.progress = threadBase(memory.layout, thread) + kThreadProgress;
    this.rng = createRng(seed);
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
    if (this.rng.next() < kNoPause) return;
    // Keeps the core and shifts this thread by up to ~10 µs. A sleep (Atomics.wait) would shift
    // it by 60 µs or more (the timer slack), with the whole round waiting on it: in the same
    // session a yield on one lock in ten cut 2b48f52f2bff from ~2,900 to ~1,100 rounds/s at 4
    // threads, and even one in fifty to ~1,900, while every broken variant still showed its
    // finding within the same few rounds without them.
    const n = 1 << this.rng.int(kMaxSpinLog2);
    for (let i = 0; i < n; i++) Atomics.load(this.own, 0);
  }
}
