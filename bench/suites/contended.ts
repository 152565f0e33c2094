/**
 * Contended locks and handoffs, timed inside the workers. Each tinybench iteration is one burst
 * of `burstMs` on every worker; the sample is the workers' own time per operation, given to
 * tinybench as `overriddenDuration` (its own timer would also count the wake-ups of the crew).
 * The crew starts each burst together: the main thread bumps one go word all workers sleep on.
 * Contended: ns/op is one acquisition as a thread pays it, waiting included (the threads'
 * summed time over their summed acquisitions); ops/s is all threads' acquisitions over the wall
 * time; shares are each thread's part of the acquisitions (fairness).
 * Handoff: wall time per transfer of the turn between two threads; thread 0 ends the burst.
 */
import { Bench } from 'tinybench';
import { LockKind, SharedMemory, kDefaultCapacities } from '../../src/layout.js';
import { LockTable } from '../../src/primitives/lock-table.js';
import { StringTable } from '../../src/primitives/string-table.js';
import { type BenchResult, type SuiteOutput, fromTinybench, round } from '../bench-result.js';
import { type Burst, Crew } from '../crew.js';
import type { BenchJob } from '../bench-worker-loop.js';

const kKinds = [
  ['futex-mutex', LockKind.Mutex],
  ['spinlock', LockKind.SpinLock],
  ['ticket-spinlock', LockKind.TicketSpinLock],
] as const;

/** Burst length: long enough to swamp the start/stop handshake, short enough for many samples. */
export function burstMsFor(timeMs: number): number {
  return Math.max(2, Math.min(25, Math.floor(timeMs / 10)));
}

/**
 * Measures bursts of a crew with tinybench. The sample is `perBurst(burst)` ms per operation;
 * the time budget is charged the whole burst. Operations per second are the crew's aggregate:
 * all operations of all bursts over the bursts' wall time (the longest worker's time).
 */
export async function measureCrew(
  name: string,
  crew: Crew,
  timeMs: number,
  perBurst: (burst: Burst) => number,
  note: string,
): Promise<{ result: BenchResult; totals: number[] }> {
  const totals = Array.from({ length: crew.threads }, () => 0);
  let wallNs = 0;
  await crew.warmUp(Math.max(10, timeMs / 4));
  const bench = new Bench({ time: timeMs, warmup: false, iterations: 5 });
  bench.add(name, () => {
    const burst = crew.burst();
    burst.counts.forEach((c, t) => (totals[t] = (totals[t] ?? 0) + c));
    const burstWallNs = Math.max(...burst.elapsedNs);
    wallNs += burstWallNs;
    // The sample is per operation, but the time budget must be charged the whole burst
    // (tinybench charges the sample otherwise, and ns samples would never fill a ms budget).
    return { overriddenDuration: perBurst(burst), overriddenIterationCost: burstWallNs / 1e6 };
  });
  bench.runSync();
  const task = bench.tasks[0];
  if (task === undefined) throw new Error(`${name}: no task`);
  const result = fromTinybench(name, crew.threads, task.result, 1, note);
  const total = totals.reduce((a, b) => a + b, 0);
  return { result: { ...result, opsPerSec: Math.round((total / Math.max(1, wallNs)) * 1e9) }, totals };
}

/**
 * ms per acquisition as a thread pays it (waiting included): the threads' summed time over
 * their summed acquisitions. With one thread it is the plain cost of a pair.
 */
export function threadMsPerOp(burst: Burst): number {
  const total = burst.counts.reduce((a, b) => a + b, 0);
  const time = burst.elapsedNs.reduce((a, b) => a + b, 0);
  return time / 1e6 / Math.max(1, total);
}

/** ms per operation for the crew as a whole: the longest worker's time over all operations. */
export function wallMsPerOp(burst: Burst): number {
  const total = burst.counts.reduce((a, b) => a + b, 0);
  return Math.max(...burst.elapsedNs) / 1e6 / Math.max(1, total);
}

/** Aborting `signal` stops before the next crew; the entries done so far are returned. */
export async function runContended(timeMs: number, threadCounts: readonly number[], signal?: AbortSignal): Promise<SuiteOutput> {
  const results: BenchResult[] = [];
  for (const [kind, code] of kKinds) {
    for (const threads of threadCounts) {
      if (signal?.aborted === true) return { results, unavailable: [] };
      const memory = SharedMemory.create(kDefaultCapacities);
      const lockId = new LockTable(memory, new StringTable(memory)).defineLock(code, `bench_${kind}`, `bench_${kind}`);
      const job: BenchJob = { mode: 'contended', kind, lockId };
      const crew = new Crew(memory, threads, burstMsFor(timeMs), job);
      try {
        const { result, totals } = await measureCrew(
          `${kind}/contended`,
          crew,
          timeMs,
          threadMsPerOp,
          'ns/op: one thread\'s time per acquisition, waiting included; ops/s: all threads together',
        );
        const sum = totals.reduce((a, b) => a + b, 0);
        results.push({ ...result, shares: totals.map((c) => round(c / Math.max(1, sum), 3)) });
      } finally {
        await crew.stop();
      }
    }
  }
  return { results, unavailable: [] };
}

export async function runHandoff(timeMs: number, signal?: AbortSignal): Promise<SuiteOutput> {
  const results: BenchResult[] = [];
  for (const how of ['futex', 'spin'] as const) {
    if (signal?.aborted === true) break;
    const memory = SharedMemory.create(kDefaultCapacities);
    const crew = new Crew(memory, 2, burstMsFor(timeMs), { mode: 'handoff', how });
    try {
      const { result } = await measureCrew(
        `handoff/${how}`,
        crew,
        timeMs,
        wallMsPerOp,
        how === 'futex' ? 'one transfer of the turn, sleeping in Atomics.wait and woken by Atomics.notify' : 'one transfer of the turn, spinning on the word',
      );
      results.push(result);
    } finally {
      await crew.stop();
    }
  }
  return { results, unavailable: [] };
}
