/**
 * One headline measurement: every ratio of bench/report.ts `kRatioSpecs`, each measured by
 * interleaving its two sides (bench/interleave.ts) in a fresh isolate that runs only those two
 * sides, on the batched loops of the uncontended suite:
 * - the in-process ratios each in a worker thread of their own (bench/headline-worker.ts);
 * - FutexMutex / V8 Atomics.Mutex in the child `node --harmony-struct` (bench/v8-mutex-child.ts),
 *   both sides there, since Atomics.Mutex exists only under that flag.
 * Why a fresh isolate per ratio: measured one after the other in one isolate, a ratio depends on
 * what the JIT compiled for the tasks that ran before (FutexMutex.lock is shared by the plain
 * and the tracked mutex); in one main isolate two measurements of FutexMutex / raw CAS gave 1.14
 * and 1.33, in fresh workers 1.14 every time. `--repeat N` calls this N times.
 *
 * The `engine` ratios (stress rounds against the Barrier's rendezvous limit) are measured here
 * too, after the others, by bench/suites/engine-limit.ts: the same alternation of their two
 * sides, in rounds of a stress run and barrier bursts.
 */
import { Worker } from 'node:worker_threads';
import type { Unavailable } from './bench-result.js';
import type { InterleaveOptions } from './interleave.js';
import { type RatioKey, type RatioSpec, type RoundRatios, kRatioSpecs } from './report.js';
import { type EngineRounds, engineMethod, limitRatios, measureEngineLimit } from './suites/engine-limit.js';
import { type ChildHooks, runV8Rounds } from './suites/v8-mutex.js';

/** Rounds per ratio and measurement. @default 20 */
export const kHeadlineRounds = 20;

export type HeadlineMethod = Omit<InterleaveOptions, 'signal' | 'onRound'>;

/** Rounds, round length and warm-up of the headline for a `LOCKSTRESS_BENCH_TIME_MS` of `timeMs`. */
export function headlineMethod(timeMs: number): HeadlineMethod {
  // Per ratio 2 x timeMs of rounds: what the two sides got when measured one after the other.
  return { rounds: kHeadlineRounds, roundMs: Math.max(0.5, timeMs / kHeadlineRounds), warmupMs: Math.max(10, timeMs / 4) };
}

/** What bench/headline-worker.ts is given. */
export interface HeadlineWorkerData {
  sides: readonly [string, string];
  method: HeadlineMethod;
}

/** What bench/headline-worker.ts posts: each round's ratio, then `done` or `error`. */
export type HeadlineWorkerMessage = { kind: 'round'; ratio: number } | { kind: 'done' } | { kind: 'error'; message: string };

const kWorkerFile = new URL('./headline-worker.js', import.meta.url);

export interface HeadlineMeasurement {
  rounds: RoundRatios;
  unavailable: Unavailable[];
  /** The engine ratios' two sides, round by round (null if not reached). */
  engine: EngineRounds | null;
}

type Rounds = { rounds: number[] } | { unavailable: string };

/** One ratio in a worker of its own. Interrupted: the rounds done so far. */
function runInWorker(spec: RatioSpec, method: HeadlineMethod, signal?: AbortSignal): Promise<Rounds> {
  return new Promise((resolve) => {
    const rounds: number[] = [];
    if (signal?.aborted === true) {
      resolve({ rounds });
      return;
    }
    const data: HeadlineWorkerData = { sides: spec.sides, method };
    const worker = new Worker(kWorkerFile, { workerData: data });
    let settled = false;
    const finish = (result: Rounds): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // terminate() also ends a worker still inside a synchronous tinybench run.
      void worker.terminate().then(() => resolve(result));
    };
    const onAbort = (): void => finish({ rounds });
    signal?.addEventListener('abort', onAbort, { once: true });
    const boundMs = 20_000 + 10 * (method.warmupMs + 2 * method.rounds * method.roundMs);
    const timer = setTimeout(() => finish({ unavailable: `no result within ${boundMs} ms` }), boundMs);
    worker.on('message', (message: HeadlineWorkerMessage) => {
      if (message.kind === 'round') rounds.push(message.ratio);
      else if (message.kind === 'done') finish({ rounds });
      else finish({ unavailable: message.message });
    });
    worker.on('error', (error) => finish({ unavailable: `worker failed: ${error.message}` }));
    worker.on('exit', (code) => finish(code === 0 ? { rounds } : { unavailable: `worker exited with code ${code}` }));
  });
}

const kInV8Child: RatioKey = 'mutexVsV8Mutex';

/**
 * `barrierThreads`: the thread counts `barrier/limit` is measured at (LOCKSTRESS_BENCH_THREADS);
 * 2 and 4, which the engine ratios need, are always measured.
 */
export async function measureHeadline(timeMs: number, hooks: ChildHooks = {}, barrierThreads: readonly number[] = []): Promise<HeadlineMeasurement> {
  const method = headlineMethod(timeMs);
  const rounds: Partial<Record<RatioKey, number[]>> = {};
  const unavailable: Unavailable[] = [];
  for (const spec of kRatioSpecs) {
    if (hooks.signal?.aborted === true) break;
    if (spec.measure === 'engine') continue;
    const result = spec.key === kInV8Child ? await runV8Rounds(method, hooks) : await runInWorker(spec, method, hooks.signal);
    if ('unavailable' in result) unavailable.push({ name: `${spec.key} (headline)`, reason: result.unavailable });
    else rounds[spec.key] = result.rounds;
  }
  if (hooks.signal?.aborted === true) return { rounds, unavailable, engine: null };
  const engine = await measureEngineLimit(engineMethod(timeMs), barrierThreads, hooks.signal);
  for (const spec of kRatioSpecs) {
    if (spec.measure !== 'engine' || spec.threads === undefined) continue;
    const ratios = limitRatios(engine, spec.threads);
    if (ratios.length > 0) rounds[spec.key] = ratios;
  }
  return { rounds, unavailable, engine };
}
