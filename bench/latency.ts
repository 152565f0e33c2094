/**
 * Latency statistics of op durations measured elsewhere (inside the workers, by the engine's
 * per-op timing: src/runner/op-timing.ts), computed by tinybench itself: each sample is handed to
 * a tinybench task as one iteration's `overriddenDuration` (tinybench's API for time measured
 * somewhere else), with exactly as many iterations as samples and no time budget. tinybench then
 * computes its usual `latency` statistics over them: p50, p75, p99, p99.9, max, mean, rme, with
 * its own percentile definition (linear interpolation between order statistics). Overridden
 * samples are never touched by tinybench's timer-overhead correction.
 */
import { Bench } from 'tinybench';

/** tinybench's latency statistics of one set of samples, in µs. */
export interface LatencyStats {
  samples: number;
  mean: number;
  p50: number;
  p75: number;
  p99: number;
  p999: number;
  min: number;
  max: number;
  /** Relative margin of error of the mean, percent. */
  rme: number;
  /** The samples, sorted ascending, in µs (for the plot; not in the JSON). */
  sortedUs: readonly number[];
}

/** tinybench's statistics of `durationsNs` (at least one sample). */
export function latencyStats(name: string, durationsNs: readonly number[]): LatencyStats {
  if (durationsNs.length === 0) throw new Error(`${name}: no samples`);
  const bench = new Bench({ time: 0, iterations: durationsNs.length, warmup: false, retainSamples: true });
  let i = 0;
  // tinybench's samples are in ms. `async: false` spares the call tinybench otherwise makes to
  // find out whether the function is async, and the hook restarts the sequence at the measured
  // phase in any case: every sample is handed over exactly once, in order.
  bench.add(name, () => ({ overriddenDuration: (durationsNs[i++] ?? Number.NaN) / 1e6 }), {
    async: false,
    beforeAll: () => {
      i = 0;
    },
  });
  bench.runSync();
  const result = bench.tasks[0]?.result;
  if (result === undefined || result.state !== 'completed') throw new Error(`${name}: tinybench ${result?.state ?? 'gave no result'}`);
  const l = result.latency;
  if (l.samplesCount !== durationsNs.length) throw new Error(`${name}: tinybench took ${l.samplesCount} of ${durationsNs.length} samples`);
  const us = (ms: number): number => ms * 1000;
  return {
    samples: l.samplesCount,
    mean: us(l.mean),
    p50: us(l.p50),
    p75: us(l.p75),
    p99: us(l.p99),
    p999: us(l.p999),
    min: us(l.min),
    max: us(l.max),
    rme: l.rme,
    sortedUs: (l.samples ?? []).map(us),
  };
}

/** The q-quantile of ascending `sorted`, as tinybench defines it (linear between order statistics). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const a = sorted[lo] ?? 0;
  const b = sorted[Math.min(sorted.length - 1, lo + 1)] ?? a;
  return a + (at - lo) * (b - a);
}
