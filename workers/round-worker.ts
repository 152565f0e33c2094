/**
 * Thread entry point for stress rounds and warm-up: piscina calls the default export with a task.
 * All logic lives in src/runner/variant-task.ts so it can be tested without threads.
 */
import { runWorkerTask } from '../src/runner/variant-task.js';
import type { VariantTaskResult, WorkerTask } from '../src/runner/messages.js';

export default function roundWorker(task: WorkerTask): Promise<VariantTaskResult | 'ready'> {
  return runWorkerTask(task);
}
