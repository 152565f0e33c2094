/**
 * Thread entry point that loads, checks and describes a scenario (src/runner/describe.ts), so
 * that the main thread never runs scenario code. Posts steps as it goes, then the description or
 * one error line.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LockstressError } from '../src/errors.js';
import { type DescribeMessage, describeScenario } from '../src/runner/describe.js';
import { loadScenarioModule } from '../src/runner/load-scenario.js';
import { locateError } from '../src/runner/scenario-failure.js';

const { url, label, threads, seed } = workerData as { url: string; label: string; threads: number; seed: number };
const post = (message: DescribeMessage): void => parentPort?.postMessage(message);
let step = 'loading the module';
try {
  const scenario = await loadScenarioModule(url, label);
  const description = describeScenario(scenario, threads, seed, (s) => {
    step = s;
    post({ type: 'step', step: s });
  });
  post({ type: 'done', description });
} catch (error) {
  if (error instanceof LockstressError) post({ type: 'error', message: error.message });
  else {
    const message = error instanceof Error ? error.message : String(error);
    const at = locateError(error, url);
    post({ type: 'error', message: `${label}: ${step} threw: ${message}${at === '' ? '' : ` (at ${at})`}` });
  }
}
