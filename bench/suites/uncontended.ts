/**
 * Uncontended lock+unlock pairs on one thread: raw Atomics, our locks with and without tracking,
 * and async-mutex. Sub-100 ns operations run in batches of {@link kBatch} pairs per tinybench
 * iteration (tinybench's own timer floor is about 30 ns), reported per pair. The same batched
 * loops ({@link createUncontendedTasks}) serve the headline ratios (bench/headline.ts) and the
 * FutexMutex side of the V8 comparison (bench/v8-mutex-child.ts).
 */
import { Mutex } from 'async-mutex';
import { Bench } from 'tinybench';
import { LockKind, SharedMemory, kDefaultCapacities, wordIndex } from '../../src/layout.js';
import { FindingLog } from '../../src/primitives/finding-log.js';
import { FutexMutex } from '../../src/primitives/futex-mutex.js';
import { LockTable } from '../../src/primitives/lock-table.js';
import { SpinLock } from '../../src/primitives/spin-lock.js';
import { StringTable } from '../../src/primitives/string-table.js';
import { TicketSpinLock } from '../../src/primitives/ticket-spin-lock.js';
import { TrackedFutexMutex } from '../../src/primitives/tracked-futex-mutex.js';
import { LockTracker } from '../../src/lockdep/lock-tracker.js';
import { resetLockOrderGraph } from '../../src/scenarios/world.js';
import { type BenchResult, type SuiteOutput, fromTinybench } from '../bench-result.js';
import { yieldToEventLoop } from '../interleave.js';

export const kBatch = 1000;
/** Async pairs per iteration: each pays a microtask turn, so fewer are enough. */
export const kAsyncBatch = 100;

/** One tinybench task: a batch of `opsPerSample` operations. */
export type UncontendedTask =
  | { name: string; isAsync: false; opsPerSample: number; fn: () => void; note?: string }
  | { name: string; isAsync: true; opsPerSample: number; fn: () => Promise<void>; note?: string };

export type UncontendedTaskName =
  | 'raw-cas/uncontended'
  | 'futex-mutex/uncontended'
  | 'futex-mutex+tracking/uncontended'
  | 'spinlock/uncontended'
  | 'ticket-spinlock/uncontended'
  | 'async-mutex/uncontended'
  | 'async-mutex/run-exclusive';

const kAsyncNote = 'async: each pair pays at least one microtask turn';

/** The suite's tasks, in table order, over a fresh shared memory of their own. */
export function createUncontendedTasks(): Record<UncontendedTaskName, UncontendedTask> {
  const memory = SharedMemory.create(kDefaultCapacities);
  const strings = new StringTable(memory);
  const table = new LockTable(memory, strings);
  resetLockOrderGraph(memory);
  const tracker = new LockTracker(memory, strings, new FindingLog(memory), 0);
  const plain = new FutexMutex(memory, table.defineLock(LockKind.Mutex, 'bench_mutex', 'bench_mutex'), 0, null);
  // As lock-kinds.ts makes a tracked mutex.
  const tracked = new TrackedFutexMutex(memory, table.defineLock(LockKind.Mutex, 'bench_tracked', 'bench_tracked'), 0, tracker);
  const spin = new SpinLock(memory, table.defineLock(LockKind.SpinLock, 'bench_spin', 'bench_spin'), 0, null);
  const ticket = new TicketSpinLock(memory, table.defineLock(LockKind.TicketSpinLock, 'bench_ticket', 'bench_ticket'), 0, null);
  const i32 = memory.i32;
  const raw = wordIndex(memory.layout, 0);
  const asyncMutex = new Mutex();
  const sync = (name: UncontendedTaskName, fn: () => void): UncontendedTask => ({ name, isAsync: false, opsPerSample: kBatch, fn });
  return {
    'raw-cas/uncontended': sync('raw-cas/uncontended', () => {
      for (let i = 0; i < kBatch; i++) {
        Atomics.compareExchange(i32, raw, 0, 1);
        Atomics.store(i32, raw, 0);
      }
    }),
    'futex-mutex/uncontended': sync('futex-mutex/uncontended', () => {
      for (let i = 0; i < kBatch; i++) {
        plain.lock();
        plain.unlock();
      }
    }),
    'futex-mutex+tracking/uncontended': sync('futex-mutex+tracking/uncontended', () => {
      for (let i = 0; i < kBatch; i++) {
        tracked.lock('bench');
        tracked.unlock('bench');
      }
    }),
    'spinlock/uncontended': sync('spinlock/uncontended', () => {
      for (let i = 0; i < kBatch; i++) {
        spin.lock();
        spin.unlock();
      }
    }),
    'ticket-spinlock/uncontended': sync('ticket-spinlock/uncontended', () => {
      for (let i = 0; i < kBatch; i++) {
        ticket.lock();
        ticket.unlock();
      }
    }),
    'async-mutex/uncontended': {
      name: 'async-mutex/uncontended',
      isAsync: true,
      opsPerSample: kAsyncBatch,
      note: kAsyncNote,
      fn: async () => {
        for (let i = 0; i < kAsyncBatch; i++) {
          const release = await asyncMutex.acquire();
          release();
        }
      },
    },
    'async-mutex/run-exclusive': {
      name: 'async-mutex/run-exclusive',
      isAsync: true,
      opsPerSample: kAsyncBatch,
      note: kAsyncNote,
      fn: async () => {
        for (let i = 0; i < kAsyncBatch; i++) await asyncMutex.runExclusive(() => undefined);
      },
    },
  };
}

/**
 * Each task in a tinybench of its own, one after the other, with a turn of the event loop
 * between tasks so that Ctrl-C is seen within one task's time. Aborting `signal` stops before
 * the next task; the tasks done so far are returned.
 */
export async function runUncontended(timeMs: number, signal?: AbortSignal): Promise<SuiteOutput> {
  const results: BenchResult[] = [];
  for (const task of Object.values(createUncontendedTasks())) {
    await yieldToEventLoop();
    if (signal?.aborted === true) break;
    const bench = new Bench({ time: timeMs, warmupTime: Math.max(10, timeMs / 4) });
    if (task.isAsync) {
      bench.add(task.name, task.fn);
      await bench.run();
    } else {
      bench.add(task.name, task.fn);
      bench.runSync();
    }
    const done = bench.tasks[0];
    if (done === undefined) throw new Error(`${task.name}: no task`);
    results.push(fromTinybench(task.name, 1, done.result, task.opsPerSample, task.note));
  }
  return { results, unavailable: [] };
}
