/**
 * The vfio/kvm hot path: one DEV_OPEN + DEV_CLOSE with the group already added, tracking off, for
 * 51cdc8bc and for the fix 2b48f52f2bff: what the fix's kvm_ref_lock and core reference add. On
 * one thread (in-process) and contended (workers on one shared world; DEV_OPEN/DEV_CLOSE alone
 * cannot deadlock even in 51cdc8bc, which needs KVFIO_CLOSE for its ABBA).
 */
import { Bench } from 'tinybench';
import { compiledUrl } from '../../src/runner/compiled-path.js';
import { createInProcessWorld } from '../../src/scenarios/in-process-world.js';
import type { Scenario } from '../../src/scenarios/contract.js';
import { type BenchResult, type SuiteOutput, fromTinybench } from '../bench-result.js';
import { Crew } from '../crew.js';
import { burstMsFor, measureCrew, threadMsPerOp } from './contended.js';

const kVariants = ['51cdc8bc', '2b48f52f2bff'] as const;
const kBatch = 100;

export async function runVfioKvm(timeMs: number, contendedThreads: number): Promise<SuiteOutput> {
  const scenarioUrl = compiledUrl('src/scenarios/vfio-kvm/index.js').href;
  const scenario = ((await import(scenarioUrl)) as { default: Scenario }).default;
  const results: BenchResult[] = [];
  for (const variant of kVariants) {
    const world = createInProcessWorld(scenario, variant, { tracking: false });
    world.resetRound(1);
    world.setup();
    const bench = new Bench({ time: timeMs, warmupTime: Math.max(10, timeMs / 4) });
    bench.add(`vfio-kvm/open-close/${variant}`, () => {
      for (let i = 0; i < kBatch; i++) {
        world.run('DEV_OPEN');
        world.run('DEV_CLOSE');
      }
    });
    bench.runSync();
    const task = bench.tasks[0];
    if (task === undefined) throw new Error('no task');
    results.push(fromTinybench(task.name, 1, task.result, kBatch, 'DEV_OPEN + DEV_CLOSE, tracking off'));

    if (contendedThreads > 1) {
      const shared = createInProcessWorld(scenario, variant, { tracking: false, threads: contendedThreads });
      shared.resetRound(1);
      shared.setup();
      const crew = new Crew(shared.memory, contendedThreads, burstMsFor(timeMs), { mode: 'vfio', scenarioUrl, variant });
      try {
        const { result } = await measureCrew(
          `vfio-kvm/open-close/${variant}`,
          crew,
          timeMs,
          threadMsPerOp,
          `DEV_OPEN + DEV_CLOSE by ${contendedThreads} threads on one shared device: ns/op per thread, waiting included; ops/s: all threads`,
        );
        results.push(result);
      } finally {
        await crew.stop();
      }
    }
  }
  return { results, unavailable: [] };
}
