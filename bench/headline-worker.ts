/**
 * Thread entry point for one headline ratio (bench/headline.ts): a fresh isolate that runs only
 * the ratio's two sides, interleaved, and posts each round's ratio as it is done, then `done`.
 * Failures come back as a message, never thrown across the thread boundary. (It lives in bench/,
 * not workers/, because only the bench uses it.)
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { HeadlineWorkerData, HeadlineWorkerMessage } from './headline.js';
import { interleave } from './interleave.js';
import { type UncontendedTaskName, createUncontendedTasks } from './suites/uncontended.js';

const post = (message: HeadlineWorkerMessage): void => parentPort?.postMessage(message);
const data = workerData as HeadlineWorkerData;

try {
  const tasks = createUncontendedTasks();
  const [a, b] = data.sides.map((name) => {
    const task = tasks[name as UncontendedTaskName];
    if (task === undefined) throw new Error(`no uncontended task ${name}`);
    return task;
  });
  if (a === undefined || b === undefined) throw new Error('a ratio needs two sides');
  await interleave(a, b, { ...data.method, onRound: (ratio) => post({ kind: 'round', ratio }) });
  post({ kind: 'done' });
} catch (error) {
  post({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
}
