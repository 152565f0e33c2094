/**
 * The rendezvous limit beside the engine, measured in the same run, interleaved: a round of the
 * stress engine costs two crossings of its Barrier, so the crossings per second of that very
 * Barrier class (src/primitives/barrier.ts, with the engine's own spins, defaultBarrierSpins(n))
 * on n threads, halved, bound the rounds per second the engine can reach on n threads.
 *
 * For each thread count the two sides alternate in rounds (as bench/interleave.ts does for the
 * headline ratios: A B, B A, A B, ...), so both sides of a round see the machine at the same moment:
 * - the barrier side: bursts of a crew of n workers crossing the barrier back to back, timed in
 *   the workers, for `barrierMs` in all; crossings/s = crossings / the bursts' wall time;
 * - the engine side: one real `runStress` of 2b48f52f2bff on n threads for `stressMs` (tracking,
 *   jitter, watchdog: the defaults of `npm run stress`), on one pool of 4 workers kept for the
 *   whole measurement (a 2-thread run uses two of them); its verdict's `roundsPerSec` and
 *   `acquisitionsPerSec`.
 * A round's ratio is rounds/s ÷ (crossings/s ÷ 2). Thread counts that only `barrier/limit` needs
 * (LOCKSTRESS_BENCH_THREADS beyond 2 and 4) get the barrier side alone.
 */
import { Piscina } from 'piscina';
import { SharedMemory, kDefaultCapacities } from '../../src/layout.js';
import { Barrier, defaultBarrierSpins } from '../../src/primitives/barrier.js';
import { compiledUrl } from '../../src/runner/compiled-path.js';
import { resolveStressOptions } from '../../src/runner/options.js';
import { runStress } from '../../src/runner/run-stress.js';
import { type BenchResult, round } from '../bench-result.js';
import { Crew } from '../crew.js';
import { roundOrder, yieldToEventLoop } from '../interleave.js';

/** The engine's variant: the fix, clean, so every round runs to its end. */
export const kEngineVariant = '2b48f52f2bff';
/** Thread counts of the engine side (and of the ratios). */
export const kEngineThreads = [2, 4] as const;
/** Rounds per thread count. @default 5 */
export const kEngineRounds = 5;

export interface EngineMethod {
  rounds: number;
  /** Budget of each engine run, ms. */
  stressMs: number;
  /** Barrier bursts per round, ms in all. */
  barrierMs: number;
}

/** For a `LOCKSTRESS_BENCH_TIME_MS` of `timeMs`: 5 rounds of a 0.25 x timeMs engine run and 0.08 x timeMs of barrier. */
export function engineMethod(timeMs: number): EngineMethod {
  return { rounds: kEngineRounds, stressMs: Math.max(50, Math.round(timeMs * 0.25)), barrierMs: Math.max(10, Math.round(timeMs * 0.08)) };
}

/** Per-round figures, by thread count. */
export interface EngineRounds {
  crossingsPerSec: Record<number, number[]>;
  roundsPerSec: Record<number, number[]>;
  acquisitionsPerSec: Record<number, number[]>;
}

/** Each round's ratio rounds/s ÷ (crossings/s ÷ 2) on `threads`. */
export function limitRatios(engine: EngineRounds, threads: number): number[] {
  const rounds = engine.roundsPerSec[threads] ?? [];
  const crossings = engine.crossingsPerSec[threads] ?? [];
  return rounds.slice(0, crossings.length).map((r, i) => r / ((crossings[i] ?? 0) / 2)).filter((x) => Number.isFinite(x));
}

/** Barrier bursts for `forMs` in all: crossings per second of wall time. */
function barrierSide(crew: Crew, forMs: number): number {
  let crossings = 0;
  let wallNs = 0;
  do {
    const burst = crew.burst();
    crossings += burst.counts[0] ?? 0;
    wallNs += Math.max(...burst.elapsedNs);
  } while (wallNs / 1e6 < forMs);
  return (crossings / wallNs) * 1e9;
}

async function engineSide(pool: Piscina, threads: number, durationMs: number, seed: number, signal?: AbortSignal): Promise<{ roundsPerSec: number; acquisitionsPerSec: number } | null> {
  const run = await runStress(
    resolveStressOptions({ variants: [kEngineVariant], durationMs, threads, seed }),
    { pool, ...(signal === undefined ? {} : { interrupt: signal }) },
  );
  const verdict = run.variants[0];
  if (run.interrupted || verdict === undefined) return null;
  return { roundsPerSec: verdict.roundsPerSec, acquisitionsPerSec: verdict.acquisitionsPerSec };
}

/**
 * Measures every count of `barrierThreads` and of {@link kEngineThreads}. Aborting `signal`
 * stops after the current side; the rounds done so far are returned.
 */
export async function measureEngineLimit(method: EngineMethod, barrierThreads: readonly number[], signal?: AbortSignal): Promise<EngineRounds> {
  const out: EngineRounds = { crossingsPerSec: {}, roundsPerSec: {}, acquisitionsPerSec: {} };
  const aborted = (): boolean => signal?.aborted === true;
  const counts = [...new Set([...barrierThreads, ...kEngineThreads])].sort((a, b) => a - b);
  const poolThreads = Math.max(...kEngineThreads);
  const pool = new Piscina({
    filename: compiledUrl('workers/round-worker.js').href,
    minThreads: poolThreads,
    maxThreads: poolThreads,
    idleTimeout: 60_000,
    atomics: 'sync',
  });
  try {
    await measureCounts(out, counts, pool, method, aborted, signal);
  } finally {
    await pool.destroy();
  }
  return out;
}

async function measureCounts(
  out: EngineRounds,
  counts: readonly number[],
  sharedPool: Piscina,
  method: EngineMethod,
  aborted: () => boolean,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const threads of counts) {
    if (aborted()) break;
    const withEngine = (kEngineThreads as readonly number[]).includes(threads);
    const memory = SharedMemory.create({ ...kDefaultCapacities, threads: threads + 1 });
    new Barrier(memory).reset(threads);
    const spins = defaultBarrierSpins(threads);
    const crew = new Crew(memory, threads, Math.max(1, Math.min(25, method.barrierMs / 2)), { mode: 'barrier', spins });
    const pool = withEngine ? sharedPool : undefined;
    const crossings: number[] = (out.crossingsPerSec[threads] = []);
    const rounds: number[] = [];
    const acquisitions: number[] = [];
    try {
      await crew.warmUp(Math.max(10, method.barrierMs / 2));
      // An unmeasured engine run: the pool's workers load the scenario and the JIT settles.
      if (pool !== undefined && (await engineSide(pool, threads, Math.max(50, method.stressMs / 2), 1, signal)) === null) break;
      for (let r = 0; r < method.rounds; r++) {
        const order = pool === undefined ? (['b'] as const) : roundOrder(r);
        let engine: { roundsPerSec: number; acquisitionsPerSec: number } | null = null;
        let limit = 0;
        for (const side of order) {
          if (aborted()) return;
          if (side === 'b') limit = barrierSide(crew, method.barrierMs);
          else if (pool !== undefined) engine = await engineSide(pool, threads, method.stressMs, r + 2, signal);
          await yieldToEventLoop();
        }
        if (pool !== undefined && engine === null) return; // interrupted inside the run
        crossings.push(limit);
        if (engine !== null) {
          rounds.push(engine.roundsPerSec);
          acquisitions.push(engine.acquisitionsPerSec);
          out.roundsPerSec[threads] = rounds;
          out.acquisitionsPerSec[threads] = acquisitions;
        }
      }
    } finally {
      await crew.stop();
    }
  }
}

const median = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return ((s[(s.length - 1) >> 1] ?? 0) + (s[s.length >> 1] ?? 0)) / 2;
};

/** `barrier/limit` at each thread count and `stress-rounds/2b48f52f2bff` at 2 and 4, from the rounds of every repeat (medians). */
export function engineResults(measurements: readonly EngineRounds[]): BenchResult[] {
  const pooled = (pick: (e: EngineRounds) => Record<number, number[]>, threads: number): number[] => measurements.flatMap((m) => pick(m)[threads] ?? []);
  const counts = [...new Set(measurements.flatMap((m) => Object.keys(m.crossingsPerSec).map(Number)))].sort((a, b) => a - b);
  const results: BenchResult[] = [];
  for (const threads of counts) {
    const values = pooled((e) => e.crossingsPerSec, threads);
    if (values.length === 0) continue;
    const perSec = median(values);
    results.push({
      name: 'barrier/limit',
      threads,
      nsPerOp: round(1e9 / Math.max(1, perSec)),
      opsPerSec: Math.round(perSec),
      rme: 0,
      samples: values.length,
      crossingsPerSec: Math.round(perSec),
      range: [Math.round(Math.min(...values)), Math.round(Math.max(...values))],
      note: `crossings per second of the real Barrier, ${defaultBarrierSpins(threads)} spins before sleeping (the engine's default for ${threads} threads); median of the rounds`,
    });
  }
  for (const threads of counts) {
    const values = pooled((e) => e.roundsPerSec, threads);
    if (values.length === 0) continue;
    const perSec = median(values);
    results.push({
      name: `stress-rounds/${kEngineVariant}`,
      threads,
      nsPerOp: round(1e9 / Math.max(1, perSec)),
      opsPerSec: Math.round(perSec),
      rme: 0,
      samples: values.length,
      roundsPerSec: Math.round(perSec),
      acquisitionsPerSec: Math.round(median(pooled((e) => e.acquisitionsPerSec, threads))),
      range: [Math.round(Math.min(...values)), Math.round(Math.max(...values))],
      note: `rounds per second of runStress (the verdict's roundsPerSec), ${kEngineVariant}, defaults of npm run stress; median of the rounds`,
    });
  }
  return results;
}
