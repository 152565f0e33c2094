/**
 * Thread entry point for stress rounds: piscina calls the default export with a RoundTask.
 * All logic lives in src/runner/round-task.ts so it can be tested without threads.
 */
import { runRoundTask } from '../src/runner/round-task.js';
import type { RoundTask, RoundTaskResult } from '../src/runner/messages.js';

export default function roundWorker(task: RoundTask): Promise<RoundTaskResult> {
  return runRoundTask(task);
}
