/**
 * A reusable sense-reversing barrier (Mellor-Crummey & Scott 1991; "phase" plays the sense), so
 * that every thread starts a round's operations together.
 *
 * | word                 | meaning                                         |
 * |----------------------|-------------------------------------------------|
 * | kHeaderBarrierCount  | threads arrived in this phase                   |
 * | kHeaderBarrierPhase  | phase number; bumped by the last arrival        |
 * | kHeaderBarrierParties| how many threads make a phase (set by the main thread) |
 *
 * arrive: read the phase, then count in. The last arrival zeroes the count *before* bumping the
 * phase, so a fast thread cannot count into the next phase early, then wakes everyone. The others
 * sleep on the phase word while it holds the value they read: no lost wake-up, because the bump
 * changes that word before the notify. Waits are bounded by the abort word and the hard bound.
 *
 * Spin, then sleep: a waiter first reads the phase word up to `spins` times, because a sleep and
 * its wake-up cost tens of µs while the last arrival is often a few µs away. With more threads
 * than cores the spinning would burn the time slices of the very threads still to arrive, so the
 * default spins only when every party can have a core ({@link defaultBarrierSpins}).
 */
import {
  type SharedMemory,
  kHeaderBarrierCount,
  kHeaderBarrierParties,
  kHeaderBarrierPhase,
  wallClockMs,
} from '../layout.js';
import { availableParallelism } from 'node:os';
import { waitSlice } from './bounded-wait.js';

/** Phase reads before the first sleep when every party has a core of its own. */
export const kBarrierSpinsPerCore = 2000;

/**
 * Whether `threads` threads can each have a core of this machine. Past that, a thread that spins
 * for another burns the time slice the other needs: the barrier, the jitter's long pauses and a
 * stride's meet all ask this.
 */
export function corePerThread(threads: number): boolean {
  return threads <= availableParallelism();
}

/** Spins for `parties` threads on this machine: none past one thread per core. */
export function defaultBarrierSpins(parties: number): number {
  return corePerThread(parties) ? kBarrierSpinsPerCore : 0;
}

export class Barrier {
  private readonly countIndex: number;
  private readonly phaseIndex: number;
  private readonly partiesIndex: number;

  /** @param spins phase reads before sleeping; see {@link defaultBarrierSpins} */
  constructor(
    private readonly memory: SharedMemory,
    private readonly spins = 0,
  ) {
    const header = memory.layout.header;
    this.countIndex = header + kHeaderBarrierCount;
    this.phaseIndex = header + kHeaderBarrierPhase;
    this.partiesIndex = header + kHeaderBarrierParties;
  }

  /** Sets the party count and resets the barrier. Main thread, while no one waits. */
  reset(parties: number): void {
    Atomics.store(this.memory.i32, this.countIndex, 0);
    Atomics.store(this.memory.i32, this.partiesIndex, parties);
  }

  /** Blocks until every party has arrived. Returns true for the last arrival (the "leader"). */
  arrive(): boolean {
    const { i32 } = this.memory;
    const phase = Atomics.load(i32, this.phaseIndex);
    const parties = Atomics.load(i32, this.partiesIndex);
    if (Atomics.add(i32, this.countIndex, 1) + 1 >= parties) {
      Atomics.store(i32, this.countIndex, 0);
      Atomics.add(i32, this.phaseIndex, 1);
      Atomics.notify(i32, this.phaseIndex);
      return true;
    }
    for (let i = 0; i < this.spins; i++) {
      if (Atomics.load(i32, this.phaseIndex) !== phase) return false;
    }
    const started = wallClockMs();
    while (Atomics.load(i32, this.phaseIndex) === phase) {
      waitSlice(this.memory, this.phaseIndex, phase, started, 'barrier');
    }
    return false;
  }
}
