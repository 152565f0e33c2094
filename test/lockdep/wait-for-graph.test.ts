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

describe('wait-for graph with readers and completions', () => {
  const state = (thread: number, held: Array<{ lockId: number; read?: boolean }>, waitingFor: ThreadWaitState['waitingFor'], op = 0): ThreadWaitState => ({
    thread,
    held: held.map((h) => ({ ...h, site: `hold_${h.lockId}`, sinceUs: 1 })),
    waitingFor,
    op,
  });
  const waitLock = (lockId: number, owners: number[], read = false) => ({ lockId, read, site: `wait_${lockId}`, sinceUs: 5, owner: owners[0] ?? -1, owners, epoch: 1 });
  const waitCompletion = (id: number, completers: number[]) => ({ kind: 'completion' as const, lockId: id, site: 'wait_done', sinceUs: 5, owner: -1, owners: completers, epoch: 1 });

  it('a writer waiting for two readers deadlocks with either of them', () => {
    // Threads 1 and 2 read lock 7; thread 0 waits to write it; thread 2 waits for lock 8, held by 0.
    const states = [
      state(0, [{ lockId: 8 }], waitLock(7, [1, 2])),
      state(1, [{ lockId: 7, read: true }], null),
      state(2, [{ lockId: 7, read: true }], waitLock(8, [0])),
    ];
    const cycles = findWaitCycles(states);
    expect(cycles.map((c) => c.threads.map((t) => t.thread))).toEqual([[0, 2]]);
    expect(cycles[0]?.threads[0]?.waitingFor?.owner).toBe(2);
  });

  it('a completion waiter is deadlocked only when every thread that could complete it is stuck behind it', () => {
    // Thread 0 holds L (5) and waits for the completion; thread 1, the only other one running, waits for L.
    const stuck = [state(0, [{ lockId: 5 }], waitCompletion(0, [1])), state(1, [], waitLock(5, [0]), 1), state(2, [], null, -1)];
    const cycles = findWaitCycles(stuck);
    expect(cycles.map((c) => c.threads.map((t) => t.thread))).toEqual([[0, 1]]);
    expect(cycles[0]?.members).toEqual([0, 1]);
    // A third thread still running could complete it: not a deadlock (yet).
    expect(findWaitCycles([state(0, [{ lockId: 5 }], waitCompletion(0, [1, 2])), state(1, [], waitLock(5, [0]), 1), state(2, [], null, 0)])).toEqual([]);
    // Nobody else running at all: a hang (the watchdog's stuck), not a cycle.
    expect(findWaitCycles([state(0, [], waitCompletion(0, []))])).toEqual([]);
  });

  it('a completion deadlock is confirmed only if the other threads did not move between the snapshots', () => {
    const snapshot = (otherEpoch: number) =>
      findWaitCycles([state(0, [{ lockId: 5 }], waitCompletion(0, [1])), state(1, [], waitLock(5, [0]), 1), { ...state(2, [], null, -1), opEpoch: otherEpoch }])[0];
    const first = snapshot(3);
    const same = snapshot(3);
    const moved = snapshot(4);
    if (first === undefined || same === undefined || moved === undefined) throw new Error('no cycle');
    expect(sameCycle(first, same)).toBe(true);
    expect(sameCycle(first, moved)).toBe(false);
  });
});
