/**
 * The vfio/kvm hot path: one DEV_OPEN + DEV_CLOSE with the group already added, tracking off, for
 * 51cdc8bc and for the fix 2b48f52f2bff: what the fix's kvm_ref_lock and core reference add. On
 * one thread and contended (workers on one shared world; DEV_OPEN/DEV_CLOSE alone cannot
 * deadlock even in 51cdc8bc, which needs KVFIO_CLOSE for its ABBA).
 *
 * Even the one-thread case runs in a worker of its own per variant: measured in one isolate one
 * after the other, the second variant ran on code the JIT had specialised for the first (and
 * came out 1.5-3x slower in either order).
 */
import { compiledUrl } from '../../src/runner/compiled-path.js';
import { createInProcessWorld } from '../../src/scenarios/in-process-world.js';
import type { Scenario } from '../../src/scenarios/contract.js';
import type { BenchResult, SuiteOutput } from '../bench-result.js';
import { Crew } from '../crew.js';
import { burstMsFor, measureCrew, threadMsPerOp } from './contended.js';

const kVariants = ['51cdc8bc', '2b48f52f2bff'] as const;

/** Aborting `signal` stops before the next crew; the entries done so far are returned. */
export async function runVfioKvm(timeMs: number, contendedThreads: number, signal?: AbortSignal): Promise<SuiteOutput> {
  const scenarioUrl = compiledUrl('src/scenarios/vfio-kvm/index.js').href;
  const scenario = ((await import(scenarioUrl)) as { default: Scenario }).default;
  const threadCounts = [...new Set([1, contendedThreads])];
  const results: BenchResult[] = [];
  for (const variant of kVariants) {
    for (const threads of threadCounts) {
      if (signal?.aborted === true) return { results, unavailable: [] };
      const world = createInProcessWorld(scenario, variant, { tracking: false, threads });
      world.resetRound(1);
      world.setup();
      const crew = new Crew(world.memory, threads, burstMsFor(timeMs), { mode: 'vfio', scenarioUrl, variant });
      try {
        const { result } = await measureCrew(
          `vfio-kvm/open-close/${variant}`,
          crew,
          timeMs,
          threadMsPerOp,
          threads === 1
            ? 'DEV_OPEN + DEV_CLOSE on one thread (a worker of its own), tracking off'
            : `DEV_OPEN + DEV_CLOSE by ${threads} threads on one shared device: ns/op per thread, waiting included; ops/s: all threads`,
        );
        results.push(result);
      } finally {
        await crew.stop();
      }
    }
  }
  return { results, unavailable: [] };
}
