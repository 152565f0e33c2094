import { describe, expect, it } from 'vitest';
import { LockOrderGraph, type LockOrderCycle, type OrderEdge } from '../../src/lockdep/lock-order-graph.js';
import {
  type ReportNames,
  formatBadUnlock,
  formatCircularDependency,
  formatHungTasks,
  formatLockNotHeld,
  formatRecursiveLocking,
  formatSleepInAtomic,
} from '../../src/lockdep/reports.js';
import { type ThreadWaitState, findWaitCycles } from '../../src/lockdep/wait-for-graph.js';

const classNames = ['group_lock', 'dev_set->lock', 'matrix_dev->guests_lock', 'kvm->lock'];
const lockNames = ['group_lock#0', 'dev_set->lock#0', 'guests_lock', 'kvm->lock#0'];
const opNames = ['vfio_device_open', 'kvm_vfio_release'];
const names: ReportNames = {
  className: (c) => classNames[c] ?? `class#${c}`,
  lockName: (l) => lockNames[l] ?? `lock#${l}`,
  lockClass: (l) => l,
  opName: (op) => opNames[op] ?? `op#${op}`,
};
const [GROUP, DEV_SET, GUESTS, KVM] = [0, 1, 2, 3];

function edge(from: number, to: number, fromSite: string, toSite: string, seq: number): OrderEdge {
  return { from, to, fromSite, toSite, thread: seq === 3 ? 1 : 0, round: 1, gate: [], seq };
}

function splatCycle(): LockOrderCycle {
  const graph = new LockOrderGraph();
  graph.addEdge(edge(GROUP, DEV_SET, 'vfio_device_group_open', 'vfio_device_open', 0));
  graph.addEdge(edge(DEV_SET, GUESTS, 'vfio_device_open', 'vfio_ap_mdev_open_device:guests_lock', 1));
  graph.addEdge(edge(GUESTS, KVM, 'vfio_ap_mdev_open_device:guests_lock', 'vfio_ap_mdev_open_device:kvm->lock', 2));
  const cycle = graph.addEdge(edge(KVM, GROUP, 'kvm_device_release', 'vfio_file_set_kvm', 3));
  if (cycle === null) throw new Error('no cycle');
  return cycle;
}

describe('lockdep reports', () => {
  it('the 4-lock circular dependency reads like the §6.3 splat', () => {
    const text = formatCircularDependency(splatCycle(), names);
    const lines = text.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      '======================================================',
      'WARNING: possible circular locking dependency detected',
      '------------------------------------------------------',
      'thread 1 is trying to acquire lock:',
      ' (group_lock) at: vfio_file_set_kvm',
    ]);
    expect(text).toContain('but task is already holding lock:\n (kvm->lock) at: kvm_device_release');
    expect(text).toContain('which lock already depends on the new lock.');
    expect(text).toContain('the existing dependency chain (in reverse order) is:');
    const entries = lines.filter((l) => l.startsWith('-> #'));
    expect(entries).toEqual([
      '-> #3 (kvm->lock):',
      '-> #2 (matrix_dev->guests_lock):',
      '-> #1 (dev_set->lock):',
      '-> #0 (group_lock):',
    ]);
    expect(lines[lines.indexOf('-> #3 (kvm->lock):') + 1]).toBe('       vfio_ap_mdev_open_device:kvm->lock');
    expect(lines[lines.indexOf('-> #1 (dev_set->lock):') + 1]).toBe('       vfio_device_open');
    expect(lines[lines.indexOf('-> #0 (group_lock):') + 1]).toBe('       vfio_file_set_kvm');
    expect(text).toContain('Chain exists of:\n  group_lock --> matrix_dev->guests_lock --> kvm->lock\n');
    expect(text).toContain(
      [
        '       CPU0                    CPU1',
        '       ----                    ----',
        '  lock(kvm->lock);',
        '                               lock(matrix_dev->guests_lock);',
        '                               lock(kvm->lock);',
        '  lock(group_lock);',
      ].join('\n'),
    );
    expect(lines.at(-1)).toBe(' *** DEADLOCK ***');
  });

  it('a 2-lock cycle has no chain line and the lock(source)/lock(target) scenario', () => {
    const graph = new LockOrderGraph();
    graph.addEdge(edge(GROUP, KVM, 'vfio_file_set_kvm', 'kvm_something', 0));
    const cycle = graph.addEdge(edge(KVM, GROUP, 'kvm_device_release', 'vfio_file_set_kvm', 1));
    if (cycle === null) throw new Error('no cycle');
    const text = formatCircularDependency(cycle, names);
    expect(text).not.toContain('Chain exists of:');
    expect(text).toContain(
      [
        '  lock(kvm->lock);',
        '                               lock(group_lock);',
        '                               lock(kvm->lock);',
        '  lock(group_lock);',
      ].join('\n'),
    );
    expect(text).toContain(' *** DEADLOCK ***');
  });

  it('misuse reports carry the kernel banners, locks and sites', () => {
    const kvm = { lock: 'kvm->lock#0', class: 'kvm->lock' };
    const kvm1 = { lock: 'kvm->lock#1', class: 'kvm->lock' };
    const recursive = formatRecursiveLocking({ thread: 2, lock: kvm1, site: 'second', held: kvm, heldSite: 'first' });
    expect(recursive).toContain('WARNING: possible recursive locking detected');
    expect(recursive).toContain(' (kvm->lock#1){kvm->lock}, at: second');
    expect(recursive).toContain(' (kvm->lock#0){kvm->lock}, at: first');
    expect(recursive).toContain('May be due to missing lock nesting notation');

    const unbalanced = formatBadUnlock({ thread: 2, lock: kvm, site: 'kvm_vfio_release', ownerThread: -1 });
    expect(unbalanced).toContain('WARNING: bad unlock balance detected!');
    expect(unbalanced).toContain('thread 2 is trying to release lock (kvm->lock#0) at:\nkvm_vfio_release');
    expect(unbalanced).toContain('but there are no more locks to release!');
    expect(formatBadUnlock({ thread: 2, lock: kvm, site: 's', ownerThread: 0 })).toContain('held by thread 0');

    const notHeld = formatLockNotHeld({ thread: 1, lock: kvm, site: 'vfio_device_get_kvm_safe' });
    expect(notHeld).toContain('WARNING: thread 1 at vfio_device_get_kvm_safe: lockdep_assert_held(kvm->lock)');

    const spin = { lock: 'kvm_ref_lock#0', class: 'kvm_ref_lock' };
    const sleeping = formatSleepInAtomic({ thread: 3, lock: null, site: 'kvm_destroy_vm', spinlock: spin });
    expect(sleeping).toContain('BUG: sleeping function called from invalid context at kvm_destroy_vm');
    expect(sleeping).toContain('(kvm_ref_lock#0){kvm_ref_lock}');
  });

  it('the hung-task dump lists blocked threads, their locks and the wait-for cycle', () => {
    const states: ThreadWaitState[] = [
      {
        thread: 1,
        held: [
          { lockId: GROUP, site: 'vfio_device_group_open', sinceUs: 0 },
          { lockId: DEV_SET, site: 'vfio_device_open', sinceUs: 0 },
        ],
        waitingFor: { lockId: KVM, site: 'vfio_ap_mdev_open_device', sinceUs: 1000, owner: 2, epoch: 1 },
        op: 0,
      },
      {
        thread: 2,
        held: [{ lockId: KVM, site: 'kvm_device_release', sinceUs: 0 }],
        waitingFor: { lockId: GROUP, site: 'vfio_file_set_kvm', sinceUs: 2000, owner: 1, epoch: 1 },
        op: 1,
      },
      { thread: 3, held: [], waitingFor: null, op: -1 },
    ];
    const cycle = findWaitCycles(states)[0] ?? null;
    const text = formatHungTasks(cycle, states, names, 252_000);
    const lines = text.split('\n');
    expect(lines).toContain('INFO: task thread-1:vfio_device_open blocked for more than 251 ms.');
    expect(lines).toContain('INFO: task thread-2:kvm_vfio_release blocked for more than 250 ms.');
    expect(lines).toContain('Showing all locks held in the system:');
    expect(lines).toContain('2 locks held by thread-1/vfio_device_open:');
    expect(lines).toContain(' #0: (group_lock#0){group_lock}, at: vfio_device_group_open');
    expect(lines).toContain(' #1: (dev_set->lock#0){dev_set->lock}, at: vfio_device_open');
    expect(lines).toContain('  waiting for (kvm->lock#0) at: vfio_ap_mdev_open_device, held by thread-2');
    expect(lines).toContain('1 lock held by thread-2/kvm_vfio_release:');
    expect(text).not.toContain('thread-3');
    expect(lines.at(-1)).toBe(
      'Wait-for cycle: thread-1 -> kvm->lock#0 (held by thread-2) -> thread-2 -> group_lock#0 (held by thread-1) -> thread-1',
    );
    expect(formatHungTasks(null, states, names, 252_000)).not.toContain('Wait-for cycle');
  });
});
