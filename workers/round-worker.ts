/**
 * Thread entry point for stress rounds and warm-up: piscina calls the default export with a task.
 * All logic lives in src/runner/round-task.ts so it can be tested without threads.
 */
import { runWorkerTask } from '../src/runner/round-task.js';
import type { RoundTaskResult, WorkerTask } from '../src/runner/messages.js';

export default function roundWorker(task: WorkerTask): Promise<RoundTaskResult | 'ready'> {
  return runWorkerTask(task);
}
