/**
 * Uncontended lock+unlock pairs on one thread: raw Atomics, our locks with and without tracking,
 * and async-mutex. Sub-100 ns operations run in batches of {@link kBatch} pairs per tinybench
 * iteration (tinybench's own timer floor is about 30 ns), reported per pair.
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
import { LockTracker } from '../../src/lockdep/lock-tracker.js';
import { resetLockOrderGraph } from '../../src/scenarios/world.js';
import { type SuiteOutput, fromTinybench } from '../bench-result.js';

export const kBatch = 1000;
/** Async pairs per iteration: each pays a microtask turn, so fewer are enough. */
export const kAsyncBatch = 100;

export async function runUncontended(timeMs: number): Promise<SuiteOutput> {
  const memory = SharedMemory.create(kDefaultCapacities);
  const strings = new StringTable(memory);
  const table = new LockTable(memory, strings);
  resetLockOrderGraph(memory);
  const tracker = new LockTracker(memory, strings, new FindingLog(memory), 0);
  const plain = new FutexMutex(memory, table.defineLock(LockKind.Mutex, 'bench_mutex', 'bench_mutex'), 0, null);
  const tracked = new FutexMutex(memory, table.defineLock(LockKind.Mutex, 'bench_tracked', 'bench_tracked'), 0, tracker);
  const spin = new SpinLock(memory, table.defineLock(LockKind.SpinLock, 'bench_spin', 'bench_spin'), 0, null);
  const ticket = new TicketSpinLock(memory, table.defineLock(LockKind.TicketSpinLock, 'bench_ticket', 'bench_ticket'), 0, null);
  const i32 = memory.i32;
  const raw = wordIndex(memory.layout, 0);

  const sync = new Bench({ time: timeMs, warmupTime: Math.max(10, timeMs / 4) });
  sync
    .add('raw-cas/uncontended', () => {
      for (let i = 0; i < kBatch; i++) {
        Atomics.compareExchange(i32, raw, 0, 1);
        Atomics.store(i32, raw, 0);
      }
    })
    .add('futex-mutex/uncontended', () => {
      for (let i = 0; i < kBatch; i++) {
        plain.lock();
        plain.unlock();
      }
    })
    .add('futex-mutex+tracking/uncontended', () => {
      for (let i = 0; i < kBatch; i++) {
        tracked.lock('bench');
        tracked.unlock('bench');
      }
    })
    .add('spinlock/uncontended', () => {
      for (let i = 0; i < kBatch; i++) {
        spin.lock();
        spin.unlock();
      }
    })
    .add('ticket-spinlock/uncontended', () => {
      for (let i = 0; i < kBatch; i++) {
        ticket.lock();
        ticket.unlock();
      }
    });
  sync.runSync();

  const asyncMutex = new Mutex();
  const asyncBench = new Bench({ time: timeMs, warmupTime: Math.max(10, timeMs / 4) });
  asyncBench
    .add('async-mutex/uncontended', async () => {
      for (let i = 0; i < kAsyncBatch; i++) {
        const release = await asyncMutex.acquire();
        release();
      }
    })
    .add('async-mutex/run-exclusive', async () => {
      for (let i = 0; i < kAsyncBatch; i++) await asyncMutex.runExclusive(() => undefined);
    });
  await asyncBench.run();

  return {
    results: [
      ...sync.tasks.map((t) => fromTinybench(t.name, 1, t.result, kBatch)),
      ...asyncBench.tasks.map((t) =>
        fromTinybench(t.name, 1, t.result, kAsyncBatch, 'async: each pair pays at least one microtask turn'),
      ),
    ],
    unavailable: [],
  };
}
