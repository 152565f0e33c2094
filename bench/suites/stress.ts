/**
 * Stress throughput: lock acquisitions per second, summed over all threads, for the fixed
 * vfio/kvm variant under the real stress runner (tracking on, jitter on, rounds and barriers
 * included), from the runner's own lock statistics.
 */
import { resolveStressOptions } from '../../src/runner/options.js';
import { runStress } from '../../src/runner/run-stress.js';
import { type SuiteOutput, round } from '../bench-result.js';

/** Aborting `signal` interrupts the run (as Ctrl-C does `npm run stress`); it then gives no result. */
export async function runStressThroughput(durationMs: number, threads: number, signal?: AbortSignal): Promise<SuiteOutput> {
  if (signal?.aborted === true) return { results: [], unavailable: [] };
  const run = await runStress(
    resolveStressOptions({ variants: ['2b48f52f2bff'], durationMs, threads, seed: 1 }),
    signal === undefined ? {} : { interrupt: signal },
  );
  if (run.interrupted) return { results: [], unavailable: [] };
  const verdict = run.variants[0];
  if (verdict === undefined) throw new Error('stress run gave no verdict');
  const acquisitions = verdict.lockStats.reduce((sum, s) => sum + s.acquisitions, 0);
  const opsPerSec = (acquisitions / verdict.durationMs) * 1000;
  return {
    results: [
      {
        name: 'stress/2b48f52f2bff',
        threads,
        nsPerOp: round(1e9 / Math.max(1, opsPerSec)),
        opsPerSec: Math.round(opsPerSec),
        // One measurement (a whole run), so no spread to report.
        rme: 0,
        samples: 1,
        rounds: verdict.rounds,
        durationMs: verdict.durationMs,
        acquisitions,
        note: `all threads' lock acquisitions over the run's wall time (${verdict.rounds} rounds, worker start-up, jitter and round barriers included)`,
      },
    ],
    unavailable: [],
  };
}
