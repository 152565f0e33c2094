/**
 * A crew of bench workers that stays up for one suite. `burst()` starts one burst on every worker
 * and blocks (bounded) until all report, so it can be a synchronous tinybench task; the time it
 * reports is the workers' own.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import {
  type SharedMemory,
  createBenchControlBlock,
  kBenchDone,
  kBenchGo,
  kBenchBarrierStopAt,
  kBenchHandoffEnd,
  kBenchResultCount,
  kBenchResultElapsedNs,
  kBenchStop,
  kBenchTurn,
  benchResultBase,
} from '../src/layout.js';
import { kMaxThreads } from '../src/runner/options.js';
import type { BenchJob } from './bench-worker-loop.js';

const kWorkerFile = fileURLToPath(new URL('../workers/bench-worker.js', import.meta.url));
/** A burst that takes longer than this is a bug (a burst is tens of milliseconds). */
const kBurstBoundMs = 20_000;

export interface Burst {
  counts: number[];
  elapsedNs: number[];
}

export class Crew {
  private readonly workers: Worker[];
  private readonly failures: string[] = [];
  /** The handshake words (src/layout.ts), apart from the measured memory. */
  readonly control: Int32Array = createBenchControlBlock(kMaxThreads);

  constructor(
    memory: SharedMemory,
    readonly threads: number,
    burstMs: number,
    job: BenchJob,
  ) {
    this.workers = Array.from(
      { length: threads },
      (_, thread) =>
        new Worker(kWorkerFile, {
          workerData: { control: this.control.buffer as SharedArrayBuffer, buffer: memory.buffer, capacities: memory.layout.capacities, thread, burstMs, job },
        }),
    );
    for (const w of this.workers) w.on('error', (e) => this.failures.push(e.message));
  }

  burst(): Burst {
    const ctl = this.control;
    Atomics.store(ctl, kBenchDone, 0);
    // Handoff bursts start with thread 0's turn and end when thread 0 says so.
    Atomics.store(ctl, kBenchTurn, 0);
    Atomics.store(ctl, kBenchHandoffEnd, 0);
    Atomics.store(ctl, kBenchBarrierStopAt, 0);
    Atomics.add(ctl, kBenchGo, 1);
    Atomics.notify(ctl, kBenchGo);
    const started = Date.now();
    for (let seen = Atomics.load(ctl, kBenchDone); seen < this.threads; seen = Atomics.load(ctl, kBenchDone)) {
      if (this.failures.length > 0) throw new Error(`bench worker failed: ${this.failures[0]}`);
      if (Date.now() - started > kBurstBoundMs) throw new Error(`a bench burst took more than ${kBurstBoundMs} ms`);
      // The main thread may block here: nothing else runs during a measurement.
      Atomics.wait(ctl, kBenchDone, seen, 50);
    }
    const counts: number[] = [];
    const elapsedNs: number[] = [];
    for (let t = 0; t < this.threads; t++) {
      counts.push(Atomics.load(ctl, benchResultBase(t) + kBenchResultCount));
      elapsedNs.push(Atomics.load(ctl, benchResultBase(t) + kBenchResultElapsedNs));
    }
    const failed = counts.findIndex((c) => c < 0);
    if (failed >= 0) throw new Error(`bench worker ${failed} failed during a burst (its error follows on the worker)`);
    return { counts, elapsedNs };
  }

  /**
   * Waits until every worker is up (the main thread must not block before: a worker starts only
   * while the main thread's event loop runs), then runs unmeasured bursts for `forMs` (at least
   * one) so the JIT settles before tinybench samples.
   */
  async warmUp(forMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all(this.workers.map((w) => once(w, 'message'))),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('a bench worker did not start within 20 s')), 20_000);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    const start = performance.now();
    do this.burst();
    while (performance.now() - start < forMs);
  }

  async stop(): Promise<void> {
    Atomics.store(this.control, kBenchStop, 1);
    Atomics.notify(this.control, kBenchGo);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
