/**
 * The 6.6 device cdev path (kernel-model.md §8.3) on ONE thread (createInProcessWorld, tracking
 * on): the exact users_count steps of Yan Zhao's double-bind leak on upstream 5fcc26969a16, the
 * same steps balanced on the fixed twin, the group/cdev exclusion, the df file's release at its
 * final fput, and the two mutants M8 and M13. Races are the stress runner's job.
 */
import { describe, expect, it } from 'vitest';
import { type InProcessWorld, createInProcessWorld } from '../../src/scenarios/in-process-world.js';
import scenario from '../../src/scenarios/vfio-kvm/index.js';
import { CDEV_GROUP, DEV1, DFS, HOLDER, VMS, type VmNames } from '../../src/scenarios/vfio-kvm/objects.js';
import { CDEV_SCHEDULE } from '../../src/scenarios/vfio-kvm/plans-cdev.js';
import { type RefStep, hasCycle, learnedEdges, startRecordedRound } from '../helpers/vfio-kvm-world.js';

const [DF1, DF2] = DFS;
const [VM1, VM2] = VMS as [VmNames, VmNames];
if (DF1 === undefined || DF2 === undefined) throw new Error('two dfs declared');

/** A world after setup, recording every users_count step of both VMs (named `kvm`, `kvm2`). */
const startRound = (variant: string) => startRecordedRound(variant);

const words = (world: InProcessWorld, name: string): number => world.view().words(name);
const users = (world: InProcessWorld, vm: VmNames = VM1): number => world.view().refcount(vm.usersCount);
const step = (op: 'get' | 'put', holder: string, site: string, count: number, vm: VmNames = VM1): RefStep => ({
  vm: vm.kvm,
  op,
  holder,
  site,
  count,
});

const coreGet = (count: number, vm?: VmNames) => step('get', HOLDER.vfioCore, '_vfio_device_get_kvm_safe', count, vm);
const corePut = (count: number, vm?: VmNames) => step('put', HOLDER.vfioCore, 'vfio_device_put_kvm', count, vm);
const apGet = (count: number, vm?: VmNames) => step('get', HOLDER.vfioAp, 'vfio_ap_mdev_set_kvm', count, vm);
const apPut = (count: number, vm?: VmNames) => step('put', HOLDER.vfioAp, 'vfio_ap_mdev_unset_kvm', count, vm);

/** S-cdev-double-bind up to both BINDs: two dfs on the device, both ADDed to the first VM. */
function openAndAddBoth(world: InProcessWorld): void {
  for (const op of ['CDEV_OPEN(df1)', 'CDEV_OPEN(df2)', 'FILE_ADD(df1)', 'FILE_ADD(df2)']) world.run(op);
}

describe('cdev-5fcc26969a16: the double-bind leak (Yan Zhao), step by step', () => {
  it('FILE_ADD of a df sets df->kvm and takes no reference', () => {
    const { world, take } = startRound('cdev-5fcc26969a16');
    take();
    openAndAddBoth(world);
    expect(take()).toEqual([]);
    const kvm = words(world, VM1.kvm);
    expect(words(world, DF1.dfKvm)).toBe(kvm);
    expect(words(world, DF2.dfKvm)).toBe(kvm);
    // the fd's reference and the kvm_vfio_file's
    expect(words(world, DF1.dfFile)).toBe(2);
  });

  it('BIND(df1) opens the device: +1 core, +1 driver', () => {
    const { world, take } = startRound('cdev-5fcc26969a16');
    openAndAddBoth(world);
    take();
    world.run('BIND(df1)');
    expect(take()).toEqual([coreGet(3), apGet(4)]);
    expect(words(world, DF1.accessGranted)).toBe(1);
    expect(words(world, DEV1.openCount)).toBe(1);
    expect(words(world, CDEV_GROUP.cdevDeviceOpenCnt)).toBe(1);
  });

  it('BIND(df2) gets again, fails -EINVAL, puts one and clears device->kvm; df1 UNBIND then puts only the driver', () => {
    const { world, take } = startRound('cdev-5fcc26969a16');
    openAndAddBoth(world);
    world.run('BIND(df1)');
    take();
    world.run('BIND(df2)');
    // the unconditional vfio_df_get_kvm_safe overwrote device->kvm's reference, the error path
    // dropped one: net +1 that nobody will put
    expect(take()).toEqual([coreGet(5), corePut(4)]);
    expect(words(world, DF2.accessGranted)).toBe(0);
    expect(words(world, DEV1.deviceKvm)).toBe(0);
    expect(words(world, DEV1.putKvm)).toBe(0);
    expect(words(world, DEV1.openCount)).toBe(1);
    world.run('FILE_DEL(df1)');
    expect(take()).toEqual([]);
    world.run('CDEV_CLOSE(df1)');
    expect(take()).toEqual([apPut(3)]);
    expect(words(world, DEV1.openCount)).toBe(0);
    world.finish();
    take();
    expect(users(world)).toBe(1);
    expect(words(world, VM1.destroyed)).toBe(0);
    expect(scenario.invariants?.(world.view())).toContain('kvm not destroyed after every fd was closed (created 1, destroyed 0)');
  });

  it('the whole one-thread S-cdev-double-bind leaves exactly one vfio core reference', () => {
    const { world, take } = startRound('cdev-5fcc26969a16');
    take();
    for (const op of CDEV_SCHEDULE.doubleBind.roles[0] ?? []) world.run(op);
    world.finish();
    const net = new Map<string, number>();
    for (const s of take()) net.set(s.holder, (net.get(s.holder) ?? 0) + (s.op === 'get' ? 1 : -1));
    expect(net.get(HOLDER.vfioCore)).toBe(1);
    expect(net.get(HOLDER.vfioAp)).toBe(0);
    expect(users(world)).toBe(1);
  });
});

describe('S-cdev-double-bind-race on two threads, op by op', () => {
  const [role1 = [], role2 = []] = CDEV_SCHEDULE.doubleBindRace.roles;

  /** Runs the two roles on threads 0 and 1, alternating one op at a time. */
  function interleave(world: InProcessWorld): void {
    for (let i = 0; i < Math.max(role1.length, role2.length); i++) {
      const a = role1[i];
      const b = role2[i];
      if (a !== undefined) world.run(a, 0);
      if (b !== undefined) world.run(b, 1);
    }
  }

  it('cdev-5fcc26969a16: BIND(df2) while df1 is bound leaks one core reference', () => {
    const world = createInProcessWorld(scenario, 'cdev-5fcc26969a16', { tracking: true, threads: 2 });
    world.resetRound(1);
    world.setup();
    interleave(world);
    world.finish();
    expect(world.view().refcount(VM1.usersCount)).toBe(1);
    expect(words(world, VM1.destroyed)).toBe(0);
  });

  it('cdev-5fcc26969a16: the roles one after the other never overlap, and leak nothing', () => {
    const world = createInProcessWorld(scenario, 'cdev-5fcc26969a16', { tracking: true, threads: 2 });
    world.resetRound(1);
    world.setup();
    for (const op of role1) world.run(op, 0);
    for (const op of role2) world.run(op, 1);
    world.finish();
    expect(world.view().refcount(VM1.usersCount)).toBe(0);
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
  });

  it('cdev-5fcc26969a16-fixed: the overlapping roles stay balanced', () => {
    const world = createInProcessWorld(scenario, 'cdev-5fcc26969a16-fixed', { tracking: true, threads: 2 });
    world.resetRound(1);
    world.setup();
    interleave(world);
    world.finish();
    expect(world.view().refcount(VM1.usersCount)).toBe(0);
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
  });
});

describe('cdev-5fcc26969a16-fixed: the same steps balance', () => {
  it('BIND(df2) on the open device takes nothing and puts nothing; df1 UNBIND puts driver then core', () => {
    const { world, take } = startRound('cdev-5fcc26969a16-fixed');
    openAndAddBoth(world);
    take();
    world.run('BIND(df1)');
    expect(take()).toEqual([coreGet(3), apGet(4)]);
    world.run('BIND(df2)');
    expect(take()).toEqual([]);
    expect(words(world, DF2.accessGranted)).toBe(0);
    expect(words(world, DEV1.deviceKvm)).toBe(words(world, VM1.kvm));
    world.run('FILE_DEL(df1)');
    world.run('CDEV_CLOSE(df1)');
    expect(take()).toEqual([apPut(3), corePut(2)]);
    world.finish();
    expect(users(world)).toBe(0);
    expect(words(world, VM1.destroyed)).toBe(1);
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
  });

  it('a second BIND of a bound df is -EINVAL before any get (access_granted)', () => {
    const { world, take } = startRound('cdev-5fcc26969a16-fixed');
    take();
    for (const op of CDEV_SCHEDULE.bind.roles[0] ?? []) world.run(op);
    expect(take()).toEqual([coreGet(3), apGet(4), apPut(3), corePut(2)]);
    world.finish();
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
  });

  it('closing an ADDed df fd does not unbind: the kvm_vfio_file holds the file until KVFIO_CLOSE', () => {
    const { world, take } = startRound('cdev-5fcc26969a16-fixed');
    for (const op of ['CDEV_OPEN(df1)', 'FILE_ADD(df1)', 'BIND(df1)', 'CDEV_CLOSE(df1)']) world.run(op);
    take();
    expect(words(world, DF1.dfFile)).toBe(1);
    expect(words(world, DEV1.openCount)).toBe(1);
    expect(words(world, DF1.accessGranted)).toBe(1);
    world.run('KVFIO_CLOSE');
    // kvm_device_release: set_kvm(df, NULL) and the kvf's fput under kvm->lock, the fd's put after
    // the unlock; the df's release (UNBIND) is task_work, after the op
    expect(take()).toEqual([step('put', HOLDER.kvmVfioFd, 'kvm_device_release', 3), apPut(2), corePut(1)]);
    expect(words(world, DF1.dfKvm)).toBe(0);
    expect(words(world, DF1.dfFile)).toBe(0);
    expect(world.view().isLive(words(world, DF1.df))).toBe(false);
    world.run('VM_CLOSE');
    expect(words(world, VM1.destroyed)).toBe(1);
    world.finish();
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
  });
});

describe('group path and cdev exclude each other (vfio_device_block_group)', () => {
  it('BIND is -EBUSY while the group path has the device open; DEV_OPEN is -EBUSY while a df is bound', () => {
    const { world, take } = startRound('cdev-5fcc26969a16-fixed');
    world.run('DEV_OPEN');
    for (const op of ['CDEV_OPEN(df1)', 'FILE_ADD(df1)']) world.run(op);
    take();
    world.run('BIND(df1)');
    expect(take()).toEqual([]);
    expect(words(world, DF1.accessGranted)).toBe(0);
    expect(words(world, CDEV_GROUP.cdevDeviceOpenCnt)).toBe(0);
    expect(words(world, DEV1.openCount)).toBe(1);
    world.run('DEV_CLOSE');
    expect(take()).toEqual([apPut(3), corePut(2)]);
    expect(words(world, CDEV_GROUP.openedFile)).toBe(0);
    world.run('BIND(df1)');
    expect(take()).toEqual([coreGet(3), apGet(4)]);
    world.run('DEV_OPEN');
    expect(take()).toEqual([]);
    expect(words(world, DEV1.deviceFds)).toBe(0);
    expect(words(world, DEV1.openCount)).toBe(1);
    expect(words(world, CDEV_GROUP.openedFile)).toBe(0);
    world.finish();
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
  });
});

describe('mutants that need a cdev caller', () => {
  it('set-kvm-dev-set-lock (M8): BIND then KVFIO_CLOSE teach dev_set->lock -> guests_lock -> kvm->lock -> dev_set->lock', () => {
    const { world } = startRound('set-kvm-dev-set-lock');
    for (const op of CDEV_SCHEDULE.vsKvfioClose.roles.flat()) world.run(op);
    world.finish();
    const edges = learnedEdges(world);
    for (const e of ['dev_set->lock -> guests_lock', 'guests_lock -> kvm->lock', 'kvm->lock -> dev_set->lock']) expect(edges).toContain(e);
    expect(hasCycle(edges)).toBe(true);
    // one thread never blocks: the cycle is potential, nothing else is wrong
    expect(world.drainFindings()).toEqual([]);
  });

  it('cdev-5fcc26969a16-fixed: the same operations take df->kvm_ref_lock, never dev_set->lock, under kvm->lock', () => {
    const { world } = startRound('cdev-5fcc26969a16-fixed');
    for (const op of CDEV_SCHEDULE.vsKvfioClose.roles.flat()) world.run(op);
    world.finish();
    const edges = learnedEdges(world);
    expect(edges).toContain('kvm->lock -> df->kvm_ref_lock');
    expect(edges).not.toContain('kvm->lock -> dev_set->lock');
    expect(hasCycle(edges)).toBe(false);
    expect(world.drainFindings()).toEqual([]);
  });

  it('cdev-5fcc26969a16-fixed@two-vms (M13\'s twin): BIND gets and stores VM2, UNBIND puts VM2, VM1 untouched', () => {
    const { world, take } = startRound('cdev-5fcc26969a16-fixed@two-vms');
    take();
    for (const op of ['CDEV_OPEN(df1)', 'FILE_ADD(vm2,df1)', 'BIND(df1)']) world.run(op);
    expect(take()).toEqual([coreGet(3, VM2), apGet(4, VM2)]);
    for (const op of ['FILE_DEL(vm2,df1)', 'CDEV_CLOSE(df1)']) world.run(op);
    expect(take()).toEqual([apPut(3, VM2), corePut(2, VM2)]);
    world.finish();
    expect(users(world, VM1)).toBe(0);
    expect(users(world, VM2)).toBe(0);
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
  });

  it('get-helper-ignores-kvm (M13): BIND gets on the group\'s VM1 and stores VM2; UNBIND puts VM2', () => {
    const { world, take } = startRound('get-helper-ignores-kvm');
    take();
    for (const op of ['CDEV_OPEN(df1)', 'FILE_ADD(vm2,df1)']) world.run(op);
    expect(words(world, DF1.dfKvm)).toBe(words(world, VM2.kvm));
    world.run('BIND(df1)');
    expect(take()).toEqual([coreGet(3, VM1), apGet(3, VM2)]);
    expect(words(world, DEV1.deviceKvm)).toBe(words(world, VM2.kvm));
    world.run('FILE_DEL(vm2,df1)');
    world.run('CDEV_CLOSE(df1)');
    expect(take()).toEqual([apPut(2, VM2), corePut(1, VM2)]);
    world.finish();
    const kinds = world.drainFindings().map((f) => f.kind);
    // VM2 died at its kvm-vfio fd's put, one early: its VM fd's release touches the freed kvm
    expect(kinds).toContain('use-after-free');
    expect(words(world, VM2.destroyed)).toBe(1);
    // VM1 keeps the core reference nobody puts
    expect(users(world, VM1)).toBe(1);
    expect(words(world, VM1.destroyed)).toBe(0);
  });
});
