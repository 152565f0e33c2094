/**
 * Runs in a child `node --harmony-struct`: V8's native `Atomics.Mutex`, uncontended, on one thread.
 * Two modes, each printing one JSON line:
 * - `table <timeMs>`: the suite's measurement, a BenchResult (`{ result }`);
 * - `rounds <roundMs> <rounds> <warmupMs>`: the headline ratio FutexMutex / Atomics.Mutex,
 *   interleaved here, in this one process (bench/interleave.ts), with the same batched FutexMutex
 *   loop as the main process: a line `{ round }` per round as it is done (so an interrupted run
 *   keeps the rounds done), then `{ done: true }`.
 * Or `{ unavailable }` when there is no `Atomics.Mutex`. Never contended and never blocking: a
 * thread blocked in `Atomics.Mutex.lock` cannot be ended (terminate() never settles, even
 * process.exit() hangs), so the parent also kills this process after a hard timeout.
 */
import { Bench } from 'tinybench';
import { fromTinybench } from './bench-result.js';
import { type Side, interleave } from './interleave.js';
import { createUncontendedTasks, kBatch } from './suites/uncontended.js';

interface V8Mutex {
  lock(mutex: unknown, fn: () => void): unknown;
}
const MutexCtor = (Atomics as unknown as { Mutex?: (new () => unknown) & V8Mutex }).Mutex;
const kName = 'v8-atomics-mutex/uncontended';

function print(line: unknown): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function numberArg(index: number, fallback: number): number {
  const value = Number(process.argv[index] ?? String(fallback));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`argument ${index - 1}: ${process.argv[index]} is not a positive number`);
  return value;
}

if (typeof MutexCtor !== 'function') {
  print({ unavailable: 'Atomics.Mutex is not defined (needs --harmony-struct)' });
} else {
  const mutex = new MutexCtor();
  const empty = (): void => undefined;
  const v8Side: Side = {
    name: kName,
    isAsync: false,
    opsPerSample: kBatch,
    fn: () => {
      for (let i = 0; i < kBatch; i++) MutexCtor.lock(mutex, empty);
    },
  };
  const mode = process.argv[2];
  if (mode === 'table') {
    const timeMs = numberArg(3, 400);
    const bench = new Bench({ time: timeMs, warmupTime: Math.max(10, timeMs / 4) });
    bench.add(v8Side.name, v8Side.fn);
    bench.runSync();
    const task = bench.tasks[0];
    if (task === undefined) throw new Error('no task');
    print({ result: fromTinybench(task.name, 1, task.result, kBatch, 'lock(mutex, callback): the callback runs under the lock') });
  } else if (mode === 'rounds') {
    const futex = createUncontendedTasks()['futex-mutex/uncontended'];
    if (futex.isAsync) throw new Error('futex-mutex/uncontended is synchronous');
    await interleave(futex, v8Side, {
      roundMs: numberArg(3, 50),
      rounds: Math.round(numberArg(4, 20)),
      warmupMs: numberArg(5, 250),
      onRound: (ratio) => print({ round: ratio }),
    });
    print({ done: true });
  } else {
    throw new Error(`mode ${JSON.stringify(mode)}: expected table or rounds`);
  }
}
