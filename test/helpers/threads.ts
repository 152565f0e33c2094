/** Starting fixture workers with a bound: a test never waits for a thread for ever. */
import { Worker } from 'node:worker_threads';
import type { PrimitiveResult, PrimitiveTask } from '../fixtures/primitive-worker.js';
import { compiledPath } from './compiled.js';

export const kPrimitiveWorker = compiledPath('test/fixtures/primitive-worker.js');

export interface RunningWorker {
  worker: Worker;
  result: Promise<PrimitiveResult>;
}

/** Starts one fixture worker; its result rejects if the worker errors or exceeds `timeoutMs`. */
export function startWorker(task: PrimitiveTask, timeoutMs = 30_000): RunningWorker {
  const worker = new Worker(kPrimitiveWorker, { workerData: task });
  const result = new Promise<PrimitiveResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`worker ${task.thread} (${task.job.mode}) did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('message', (message: PrimitiveResult) => {
      clearTimeout(timer);
      resolve(message);
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  return { worker, result };
}

/** Runs one task per thread and waits for all of them. */
export async function runOnThreads(tasks: PrimitiveTask[], timeoutMs?: number): Promise<PrimitiveResult[]> {
  const running = tasks.map((task) => startWorker(task, timeoutMs));
  try {
    return await Promise.all(running.map((r) => r.result));
  } finally {
    await Promise.all(running.map((r) => r.worker.terminate()));
  }
}
