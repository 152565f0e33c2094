/**
 * Primitives on real threads: the barrier keeps phases, a blocked thread leaves when the round is
 * torn down, the validator learns a cycle from two threads that never overlap, and a worker blocked
 * for good is ended by piscina's abort and by worker.terminate().
 */
import { describe, expect, it } from 'vitest';
import { Piscina } from 'piscina';
import { LockKind, kDefaultCapacities, kHeaderAbort, kLockState, kThreadWaitingLock, lockBase, threadBase } from '../../src/layout.js';
import { Barrier } from '../../src/primitives/barrier.js';
import { FutexMutex } from '../../src/primitives/futex-mutex.js';
import { SpinLock } from '../../src/primitives/spin-lock.js';
import { TicketSpinLock } from '../../src/primitives/ticket-spin-lock.js';
import { SharedLockOrderGraph } from '../../src/lockdep/lock-order-graph.js';
import { classNameOf } from '../../src/primitives/lock-table.js';
import type { PrimitiveResult } from '../fixtures/primitive-worker.js';
import { freshMemory, kKindCode } from '../helpers/memory.js';
import { eventually, osThreadCount } from '../helpers/os-threads.js';
import { kPrimitiveWorker, runOnThreads, startWorker } from '../helpers/threads.js';

describe('primitives on real threads', () => {
  it('the barrier never lets a thread run a phase ahead', async () => {
    const { memory } = freshMemory();
    new Barrier(memory).reset(4);
    const results = await runOnThreads(
      Array.from({ length: 4 }, (_, thread) => ({
        buffer: memory.buffer,
        capacities: kDefaultCapacities,
        thread,
        job: { mode: 'barrier-phases' as const, phases: 500, parties: 4 },
      })),
    );
    expect(results).toEqual(Array.from({ length: 4 }, () => ({ ok: true, note: 'done' })));
  });

  it.each(['futex-mutex', 'spinlock', 'ticket-spinlock'] as const)(
    'a thread blocked on a %s leaves with RoundAborted when the round is torn down',
    async (kind) => {
      const { memory, table } = freshMemory();
      const lockId = table.defineLock(kKindCode[kind], 'held_for_good', 'held_for_good#0');
      const holder =
        kind === 'futex-mutex'
          ? new FutexMutex(memory, lockId, 5)
          : kind === 'spinlock'
            ? new SpinLock(memory, lockId, 5)
            : new TicketSpinLock(memory, lockId, 5);
      holder.lock('main');
      const blocked = startWorker({
        buffer: memory.buffer,
        capacities: kDefaultCapacities,
        thread: 1,
        job: { mode: 'block-on-lock', kind, lockId },
      });
      // Wait (bounded) until the worker has published its wait: it is past the fast path, blocked.
      const waiting = threadBase(memory.layout, 1) + kThreadWaitingLock;
      expect(await eventually(() => Atomics.load(memory.i32, waiting) === lockId + 1)).toBe(true);
      Atomics.store(memory.i32, memory.layout.header + kHeaderAbort, 1);
      Atomics.notify(memory.i32, lockBase(memory.layout, lockId) + kLockState);
      const result: PrimitiveResult = await blocked.result;
      expect(result).toEqual({ ok: true, note: 'RoundAborted' });
      await blocked.worker.terminate();
    },
  );

  it('two threads taking A->B and B->A in separate phases give a lock-order cycle naming both', async () => {
    const { memory, strings, table } = freshMemory();
    const a = table.defineLock(LockKind.Mutex, 'lock_A', 'A');
    const b = table.defineLock(LockKind.Mutex, 'lock_B', 'B');
    new Barrier(memory).reset(2);
    const results = await runOnThreads([
      { buffer: memory.buffer, capacities: kDefaultCapacities, thread: 0, job: { mode: 'order', order: [a, b], phase: 0 } },
      { buffer: memory.buffer, capacities: kDefaultCapacities, thread: 1, job: { mode: 'order', order: [b, a], phase: 1 } },
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    const cycles = new SharedLockOrderGraph(memory, strings).poll();
    expect(cycles).toHaveLength(1);
    expect(cycles[0]?.classes.map((c) => classNameOf(memory, strings, c)).sort()).toEqual(['lock_A', 'lock_B']);
  });

  it('a worker blocked for good is ended by piscina abort, and the pool keeps working', async () => {
    const pool = new Piscina({ filename: kPrimitiveWorker, minThreads: 1, maxThreads: 1, atomics: 'sync' });
    await pool.run({ buffer: freshMemory().memory.buffer, capacities: kDefaultCapacities, thread: 0, job: { mode: 'refcount-race', iterations: 1 } });
    const threadsBefore = osThreadCount();
    try {
      const { memory } = freshMemory();
      const controller = new AbortController();
      const blocked = pool.run(
        { buffer: memory.buffer, capacities: kDefaultCapacities, thread: 0, job: { mode: 'blocked-forever', ms: 60_000 } },
        { signal: controller.signal },
      );
      await new Promise((r) => setTimeout(r, 200));
      controller.abort();
      await expect(blocked).rejects.toThrow();
      const after = (await pool.run({
        buffer: memory.buffer,
        capacities: kDefaultCapacities,
        thread: 0,
        job: { mode: 'refcount-race', iterations: 10 },
      })) as PrimitiveResult;
      expect(after.ok).toBe(true);
      // The blocked worker was terminated, not left running beside its replacement.
      expect(await eventually(() => osThreadCount() <= threadsBefore)).toBe(true);
    } finally {
      await pool.destroy();
    }
    expect(pool.threads.length).toBe(0);
  });

  it('a worker blocked for good is ended by worker.terminate()', async () => {
    const { memory } = freshMemory();
    const blocked = startWorker({
      buffer: memory.buffer,
      capacities: kDefaultCapacities,
      thread: 0,
      job: { mode: 'blocked-forever', ms: 60_000 },
    });
    blocked.result.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    const exitCode = await blocked.worker.terminate();
    expect(exitCode).toBe(1);
  });
});
