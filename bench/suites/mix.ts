/**
 * The timed mix: each version's real open/release mix, run by the real engine (runStress) with
 * tracking on and the watchdog running, as in a stress round, and every op timed inside the
 * workers (src/runner/op-timing.ts). A deadlocked op is counted with the time until the watchdog
 * tore its round down, so the tail shows the deadlock. The durations go through tinybench's
 * latency statistics (bench/latency.ts).
 *
 * One thing differs from `npm run stress`: the seeded jitter (pauses of up to ~60 µs before
 * locks, there to widen race windows) is off. It is the tester's delay, not the kernel's; with it
 * on the p50 of every version is mostly jitter. The OS interleaving of 4 threads on the cores is
 * enough for 51cdc8bc and pre-51cdc8bc to deadlock again and again.
 *
 * Each version runs its own plan (the schedules that expose its bug, or every schedule for the
 * clean ones), so the mixes differ: `perOp` gives each op's own figures for a like-for-like look.
 */
import { resolveStressOptions } from '../../src/runner/options.js';
import { runStress } from '../../src/runner/run-stress.js';
import type { OpTimes } from '../../src/runner/op-timing.js';
import type { VariantVerdict } from '../../src/runner/verdict.js';
import { type BenchResult, type SuiteOutput, round } from '../bench-result.js';
import { latencyStats } from '../latency.js';

/** The versions of the timed mix: before and after 51cdc8bc, the two fixes, one leaking mutant. */
export const kMixVariants = ['pre-51cdc8bc', '51cdc8bc', 'fix-v2', '2b48f52f2bff', 'missing-put'] as const;
/** An op slower than this many times the version's median is a stall. @default 100 */
export const kStallFactor = 100;
/** Timed ops each thread can record, per ms of budget (more than any version runs here). @default 64 */
export const kSamplesPerMs = 64;
/** Fewest samples a thread's record holds. @default 16384 */
export const kMinSamplesPerThread = 16_384;
/** Seed of the mix's plans: every run times the same sequence of schedules. @default 1 */
export const kMixSeed = 1;

/** Budget per version for a `LOCKSTRESS_BENCH_TIME_MS` of `timeMs`: the same, at least 100 ms. */
export function mixBudgetMs(timeMs: number): number {
  return Math.max(100, timeMs);
}

export interface MixOptions {
  /** Budget per version, ms. */
  durationMs: number;
  threads: number;
  variants?: readonly string[];
  /** Stop a version once it showed what it expects (tests; the bench spends the whole budget). */
  untilExpected?: boolean;
  signal?: AbortSignal;
}

/** One version's op latencies (µs), as tinybench computed them. */
export interface OpLatency {
  ops: number;
  p50: number;
  p99: number;
  max: number;
}

/** A version of the mix: its result, and its sorted samples for the plot. */
export interface MixVersion {
  result: BenchResult;
  sortedUs: readonly number[];
}

export interface MixOutput extends SuiteOutput {
  versions: MixVersion[];
}

/** Rounds torn down because the watchdog saw a deadlock. */
export function deadlockRounds(verdict: VariantVerdict): number {
  return verdict.findings.filter((f) => f.kind === 'deadlock').reduce((sum, f) => sum + f.count, 0);
}

const us = (x: number): number => round(x, x >= 100 ? 0 : 2);

/** One version's result from its verdict and its op times. */
export function mixResult(verdict: VariantVerdict, times: OpTimes, threads: number): MixVersion {
  const name = `vfio-kvm/mix/${verdict.name}`;
  const stats = latencyStats(name, times.durationsNs);
  const stalls = times.durationsNs.filter((ns) => ns / 1000 > kStallFactor * stats.p50).length;
  const perOp: Record<string, OpLatency> = {};
  times.opNames.forEach((op, index) => {
    const ns = times.durationsNs.filter((_, i) => times.ops[i] === index);
    if (ns.length === 0) return;
    const s = latencyStats(`${name} ${op}`, ns);
    perOp[op] = { ops: ns.length, p50: us(s.p50), p99: us(s.p99), max: us(s.max) };
  });
  const ops = stats.samples + times.dropped;
  const result: BenchResult = {
    name,
    threads,
    nsPerOp: round(stats.mean * 1000),
    opsPerSec: verdict.durationMs > 0 ? Math.round((ops * 1000) / verdict.durationMs) : 0,
    rme: round(stats.rme),
    samples: stats.samples,
    rounds: verdict.rounds,
    durationMs: verdict.durationMs,
    p50: us(stats.p50),
    p75: us(stats.p75),
    p99: us(stats.p99),
    p999: us(stats.p999),
    max: us(stats.max),
    deadlocks: deadlockRounds(verdict),
    stalls,
    leakedRefs: times.leakedRefs,
    findings: [...verdict.seen],
    tornDownOps: times.tornDown,
    samplesDropped: times.dropped,
    perOp,
    note: `every op of the version's own plan, timed in the worker (µs), ${threads} threads, tracking and watchdog on, jitter off; a deadlocked op counts until its round was torn down`,
  };
  return { result, sortedUs: stats.sortedUs };
}

/** Aborting `signal` interrupts the run; the versions done so far are returned. */
export async function runMix(options: MixOptions): Promise<MixOutput> {
  const output: MixOutput = { results: [], unavailable: [], versions: [] };
  if (options.signal?.aborted === true) return output;
  const { durationMs, threads } = options;
  const samplesPerThread = Math.min(1 << 20, Math.max(kMinSamplesPerThread, Math.ceil(durationMs * kSamplesPerMs)));
  await runStress(
    resolveStressOptions({
      variants: [...(options.variants ?? kMixVariants)],
      durationMs,
      threads,
      seed: kMixSeed,
      jitter: false,
      untilExpected: options.untilExpected === true,
    }),
    {
      ...(options.signal === undefined ? {} : { interrupt: options.signal }),
      opTiming: {
        samplesPerThread,
        variantTimed: (verdict, times) => {
          if (verdict.status === 'interrupted' || times.durationsNs.length === 0) return;
          const version = mixResult(verdict, times, threads);
          output.versions.push(version);
          output.results.push(version.result);
        },
      },
    },
  );
  return output;
}
