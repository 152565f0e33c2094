/**
 * Runs in a child `node --harmony-struct`: V8's native `Atomics.Mutex`, uncontended, on one thread.
 * Prints one JSON line: a BenchResult or `{ unavailable }`. Never contended and never blocking: a
 * thread blocked in `Atomics.Mutex.lock` cannot be ended (terminate() never settles, even
 * process.exit() hangs), so the parent also kills this process after a hard timeout.
 */
import { Bench } from 'tinybench';
import { fromTinybench } from './bench-result.js';
import { kBatch } from './suites/uncontended.js';

interface V8Mutex {
  lock(mutex: unknown, fn: () => void): unknown;
}
const MutexCtor = (Atomics as unknown as { Mutex?: (new () => unknown) & V8Mutex }).Mutex;

if (typeof MutexCtor !== 'function') {
  process.stdout.write(`${JSON.stringify({ unavailable: 'Atomics.Mutex is not defined (needs --harmony-struct)' })}\n`);
} else {
  const timeMs = Number(process.argv[2] ?? '400');
  const mutex = new MutexCtor();
  const empty = (): void => undefined;
  const bench = new Bench({ time: timeMs, warmupTime: Math.max(10, timeMs / 4) });
  bench.add('v8-atomics-mutex/uncontended', () => {
    for (let i = 0; i < kBatch; i++) MutexCtor.lock(mutex, empty);
  });
  bench.runSync();
  const task = bench.tasks[0];
  if (task === undefined) throw new Error('no task');
  process.stdout.write(
    `${JSON.stringify(fromTinybench(task.name, 1, task.result, kBatch, 'lock(mutex, callback): the callback runs under the lock'))}\n`,
  );
}
