/** One measured entry of `npm run bench`, as printed and as written to JSON. */
export interface BenchResult {
  /** e.g. `futex-mutex/uncontended`, `spinlock/contended`. */
  name: string;
  threads: number;
  /** Nanoseconds per operation (per lock+unlock pair, per acquisition, per handoff, per open+close). */
  nsPerOp: number;
  /** Operations per second, summed over all threads. */
  opsPerSec: number;
  /** Relative margin of error of the mean, in percent (tinybench's rme). */
  rme: number;
  samples: number;
  /** Each thread's share of the acquisitions (contended suites), summing to 1. */
  shares?: number[];
  /** Stress throughput: the runner's rounds, wall time and summed lock acquisitions. */
  rounds?: number;
  durationMs?: number;
  acquisitions?: number;
  /** What one operation is, when the name alone does not say. */
  note?: string;
  /**
   * The timed mix (`vfio-kvm/mix/*`): tinybench's latency statistics of every op, in µs, and what
   * the timing surfaced: rounds torn down as deadlocks, ops slower than 100x the median, the
   * references the arbiter found still held (summed over rounds), the distinct finding kinds.
   */
  p50?: number;
  p75?: number;
  p99?: number;
  p999?: number;
  max?: number;
  deadlocks?: number;
  stalls?: number;
  leakedRefs?: number;
  findings?: string[];
  /** Ops ended by a teardown (counted with the time until then). */
  tornDownOps?: number;
  /** Ops timed but not stored (a thread's record was full): 0 unless the budget is huge. */
  samplesDropped?: number;
  /** Each op's own figures (µs): ops, p50, p99, max. */
  perOp?: Record<string, { ops: number; p50: number; p99: number; max: number }>;
  /** The rendezvous limit and the engine (`barrier/limit`, `stress-rounds/*`): medians over rounds. */
  crossingsPerSec?: number;
  roundsPerSec?: number;
  acquisitionsPerSec?: number;
  /** Min and max of the per-round figure whose median is `opsPerSec`. */
  range?: [number, number];
}

/** A suite that could not run here (e.g. no `Atomics.Mutex`): reported, not an error. */
export interface Unavailable {
  name: string;
  reason: string;
}

export interface SuiteOutput {
  results: BenchResult[];
  unavailable: Unavailable[];
}

/** Turns a completed tinybench task into a result; `opsPerSample` operations ran per sample. */
export function fromTinybench(
  name: string,
  threads: number,
  result: { state: string; latency?: { mean: number; rme: number; samplesCount: number }; error?: unknown },
  opsPerSample: number,
  note?: string,
): BenchResult {
  if (result.state !== 'completed' || result.latency === undefined) {
    throw new Error(`${name}: benchmark ${result.state}${result.error instanceof Error ? `: ${result.error.message}` : ''}`);
  }
  const nsPerOp = (result.latency.mean * 1e6) / opsPerSample;
  return {
    name,
    threads,
    nsPerOp: round(nsPerOp),
    opsPerSec: Math.round((1e9 / nsPerOp) * threads),
    rme: round(result.latency.rme),
    samples: result.latency.samplesCount,
    ...(note === undefined ? {} : { note }),
  };
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
