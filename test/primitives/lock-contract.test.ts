/**
 * One contract, every lock: FutexMutex, SpinLock, TicketSpinLock, and the write side of
 * RwSemaphore and RwLock; and the mutex as lock-kinds.ts makes it (TrackedFutexMutex with tracking). Two views over one buffer with different thread indexes stand for two
 * threads (no blocking call is made here).
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { LockKind, type SharedMemory } from '../../src/layout.js';
import { FutexMutex } from '../../src/primitives/futex-mutex.js';
import { kLockKinds } from '../../src/primitives/lock-kinds.js';
import type { LockObserver } from '../../src/primitives/lock-observer.js';
import { RwLock } from '../../src/primitives/rw-lock.js';
import { RwSemaphore } from '../../src/primitives/rw-semaphore.js';
import { SpinLock } from '../../src/primitives/spin-lock.js';
import { TicketSpinLock } from '../../src/primitives/ticket-spin-lock.js';
import { TrackedFutexMutex } from '../../src/primitives/tracked-futex-mutex.js';
import { LockTracker } from '../../src/lockdep/lock-tracker.js';
import { freshMemory, kKindCode } from '../helpers/memory.js';

const kKinds = { ...kKindCode, 'lock-kinds mutex': LockKind.Mutex } as const;
type Kind = keyof typeof kKinds;
type AnyLock = FutexMutex | SpinLock | TicketSpinLock | RwSemaphore | RwLock;
const kMutexKind = kLockKinds.find((k) => k.code === LockKind.Mutex);

const factories: Record<Kind, (m: SharedMemory, id: number, t: number, o: LockObserver | null) => AnyLock> = {
  'futex-mutex': (m, id, t, o) => new FutexMutex(m, id, t, o),
  spinlock: (m, id, t, o) => new SpinLock(m, id, t, o),
  'ticket-spinlock': (m, id, t, o) => new TicketSpinLock(m, id, t, o),
  rwsem: (m, id, t, o) => new RwSemaphore(m, id, t, o),
  rwlock: (m, id, t, o) => new RwLock(m, id, t, o),
  'lock-kinds mutex': (m, id, t, o) => {
    const lock = kMutexKind?.create(m, id, t, o);
    if (!(lock instanceof FutexMutex)) throw new Error('lock-kinds.ts makes no FutexMutex');
    if (o !== null && !(lock instanceof TrackedFutexMutex)) throw new Error('lock-kinds.ts makes no TrackedFutexMutex with tracking on');
    return lock;
  },
};

describe.each(Object.keys(factories) as Kind[])('%s contract', (kind) => {
  function setup(tracking = false) {
    const { memory, strings, log, table } = freshMemory();
    const id = table.defineLock(kKinds[kind], 'test_lock', 'test_lock#0');
    const tracker0 = tracking ? new LockTracker(memory, strings, log, 0) : null;
    const tracker1 = tracking ? new LockTracker(memory, strings, log, 1) : null;
    const make = factories[kind];
    return { log, t0: make(memory, id, 0, tracker0), t1: make(memory, id, 1, tracker1) };
  }

  it('ownership is exclusive', () => {
    const { t0, t1 } = setup();
    t0.lock('a');
    expect(t1.tryLock('b')).toBe(false);
    expect(t0.ownerThread()).toBe(0);
    t0.unlock('a');
    expect(t0.ownerThread()).toBe(-1);
    expect(t1.tryLock('b')).toBe(true);
    expect(t1.ownerThread()).toBe(1);
    expect(t0.tryLock('a')).toBe(false);
    t1.unlock('b');
  });

  it('can be taken and released many times in a row', () => {
    const { t0, t1 } = setup();
    for (let i = 0; i < 1000; i++) {
      const t = i % 2 === 0 ? t0 : t1;
      t.lock('loop');
      t.unlock('loop');
    }
    expect(t0.ownerThread()).toBe(-1);
  });

  it('an unlock by a non-owner throws and leaves the lock held, without tracking', () => {
    const { t0, t1 } = setup();
    t0.lock('a');
    expect(() => t1.unlock('b')).toThrow(ProtocolError);
    expect(t0.ownerThread()).toBe(0);
    t0.unlock('a');
  });

  it('an unlock of an unlocked lock throws, without tracking', () => {
    const { t0 } = setup();
    expect(() => t0.unlock('a')).toThrow(ProtocolError);
  });

  it('an unlock by a non-owner is a bad-unlock finding naming the owner, with tracking', () => {
    const { t0, t1, log } = setup(true);
    t0.lock('a');
    t1.unlock('stray');
    expect(t0.ownerThread()).toBe(0);
    const records = log.drain().records;
    expect(records.map((r) => r.kind)).toEqual(['bad-unlock']);
    expect(records[0]?.args[2]).toBe(1); // owner thread 0, stored + 1
    t0.unlock('a');
  });

  it('assertHeld passes for the owner and fails for anyone else', () => {
    const { t0, t1 } = setup();
    t0.lock('a');
    expect(() => t0.assertHeld('check')).not.toThrow();
    expect(() => t1.assertHeld('check')).toThrow(ProtocolError);
    t0.unlock('a');
    expect(() => t0.assertHeld('check')).toThrow(ProtocolError);
  });

  it('assertHeld without the lock is a lock-not-held finding, with tracking', () => {
    const { t0, t1, log } = setup(true);
    t0.lock('a');
    t0.assertHeld('fine');
    t1.assertHeld('lockdep_assert_held');
    t0.unlock('a');
    expect(log.drain().records.map((r) => r.kind)).toEqual(['lock-not-held']);
  });
});
