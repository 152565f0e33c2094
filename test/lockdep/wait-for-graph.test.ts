import { describe, expect, it } from 'vitest';
import { type ThreadWaitState, findWaitCycles, readWaitStates, sameCycle } from '../../src/lockdep/wait-for-graph.js';
import { LockTracker } from '../../src/lockdep/lock-tracker.js';
import { LockKind, SharedMemory } from '../../src/layout.js';
import { FindingLog } from '../../src/primitives/finding-log.js';
import { FutexMutex } from '../../src/primitives/futex-mutex.js';
import { LockTable } from '../../src/primitives/lock-table.js';
import { StringTable } from '../../src/primitives/string-table.js';

function waiter(thread: number, holds: number[], waitsFor: number | null, owner: number, sinceUs = 100): ThreadWaitState {
  return {
    thread,
    held: holds.map((lockId) => ({ lockId, site: `hold_${lockId}`, sinceUs: 10 })),
    waitingFor: waitsFor === null ? null : { lockId: waitsFor, site: `wait_${waitsFor}`, sinceUs, owner, epoch: 1 },
    op: thread,
  };
}

describe('wait-for graph', () => {
  it('two threads waiting for each other form one cycle', () => {
    const states = [waiter(0, [10], 11, 1), waiter(1, [11], 10, 0), waiter(2, [], null, -1)];
    const cycles = findWaitCycles(states);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]?.threads.map((t) => t.thread)).toEqual([0, 1]);
  });

  it('the cycle starts at its smallest thread whatever the snapshot order', () => {
    const states = [waiter(5, [1], 2, 3), waiter(3, [2], 3, 4), waiter(4, [3], 1, 5)];
    expect(findWaitCycles(states)[0]?.threads.map((t) => t.thread)).toEqual([3, 4, 5]);
  });

  it('a thread waiting on a lock it owns is a cycle of length 1', () => {
    const cycles = findWaitCycles([waiter(0, [7], 7, 0), waiter(1, [], 7, 0)]);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]?.threads.map((t) => t.thread)).toEqual([0]);
  });

  it('a chain of waits without a cycle gives none', () => {
    const states = [waiter(0, [], 1, 1), waiter(1, [1], 2, 2), waiter(2, [2], null, -1), waiter(3, [], 4, -1)];
    expect(findWaitCycles(states)).toEqual([]);
  });

  it('two separate cycles are each reported once', () => {
    const states = [waiter(0, [1], 2, 1), waiter(1, [2], 1, 0), waiter(2, [3], 4, 3), waiter(3, [4], 3, 2)];
    expect(findWaitCycles(states).map((c) => c.threads.map((t) => t.thread))).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it('the same cycle in two snapshots is confirmed; a moved wait start is not', () => {
    const first = findWaitCycles([waiter(0, [1], 2, 1), waiter(1, [2], 1, 0)])[0];
    const again = findWaitCycles([waiter(1, [2], 1, 0), waiter(0, [1], 2, 1)])[0];
    const moved = findWaitCycles([waiter(0, [1], 2, 1), waiter(1, [2], 1, 0, 999)])[0];
    if (first === undefined || again === undefined || moved === undefined) throw new Error('no cycle');
    expect(sameCycle(first, again)).toBe(true);
    expect(sameCycle(first, moved)).toBe(false);
  });

  it('readWaitStates reads held stacks, waits and owners from shared memory', () => {
    const memory = SharedMemory.create();
    const strings = new StringTable(memory);
    const table = new LockTable(memory, strings);
    const log = new FindingLog(memory);
    const groupLock = table.defineLock(LockKind.Mutex, 'group_lock', 'group_lock#0');
    const kvmLock = table.defineLock(LockKind.Mutex, 'kvm->lock', 'kvm->lock#0');
    const t0 = new LockTracker(memory, strings, log, 0);
    const t1 = new LockTracker(memory, strings, log, 1);
    t0.beginOp(2);
    new FutexMutex(memory, groupLock, 0, t0).lock('vfio_device_group_open');
    new FutexMutex(memory, kvmLock, 1, t1).lock('kvm_device_release');
    // What a blocked lock() publishes before it sleeps, without sleeping.
    t0.contended(kvmLock, 'vfio_ap_mdev_open_device');
    t1.contended(groupLock, 'vfio_file_set_kvm');

    const states = readWaitStates(memory, strings, 3);
    expect(states[0]).toMatchObject({
      thread: 0,
      op: 2,
      held: [{ lockId: groupLock, site: 'vfio_device_group_open' }],
      waitingFor: { lockId: kvmLock, site: 'vfio_ap_mdev_open_device', owner: 1 },
    });
    expect(states[1]).toMatchObject({ op: -1, waitingFor: { lockId: groupLock, owner: 0 } });
    expect(states[2]).toMatchObject({ thread: 2, held: [], waitingFor: null, op: -1 });
    const cycles = findWaitCycles(states);
    expect(cycles.map((c) => c.threads.map((t) => t.thread))).toEqual([[0, 1]]);
    const cycle = cycles[0];
    if (cycle === undefined) throw new Error('no cycle');
    expect(sameCycle(cycle, findWaitCycles(readWaitStates(memory, strings, 3))[0] ?? { threads: [] })).toBe(true);
  });
});

describe('wait-for cycles: a thread that just won its lock', () => {
  it('is not a self-deadlock until the lock is in its held stack', () => {
    const winner = {
      thread: 2,
      held: [],
      waitingFor: { lockId: 7, site: 'vfio_device_group_open', sinceUs: 10, owner: 2, epoch: 1 },
      op: 0,
    };
    expect(findWaitCycles([winner])).toEqual([]);
    const recursive = { ...winner, held: [{ lockId: 7, site: 'vfio_device_group_close', sinceUs: 5 }] };
    expect(findWaitCycles([recursive])).toHaveLength(1);
  });
});
