/**
 * The read sides of RwSemaphore and RwLock: shared among readers, exclusive against writers, and
 * who waits for whom (a waiting writer holds rwsem readers and queued-rwlock readers off, but not
 * plain rwlock readers nor queued ones in interrupt context). Then readers and writers hammering
 * one lock on 4 real threads.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { LockFlag, LockKind, kDefaultCapacities, kHeaderAbort, kLockState, kThreadWaitingLock, lockBase, threadBase, wordIndex } from '../../src/layout.js';
import { LockTracker } from '../../src/lockdep/lock-tracker.js';
import { Barrier } from '../../src/primitives/barrier.js';
import { IrqState } from '../../src/primitives/irq-state.js';
import { RwLock } from '../../src/primitives/rw-lock.js';
import { RwSemaphore } from '../../src/primitives/rw-semaphore.js';
import { freshMemory } from '../helpers/memory.js';
import { eventually } from '../helpers/os-threads.js';
import { runOnThreads, startWorker } from '../helpers/threads.js';

describe.each([
  ['rwsem', (m: ReturnType<typeof freshMemory>, id: number, t: number) => new RwSemaphore(m.memory, id, t)],
  ['rwlock', (m: ReturnType<typeof freshMemory>, id: number, t: number) => new RwLock(m.memory, id, t)],
] as const)('%s read side', (kind, make) => {
  function setup() {
    const m = freshMemory();
    const id = m.table.defineLock(kind === 'rwsem' ? LockKind.RwSemaphore : LockKind.RwLock, 'rw', 'rw#0');
    return { m, id, t0: make(m, id, 0), t1: make(m, id, 1) };
  }

  it('readers share it; a writer waits for every reader, and readers for the writer', () => {
    const { t0, t1 } = setup();
    t0.read.lock('r0', 0, -1);
    expect(t1.read.tryLock('r1')).toBe(true);
    expect(t0.tryLock('w')).toBe(false);
    t0.read.unlock('r0');
    expect(t0.tryLock('w')).toBe(false);
    t1.read.unlock('r1');
    expect(t0.tryLock('w')).toBe(true);
    expect(t0.ownerThread()).toBe(0);
    expect(t1.read.tryLock('r1')).toBe(false);
    t0.unlock('w');
    expect(t1.read.tryLock('r1')).toBe(true);
    t1.read.unlock('r1');
  });

  it('a read unlock with no reader throws without tracking, and is a bad-unlock with it', () => {
    const { m, id, t0 } = setup();
    expect(() => t0.read.unlock('stray')).toThrow(ProtocolError);
    const tracked = kind === 'rwsem' ? new RwSemaphore(m.memory, id, 0, new LockTracker(m.memory, m.strings, m.log, 0)) : new RwLock(m.memory, id, 0, new LockTracker(m.memory, m.strings, m.log, 0));
    tracked.lock('w');
    // up_read of a lock held for write: misuse, reported, and the lock left alone.
    tracked.read.unlock('wrong_side');
    expect(m.log.drain().records.map((r) => r.kind)).toEqual(['bad-unlock']);
    expect(tracked.ownerThread()).toBe(0);
    tracked.unlock('w');
  });
});

describe('who waits behind a waiting writer', () => {
  async function withWaitingWriter(kind: LockKind, flags: number, check: (reader: { tryRead(): boolean }, memory: ReturnType<typeof freshMemory>['memory']) => void): Promise<void> {
    const { memory, table } = freshMemory();
    const id = table.defineLock(kind, 'rw', 'rw#0', { flags });
    const holder = kind === LockKind.RwSemaphore ? new RwSemaphore(memory, id, 0) : new RwLock(memory, id, 0);
    holder.read.lock('holds_read', 0, -1);
    const writer = startWorker({ buffer: memory.buffer, capacities: kDefaultCapacities, thread: 1, job: { mode: 'block-on-lock', kind: kind === LockKind.RwSemaphore ? 'rwsem' : 'rwlock', lockId: id } });
    try {
      // The writer has published its wait and registered as waiting (the state word counts it).
      expect(await eventually(() => Atomics.load(memory.i32, threadBase(memory.layout, 1) + kThreadWaitingLock) === id + 1)).toBe(true);
      expect(await eventually(() => (Atomics.load(memory.i32, lockBase(memory.layout, id) + kLockState) & 0xfe) !== 0)).toBe(true);
      const reader = kind === LockKind.RwSemaphore ? new RwSemaphore(memory, id, 2) : new RwLock(memory, id, 2);
      check({ tryRead: () => reader.read.tryLock('second_reader') }, memory);
    } finally {
      Atomics.store(memory.i32, memory.layout.header + kHeaderAbort, 1);
      Atomics.notify(memory.i32, lockBase(memory.layout, id) + kLockState);
      expect(await writer.result).toEqual({ ok: true, note: 'RoundAborted' });
      await writer.worker.terminate();
    }
  }

  it('an rwsem reader does not join readers while a writer waits (so recursive down_read can deadlock)', async () => {
    await withWaitingWriter(LockKind.RwSemaphore, 0, (reader) => expect(reader.tryRead()).toBe(false));
  });

  it('a plain rwlock reader joins other readers even while a writer waits (read_lock is recursive)', async () => {
    await withWaitingWriter(LockKind.RwLock, 0, (reader) => expect(reader.tryRead()).toBe(true));
  });

  it('a queued rwlock reader waits behind the writer, except in interrupt context', async () => {
    await withWaitingWriter(LockKind.RwLock, LockFlag.Queued, (reader, memory) => {
      expect(reader.tryRead()).toBe(false);
      const irq = new IrqState(memory, 2, null);
      const flags = irq.enterHardirq();
      expect(reader.tryRead()).toBe(true);
      irq.exitHardirq(flags);
    });
  });
});

describe.each(['rwsem', 'rwlock'] as const)('%s on 4 threads', (kind) => {
  it.each([false, true])('readers and writers never overlap and every write counts (tracking %s)', async (tracking) => {
    const { memory, table } = freshMemory();
    const lockId = table.defineLock(kind === 'rwsem' ? LockKind.RwSemaphore : LockKind.RwLock, 'hammered', 'hammered#0');
    new Barrier(memory).reset(4);
    const iterations = 20_000;
    const results = await runOnThreads(
      Array.from({ length: 4 }, (_, thread) => ({
        buffer: memory.buffer,
        capacities: kDefaultCapacities,
        thread,
        job: { mode: 'rw-hammer' as const, kind, lockId, iterations, writeEvery: 4, tracking },
      })),
      60_000,
    );
    expect(results).toEqual(Array.from({ length: 4 }, () => ({ ok: true, note: 'done' })));
    expect(Atomics.load(memory.i32, wordIndex(memory.layout, 0))).toBe((4 * iterations) / 4);
  }, 90_000);
});
