/**
 * Thread entry point for the contended, handoff and vfio-kvm benchmarks (node:worker_threads).
 * The worker stays up for a whole suite: it waits for the main thread to bump the go word, runs
 * one burst, writes its count and elapsed time into its result slot, counts itself done, and
 * waits for the next burst until the stop word is set. Timing happens here, inside the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runBenchWorker, type BenchWorkerData } from '../bench/bench-worker-loop.js';

const done = await runBenchWorker(workerData as BenchWorkerData, () => parentPort?.postMessage('ready'));
parentPort?.postMessage(done);
