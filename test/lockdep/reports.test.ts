import { describe, expect, it } from 'vitest';
import { LockOrderGraph, type LockOrderCycle, type OrderEdge } from '../../src/lockdep/lock-order-graph.js';
import {
  type IrqInversionReport,
  type ReportNames,
  formatBadUnlock,
  formatCircularDependency,
  formatHeldAtReturn,
  formatHungTasks,
  formatInconsistentLockState,
  formatIrqLockInversion,
  formatLockNotHeld,
  formatRecursiveLocking,
  formatSleepInAtomic,
} from '../../src/lockdep/reports.js';
import { DepBit, IrqWord } from '../../src/layout.js';
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

describe('lockdep reports of the validator (plain data)', () => {
  const lockA = { lock: 'lock_A', class: 'lock_A' };

  it('inconsistent lock state reads like print_usage_bug: both usages, the irq state, the <Interrupt> scenario', () => {
    const text = formatInconsistentLockState({
      thread: 0,
      lock: lockA,
      site: 'E2: spin_lock(&lock_A)',
      newUsage: 'HARDIRQ-ON-W',
      prevUsage: 'IN-HARDIRQ-W',
      prevSite: 'E1: spin_lock(&lock_A)',
      irq: 0,
    });
    expect(text.split('\n').slice(0, 9)).toEqual([
      '================================',
      'WARNING: inconsistent lock state',
      '--------------------------------',
      'inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage.',
      'thread 0 [HC0[0]:SC0[0]:HE1:SE1] takes:',
      ' (lock_A){lock_A}, at: E2: spin_lock(&lock_A)',
      '{IN-HARDIRQ-W} state was registered at:',
      '  E1: spin_lock(&lock_A)',
      '',
    ]);
    expect(text).toContain(['       CPU0', '       ----', '  lock(lock_A);', '  <Interrupt>', '    lock(lock_A);', '', ' *** DEADLOCK ***'].join('\n'));
    // In hardirq context with interrupts off, as HARDIRQ_ENTER leaves them.
    const inIrq = formatInconsistentLockState({ thread: 1, lock: lockA, site: 's', newUsage: 'IN-HARDIRQ-W', prevUsage: 'HARDIRQ-ON-W', prevSite: 'p', irq: IrqWord.HardirqUnit | IrqWord.HardirqsOff });
    expect(inIrq).toContain('thread 1 [HC1[1]:SC0[0]:HE0:SE1] takes:');
  });

  const inversion: IrqInversionReport = {
    state: 'HARDIRQ',
    closedBy: 'safe',
    thread: 2,
    safe: { class: 'lock_A', usage: 'IN-HARDIRQ-W', site: 'irq_handler' },
    unsafe: { class: 'lock_B', usage: 'HARDIRQ-ON-W', site: 'process_path' },
    chain: [
      { class: 'lock_A', site: 'take_A' },
      { class: 'lock_C', site: 'take_C' },
      { class: 'lock_B', site: 'take_B' },
    ],
    dependency: { from: 'lock_C', to: 'lock_B', fromSite: 'take_C', toSite: 'take_B' },
  };

  it('an irq lock inversion closed by a usage is print_irq_inversion_bug, with the chain and the interrupt scenario', () => {
    const text = formatIrqLockInversion(inversion);
    const lines = text.split('\n');
    expect(lines.slice(0, 8)).toEqual([
      '========================================================',
      'WARNING: possible irq lock inversion dependency detected',
      '--------------------------------------------------------',
      'thread 2 just changed the state of lock:',
      ' (lock_A){IN-HARDIRQ-W}, at: irq_handler',
      'but this lock took another, HARDIRQ-unsafe lock in the past:',
      ' (lock_B){HARDIRQ-ON-W}',
      '',
    ]);
    expect(text).toContain('Chain exists of:\n  lock_A --> lock_C --> lock_B\n');
    expect(text).toContain(
      [
        '  lock(lock_B);',
        '                               local_irq_disable();',
        '                               lock(lock_A);',
        '                               lock(lock_C);',
        '  <Interrupt>',
        '    lock(lock_A);',
      ].join('\n'),
    );
    expect(lines.slice(-3)).toEqual([' -> (lock_A) at: take_A', '   -> (lock_C) at: take_C', '     -> (lock_B) at: take_B']);
    // Closed by the unsafe lock's usage: the backwards wording, from the unsafe lock.
    const backwards = formatIrqLockInversion({ ...inversion, closedBy: 'unsafe' });
    expect(backwards).toContain('thread 2 just changed the state of lock:\n (lock_B){HARDIRQ-ON-W}, at: process_path');
    expect(backwards).toContain('but this lock was taken by another, HARDIRQ-safe lock in the past:\n (lock_A){IN-HARDIRQ-W}');
  });

  it('an irq lock inversion closed by a new dependency is print_bad_irq_dependency', () => {
    const text = formatIrqLockInversion({ ...inversion, state: 'SOFTIRQ', closedBy: 'dependency' });
    expect(text.split('\n').slice(0, 4)).toEqual([
      '===========================================================',
      'WARNING: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected',
      '-----------------------------------------------------------',
      'thread 2 is trying to acquire:',
    ]);
    expect(text).toContain('which would create a new lock dependency:\n (lock_C) -> (lock_B)');
    expect(text).toContain('but this new dependency connects a SOFTIRQ-irq-safe lock:\n (lock_A){IN-HARDIRQ-W}');
    expect(text).toContain('... which became SOFTIRQ-irq-safe at:\n  irq_handler');
    expect(text).toContain('to a SOFTIRQ-irq-unsafe lock:\n (lock_B){HARDIRQ-ON-W}');
    // The middle lock of the scenario is the held side of the new dependency.
    expect(text).toContain('Chain exists of:\n  lock_A --> lock_C --> lock_B');
  });

  it('a lock held at return is "lock held when returning to user space!", naming the lock and its site', () => {
    const text = formatHeldAtReturn({ thread: 1, op: 'HOLD', lock: { lock: 'A', class: 'lock_A' }, site: 'leaves_locked', index: 0, count: 1 });
    expect(text.split('\n')).toEqual([
      '================================================',
      'WARNING: lock held when returning to user space!',
      '------------------------------------------------',
      'thread-1/HOLD is leaving the operation with locks still held!',
      '1 lock held by thread-1/HOLD:',
      ' #0: (A){lock_A}, at: leaves_locked',
    ]);
  });

  it('a nest lock not held is lockdep\'s "Nested lock was not taken"', () => {
    const text = formatLockNotHeld({ thread: 0, lock: { lock: 'o', class: 'ww_lockdep_mutex' }, site: 'spin_lock_nest_lock', nestFor: lockA });
    expect(text).toContain('WARNING: Nested lock was not taken');
    expect(text).toContain('thread 0 is trying to lock:\n (lock_A){lock_A}, at: spin_lock_nest_lock');
    expect(text).toContain('but this task is not holding:\n (o){ww_lockdep_mutex}');
  });

  it('sleeping in interrupt context names the irq state instead of a spinlock', () => {
    const text = formatSleepInAtomic({ thread: 0, lock: { lock: 'm', class: 'mutex_A' }, site: 'irq_handler', spinlock: null, irq: IrqWord.HardirqUnit | IrqWord.HardirqsOff });
    expect(text).toContain('in_atomic(): 1, irqs_disabled(): 1, thread 0, taking mutex (m){mutex_A}');
    expect(text).toContain('irq state: HC1[1]:SC0[0]:HE0:SE1');
    expect(text).not.toContain('spinlock held');
  });

  it('a cycle through read locks prints rlock() where the dependency was a read', () => {
    const graph = new LockOrderGraph();
    // read_lock(X); spin_lock(Y) ... spin_lock(Y); write_lock(X): X -(SN)-> Y, Y -(EN)-> X.
    graph.addEdge({ ...edge(GROUP, KVM, 'read_lock(X)', 'spin_lock(Y)', 0), deps: DepBit.SN });
    const cycle = graph.addEdge({ ...edge(KVM, GROUP, 'spin_lock(Y)', 'write_lock(X)', 1), deps: DepBit.EN });
    if (cycle === null) throw new Error('no cycle');
    expect(formatCircularDependency(cycle, names)).toContain(
      ['  lock(kvm->lock);', '                               rlock(group_lock);', '                               lock(kvm->lock);', '  lock(group_lock);'].join('\n'),
    );
  });

  it('a cycle through a completion prints each dependency as a context that waits, DEPT-style', () => {
    const completionNames: ReportNames = { ...names, classIsCompletion: (c) => c === DEV_SET };
    const graph = new LockOrderGraph();
    // hold kvm->lock, wait for the completion; take kvm->lock, then complete it.
    graph.addEdge(edge(KVM, DEV_SET, 'kvm_hold', 'wait_done', 0));
    const cycle = graph.addEdge(edge(DEV_SET, KVM, 'complete_done', 'kvm_take', 1));
    if (cycle === null) throw new Error('no cycle');
    const text = formatCircularDependency(cycle, completionNames);
    expect(text).toContain('thread 0 is about to complete:\n (dev_set->lock) at: complete_done');
    expect(text).toContain('but it has waited for this first:\n (kvm->lock) at: kvm_take');
    expect(text).toContain('  context 1 (kvm->lock -> dev_set->lock):\n    lock(kvm->lock);                        at: kvm_hold\n    wait_for_completion(dev_set->lock);     at: wait_done');
    expect(text).toContain('  context 2 (dev_set->lock -> kvm->lock):\n    lock(kvm->lock);                        at: kvm_take\n    complete(dev_set->lock);                at: complete_done');
  });

  it('the hung-task dump names readers, and a completion with its possible completers', () => {
    const states: ThreadWaitState[] = [
      {
        thread: 0,
        held: [{ lockId: KVM, site: 'kvm_hold', sinceUs: 0 }],
        waitingFor: { kind: 'completion', lockId: 0, site: 'wait_done', sinceUs: 0, owner: -1, owners: [1], epoch: 1 },
        op: 0,
      },
      {
        thread: 1,
        held: [],
        waitingFor: { lockId: KVM, site: 'kvm_take', sinceUs: 0, owner: 0, owners: [0], epoch: 1 },
        op: 1,
      },
      {
        thread: 2,
        held: [{ lockId: GROUP, site: 'read_group', sinceUs: 0, read: true }],
        waitingFor: { lockId: GUESTS, read: true, site: 'r', sinceUs: 0, owner: 3, owners: [3, 4], epoch: 1 },
        op: 0,
      },
    ];
    const cycle = findWaitCycles(states)[0] ?? null;
    const text = formatHungTasks(cycle, states, { ...names, completionName: () => 'done' }, 1000);
    expect(text).toContain('  waiting for completion (done) at: wait_done, to be completed by thread-1');
    expect(text).toContain('  waiting for (guests_lock) for read at: r, held by thread-3, thread-4');
    expect(text).toContain('Wait-for cycle: thread-0 -> completion done (to be completed by thread-1) -> thread-1 -> kvm->lock#0 (held by thread-0) -> thread-0');
  });
});
