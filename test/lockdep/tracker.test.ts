import { describe, expect, it } from 'vitest';
import { LockTracker } from '../../src/lockdep/lock-tracker.js';
import { SharedLockOrderGraph, resetSharedLockOrderGraph } from '../../src/lockdep/lock-order-graph.js';
import { DepBit, LockKind, SharedMemory } from '../../src/layout.js';
import { FindingLog, type RawFinding } from '../../src/primitives/finding-log.js';
import { FutexMutex } from '../../src/primitives/futex-mutex.js';
import { LockTable, lockClassOf } from '../../src/primitives/lock-table.js';
import { SpinLock } from '../../src/primitives/spin-lock.js';
import { StringTable } from '../../src/primitives/string-table.js';

/** A fresh world: two threads' trackers over one buffer (a zeroed edge table is an empty one). */
function world() {
  const memory = SharedMemory.create();
  const strings = new StringTable(memory);
  const table = new LockTable(memory, strings);
  const log = new FindingLog(memory);
  const trackers = [new LockTracker(memory, strings, log, 0), new LockTracker(memory, strings, log, 1)];
  const tracker = (thread: number): LockTracker => {
    const t = trackers[thread];
    if (t === undefined) throw new RangeError(`no tracker for thread ${thread}`);
    return t;
  };
  const mutex = (className: string, instance: string) => {
    const id = table.defineLock(LockKind.Mutex, className, instance);
    return { id, on: (thread: number) => new FutexMutex(memory, id, thread, tracker(thread)) };
  };
  const spinlock = (className: string, instance: string) => {
    const id = table.defineLock(LockKind.SpinLock, className, instance);
    return { id, on: (thread: number) => new SpinLock(memory, id, thread, tracker(thread)) };
  };
  // The log index is the ring marker's business (event-ring tests); these tests compare the findings.
  const drain = (): Array<Omit<RawFinding, 'index'>> => log.drain().records.map(({ index: _index, ...rest }) => rest);
  return { memory, strings, mutex, spinlock, drain, tracker };
}

describe('LockTracker', () => {
  it('a second lock of a held class is logged as recursive-lock with both locks and sites', () => {
    const w = world();
    const kvm0 = w.mutex('kvm->lock', 'kvm->lock#0');
    const kvm1 = w.mutex('kvm->lock', 'kvm->lock#1');
    kvm0.on(0).lock('kvm_vm_ioctl');
    kvm1.on(0).lock('kvm_vfio_release');
    expect(w.drain()).toEqual([
      {
        kind: 'recursive-lock',
        round: 0,
        thread: 0,
        args: [kvm1.id + 1, w.strings.intern('kvm_vfio_release'), kvm0.id + 1, w.strings.intern('kvm_vm_ioctl'), 0],
      },
    ]);
  });

  it('an unlock of a lock nobody holds is logged as bad-unlock and leaves the lock alone', () => {
    const w = world();
    const group = w.mutex('group_lock', 'group_lock#0');
    group.on(0).unlock('vfio_group_fops_release');
    expect(w.drain()).toEqual([
      { kind: 'bad-unlock', round: 0, thread: 0, args: [group.id + 1, w.strings.intern('vfio_group_fops_release'), 0, 0, 0] },
    ]);
  });

  it("an unlock of another thread's lock is logged as bad-unlock naming the owner", () => {
    const w = world();
    const group = w.mutex('group_lock', 'group_lock#0');
    group.on(0).lock('vfio_device_group_open');
    group.on(1).unlock('vfio_file_set_kvm');
    expect(w.drain()).toEqual([
      { kind: 'bad-unlock', round: 0, thread: 1, args: [group.id + 1, w.strings.intern('vfio_file_set_kvm'), 1, 0, 0] },
    ]);
    expect(group.on(0).ownerThread()).toBe(0);
  });

  it('an assertHeld without the lock is logged as lock-not-held; with it, nothing is logged', () => {
    const w = world();
    const devSet = w.mutex('dev_set->lock', 'dev_set->lock#0');
    devSet.on(0).assertHeld('vfio_device_get_kvm_safe');
    devSet.on(0).lock('vfio_device_open');
    devSet.on(0).assertHeld('vfio_device_first_open');
    expect(w.drain()).toEqual([
      { kind: 'lock-not-held', round: 0, thread: 0, args: [devSet.id + 1, w.strings.intern('vfio_device_get_kvm_safe'), 0, 0, 0] },
    ]);
  });

  it('a mutex or a sleeping call under a spinlock is logged as sleep-in-atomic naming the spinlock', () => {
    const w = world();
    const refLock = w.spinlock('kvm_ref_lock', 'kvm_ref_lock#0');
    const kvm = w.mutex('kvm->lock', 'kvm->lock#0');
    refLock.on(0).lock('vfio_device_group_get_kvm_safe');
    kvm.on(0).lock('kvm_vfio_release');
    w.tracker(0).mightSleep('kvm_destroy_vm');
    expect(w.drain()).toEqual([
      { kind: 'sleep-in-atomic', round: 0, thread: 0, args: [kvm.id + 1, w.strings.intern('kvm_vfio_release'), refLock.id + 1, 0, 0] },
      { kind: 'sleep-in-atomic', round: 0, thread: 0, args: [0, w.strings.intern('kvm_destroy_vm'), refLock.id + 1, 0, 0] },
    ]);
    kvm.on(0).unlock('kvm_vfio_release');
    refLock.on(0).unlock('vfio_device_group_get_kvm_safe');
    w.tracker(0).mightSleep('kvm_destroy_vm');
    expect(w.drain()).toEqual([]);
  });

  it('lock-order edges land in shared memory with their sites and an ABBA order is read back as a cycle', () => {
    const w = world();
    const group = w.mutex('group_lock', 'group_lock#0');
    const kvm = w.mutex('kvm->lock', 'kvm->lock#0');
    const graph = new SharedLockOrderGraph(w.memory, w.strings);

    group.on(0).lock('vfio_device_group_open');
    kvm.on(0).lock('vfio_ap_mdev_open_device');
    kvm.on(0).unlock('vfio_ap_mdev_open_device');
    group.on(0).unlock('vfio_device_group_open');
    expect(graph.poll()).toEqual([]);
    const groupClass = lockClassOf(w.memory, group.id);
    const kvmClass = lockClassOf(w.memory, kvm.id);
    expect(graph.graph.edges()).toEqual([
      {
        from: groupClass,
        to: kvmClass,
        fromSite: 'vfio_device_group_open',
        toSite: 'vfio_ap_mdev_open_device',
        thread: 0,
        round: 0,
        gate: [],
        seq: 0,
        // Two exclusive locks: lockdep's -(EN)-> dependency.
        deps: DepBit.EN,
      },
    ]);

    kvm.on(1).lock('kvm_device_release');
    group.on(1).lock('vfio_file_set_kvm');
    group.on(1).unlock('vfio_file_set_kvm');
    kvm.on(1).unlock('kvm_device_release');
    const cycles = graph.poll();
    expect(cycles).toHaveLength(1);
    expect(cycles[0]?.classes).toEqual([groupClass, kvmClass]);
    expect(cycles[0]?.closing).toMatchObject({
      from: kvmClass,
      to: groupClass,
      fromSite: 'kvm_device_release',
      toSite: 'vfio_file_set_kvm',
      thread: 1,
    });
    expect(graph.poll()).toEqual([]);
    expect(w.drain()).toEqual([]);
  });

  it('an ABBA under a common gate lock is reported only once one order is seen without the gate', () => {
    const w = world();
    const gate = w.mutex('vfio.group_lock', 'vfio.group_lock');
    const a = w.mutex('group_lock', 'group_lock#0');
    const b = w.mutex('kvm->lock', 'kvm->lock#0');
    const graph = new SharedLockOrderGraph(w.memory, w.strings);
    const nest = (thread: number, first: { on(t: number): FutexMutex }, second: { on(t: number): FutexMutex }, gated: boolean): void => {
      if (gated) gate.on(thread).lock('gate');
      first.on(thread).lock('first');
      second.on(thread).lock('second');
      second.on(thread).unlock('second');
      first.on(thread).unlock('first');
      if (gated) gate.on(thread).unlock('gate');
    };
    nest(0, a, b, true);
    nest(1, b, a, true);
    expect(graph.poll()).toEqual([]);
    nest(0, a, b, false);
    const cycles = graph.poll();
    expect(cycles.map((c) => c.classes)).toEqual([[lockClassOf(w.memory, b.id), lockClassOf(w.memory, a.id)]]);
  });

  it('a reset of the shared graph is noticed and its cycles are found afresh', () => {
    const w = world();
    const a = w.mutex('group_lock', 'group_lock#0');
    const b = w.mutex('kvm->lock', 'kvm->lock#0');
    const graph = new SharedLockOrderGraph(w.memory, w.strings);
    const abba = (): void => {
      for (const [x, y] of [[a, b], [b, a]] as const) {
        x.on(0).lock('x');
        y.on(0).lock('y');
        y.on(0).unlock('y');
        x.on(0).unlock('x');
      }
    };
    abba();
    expect(graph.poll()).toHaveLength(1);
    resetSharedLockOrderGraph(w.memory);
    expect(graph.poll()).toEqual([]);
    abba();
    expect(graph.poll()).toHaveLength(1);
  });
});
