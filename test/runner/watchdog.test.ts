/**
 * The watchdog against the publication protocol of lock-tracker.ts, with the window forced by
 * hand: a thread that has just won a contended lock is paused between its publication steps while
 * the watchdog polls, as a thread preempted there under load would be.
 */
import { describe, expect, it } from 'vitest';
import { LockKind, SharedMemory, kLockState, lockBase } from '../../src/layout.js';
import { LockTracker } from '../../src/lockdep/lock-tracker.js';
import { FindingLog } from '../../src/primitives/finding-log.js';
import { FutexMutex } from '../../src/primitives/futex-mutex.js';
import { LockTable } from '../../src/primitives/lock-table.js';
import { StringTable } from '../../src/primitives/string-table.js';
import { Watchdog, type WatchdogAlarm } from '../../src/runner/watchdog.js';

function world() {
  const memory = SharedMemory.create();
  const strings = new StringTable(memory);
  const log = new FindingLog(memory);
  const lock = new LockTable(memory, strings).defineLock(LockKind.Mutex, 'group_lock', 'group->group_lock');
  const trackers = [0, 1].map((t) => new LockTracker(memory, strings, log, t));
  const watchdog = new Watchdog(memory, strings, 2, 500);
  return { memory, lock, trackers, watchdog };
}

describe('watchdog and the publication protocol', () => {
  it('a thread paused anywhere inside acquired() after winning a contended lock is never a deadlock', () => {
    const { memory, lock, trackers, watchdog } = world();
    const [t0, t1] = trackers as [LockTracker, LockTracker];
    const alarms: Array<WatchdogAlarm | null> = [];
    const pollTwice = (): void => {
      alarms.push(watchdog.poll(), watchdog.poll());
    };
    // Thread 1 holds the lock; thread 0 contends and publishes its wait.
    const holder = new FutexMutex(memory, lock, 1, t1);
    holder.lock('vfio_device_group_close');
    t0.willAcquire(lock, 'vfio_device_group_open');
    const waitStart = t0.contended(lock, 'vfio_device_group_open');
    pollTwice();
    // Thread 1 lets go and thread 0's CAS wins the lock word: thread 0 now owns what it waits for.
    holder.unlock('vfio_device_group_close');
    expect(Atomics.compareExchange(memory.i32, lockBase(memory.layout, lock) + kLockState, 0, 1 << 1)).toBe(0);
    pollTwice();
    // Pause thread 0 right after it pushes the lock on its held stack (the step whose order matters).
    const patched = t0 as unknown as { push: (...args: unknown[]) => void };
    const push = patched.push.bind(t0);
    patched.push = (...args: unknown[]): void => {
      push(...args);
      pollTwice();
    };
    t0.acquired(lock, 'vfio_device_group_open', waitStart);
    pollTwice();
    expect(alarms).toHaveLength(8);
    expect(alarms.filter((a) => a !== null)).toEqual([]);
  });

  it('a thread that really waits on a lock it holds is a confirmed self-deadlock', () => {
    const { memory, lock, trackers, watchdog } = world();
    const t0 = trackers[0] as LockTracker;
    new FutexMutex(memory, lock, 0, t0).lock('vfio_file_set_kvm');
    // The second acquire of the same lock: published as a wait, with the lock in the held stack.
    t0.willAcquire(lock, 'kvm_vfio_destroy');
    t0.contended(lock, 'kvm_vfio_destroy');
    expect(watchdog.poll()).toBeNull();
    const alarm = watchdog.poll();
    expect(alarm?.kind).toBe('deadlock');
    if (alarm?.kind !== 'deadlock') throw new Error('no deadlock');
    expect(alarm.cycle.threads.map((t) => t.thread)).toEqual([0]);
    expect(alarm.cycle.threads[0]?.held.map((h) => h.site)).toEqual(['vfio_file_set_kvm']);
  });
});
