/**
 * Per-op timing, for the bench's timed mix (bench/suites/mix.ts): while a variant runs, each
 * thread records how long every op of its plan took, into its record of the per-op timing region
 * (src/layout.ts). The region exists only when `capacities.opTimingSamples > 0`; otherwise
 * {@link OpTimer.forThread} gives null and the round loop's `timer?.begin(...)` costs one null
 * check per op (an optional call whose arguments are not even evaluated).
 *
 * A deadlocked op is never dropped: it is counted with the time until it was torn down.
 * - A thread that leaves its wait because of the teardown (RoundAborted, the usual case) closes
 *   its own op in {@link OpTimer.abandon}, at the moment it sees the abort word.
 * - A thread that had to be terminated cannot: the main thread closes its op in
 *   {@link closeOpenOps} from the start time the thread published (kOpTimingStartUs), before the
 *   replacement worker takes the record over.
 * Either way the op is counted in kOpTimingTornDown as well.
 *
 * Thread 0 also sums the references that each round's refcount-leak findings say are still held
 * (kOpTimingLeakedRefs): what piles up over the timed rounds in a leaking variant.
 */
import {
  type SharedMemory,
  kOpSampleOp,
  kOpTimingCount,
  kOpTimingLeakedRefs,
  kOpTimingOp,
  kOpTimingStartUs,
  kOpTimingTornDown,
  opSampleIndex,
  opTimingBase,
} from '../layout.js';
import type { Finding } from './findings.js';

/** Largest duration a sample holds, ns (2.1 s): a longer op is recorded as this. */
export const kMaxOpSampleNs = 0x7fffffff;

const toNs = (ms: number): number => Math.min(kMaxOpSampleNs, Math.max(0, Math.round(ms * 1e6)));

/** One thread's op timer, in its worker. */
export class OpTimer {
  private readonly base: number;
  private readonly capacity: number;
  /** performance.now() at the open op's start; -1 between ops. */
  private startedMs = -1;

  private constructor(
    private readonly memory: SharedMemory,
    private readonly thread: number,
  ) {
    this.base = opTimingBase(memory.layout, thread);
    this.capacity = memory.layout.capacities.opTimingSamples;
  }

  /** The timer of `thread`, or null when the layout has no per-op timing region (timing off). */
  static forThread(memory: SharedMemory, thread: number): OpTimer | null {
    return memory.layout.opTimingWords > 0 ? new OpTimer(memory, thread) : null;
  }

  /** An op with index `op` starts now. */
  begin(op: number): void {
    const { i32 } = this.memory;
    this.startedMs = performance.now();
    i32[this.base + kOpTimingOp] = op;
    Atomics.store(i32, this.base + kOpTimingStartUs, this.memory.usAt(this.startedMs) + 1);
  }

  /** The op begun last has returned. */
  end(): void {
    const ms = performance.now() - this.startedMs;
    this.close(ms, false);
  }

  /** A teardown ended the round: the open op, if any, counts with the time until now. */
  abandon(): void {
    if (this.startedMs < 0) return;
    this.close(performance.now() - this.startedMs, true);
  }

  /** Thread 0, after a round's checks: adds the references its refcount-leak findings say are held. */
  addLeaks(checks: readonly Finding[]): void {
    let refs = 0;
    for (const check of checks) if (check.kind === 'refcount-leak') refs += check.evidence.count;
    if (refs > 0) Atomics.add(this.memory.i32, this.base + kOpTimingLeakedRefs, refs);
  }

  private close(ms: number, tornDown: boolean): void {
    const { i32 } = this.memory;
    this.startedMs = -1;
    Atomics.store(i32, this.base + kOpTimingStartUs, 0);
    record(this.memory, this.thread, this.capacity, toNs(ms), i32[this.base + kOpTimingOp] ?? 0, tornDown);
  }
}

function record(memory: SharedMemory, thread: number, capacity: number, ns: number, op: number, tornDown: boolean): void {
  const { i32, layout } = memory;
  const base = opTimingBase(layout, thread);
  const n = i32[base + kOpTimingCount] ?? 0;
  if (n < capacity) {
    const at = opSampleIndex(layout, thread, n);
    i32[at] = ns;
    i32[at + kOpSampleOp] = op;
  }
  Atomics.store(i32, base + kOpTimingCount, n + 1);
  if (tornDown) Atomics.add(i32, base + kOpTimingTornDown, 1);
}

/**
 * Main thread, in a teardown, once the workers of `threads` were terminated (and before their
 * replacements start): each one's open op counts with the time from its published start to now.
 */
export function closeOpenOps(memory: SharedMemory, threads: readonly number[]): void {
  const { i32, layout } = memory;
  if (layout.opTimingWords === 0) return;
  for (const thread of threads) {
    const base = opTimingBase(layout, thread);
    const start = Atomics.load(i32, base + kOpTimingStartUs);
    if (start === 0) continue;
    Atomics.store(i32, base + kOpTimingStartUs, 0);
    const us = memory.nowUs() - (start - 1);
    record(memory, thread, layout.capacities.opTimingSamples, toNs(us / 1000), i32[base + kOpTimingOp] ?? 0, true);
  }
}

/** What a timed variant recorded, over all its threads. */
export interface OpTimes {
  /** Every recorded op's duration, ns, thread by thread in the order they ran. */
  durationsNs: number[];
  /** The op of each sample: an index into `opNames`. */
  ops: number[];
  opNames: readonly string[];
  /** Ops timed but not stored because a thread's record was full. */
  dropped: number;
  /** Ops ended by a teardown, each counted with the time until it was torn down. */
  tornDown: number;
  /** References that refcount-leak findings found still held, summed over the rounds. */
  leakedRefs: number;
}

/** Main thread, after the variant (no thread runs): every thread's samples. Null when timing is off. */
export function readOpTimes(memory: SharedMemory, threads: readonly number[], opNames: readonly string[]): OpTimes | null {
  const { i32, layout } = memory;
  if (layout.opTimingWords === 0) return null;
  const capacity = layout.capacities.opTimingSamples;
  const times: OpTimes = { durationsNs: [], ops: [], opNames, dropped: 0, tornDown: 0, leakedRefs: 0 };
  for (const thread of threads) {
    const base = opTimingBase(layout, thread);
    const count = Atomics.load(i32, base + kOpTimingCount);
    const stored = Math.min(count, capacity);
    for (let i = 0; i < stored; i++) {
      const at = opSampleIndex(layout, thread, i);
      times.durationsNs.push(i32[at] ?? 0);
      times.ops.push(i32[at + kOpSampleOp] ?? 0);
    }
    times.dropped += count - stored;
    times.tornDown += Atomics.load(i32, base + kOpTimingTornDown);
    times.leakedRefs += Atomics.load(i32, base + kOpTimingLeakedRefs);
  }
  return times;
}
