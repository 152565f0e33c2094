/**
 * The mutants of kernel-model.md §10 in variants-mutants.ts, and the second VM and vCPU paths, on
 * ONE thread (createInProcessWorld): the exact users_count steps of each VM, the finding each bug
 * makes where it shows without a race, and the clean version D on the same schedule. The racing
 * mutant (ignore-get-failure, M14) is the stress runner's job.
 */
import { describe, expect, it } from 'vitest';
import type { FindingKind } from '../../src/finding-kinds.js';
import type { RawFinding } from '../../src/primitives/finding-log.js';
import type { InProcessWorld } from '../../src/scenarios/in-process-world.js';
import scenario from '../../src/scenarios/vfio-kvm/index.js';
import { GROUP, HOLDER, VMS, type VmNames, deviceNames } from '../../src/scenarios/vfio-kvm/objects.js';
import { SCHEDULE } from '../../src/scenarios/vfio-kvm/plans.js';
import { type RefStep, startRecordedRound } from '../helpers/vfio-kvm-world.js';

const [VM1, VM2] = VMS as readonly [VmNames, VmNames];
const D1 = deviceNames(0, 'vfio-ap');
const D2 = deviceNames(1, 'vfio-ap');

/** A world after setup (its steps already taken), recording every users_count step of every VM ('' and 'vm2'). */
function startRound(variant: string): { world: InProcessWorld; take: () => RefStep[] } {
  const round = startRecordedRound(variant, (vm) => vm.label);
  round.take();
  return round;
}

function runAll(world: InProcessWorld, ops: readonly string[]): void {
  for (const op of ops) world.run(op);
}

const users = (world: InProcessWorld, vm: VmNames = VM1): number => world.view().refcount(vm.usersCount);
const destroyed = (world: InProcessWorld, vm: VmNames = VM1): number => world.view().words(vm.destroyed);
const kinds = (findings: RawFinding[]): FindingKind[] => findings.map((f) => f.kind);
/** The site and the freeing site of a use-after-free finding. */
function uafSites(world: InProcessWorld, f: RawFinding | undefined): [string, string] {
  return [world.strings.lookup(f?.args[1] ?? 0), world.strings.lookup(f?.args[2] ?? 0)];
}
const step = (vm: string, op: 'get' | 'put', holder: string, site: string, count: number): RefStep => ({ vm, op, holder, site, count });

describe('the second VM: S-readd-other-vm (model §11)', () => {
  const ops = SCHEDULE.readdOtherVm.roles[0] ?? [];

  it('2b48f52f2bff@two-vms: the device keeps the first kvm across DEL and ADD to vm2, and puts it at its last close', () => {
    const { world, take } = startRound('2b48f52f2bff@two-vms');
    expect([users(world, VM1), users(world, VM2)]).toEqual([2, 2]);
    world.run('DEV_OPEN');
    expect(take()).toEqual([
      step('', 'get', D1.coreHolder, '_vfio_device_get_kvm_safe', 3),
      step('', 'get', D1.driverHolder, 'vfio_ap_mdev_set_kvm', 4),
    ]);
    const k2 = world.view().words(VM2.kvm);
    world.run('FILE_DEL');
    expect(world.view().words(GROUP.groupKvm)).toBe(0);
    world.run('FILE_ADD(vm2)');
    expect(world.view().words(GROUP.groupKvm)).toBe(k2);
    // open_count > 0: no new get, device->kvm stays the first VM's.
    world.run('DEV_OPEN');
    world.run('DEV_CLOSE');
    expect(take()).toEqual([]);
    expect(world.view().words(D1.deviceKvm)).toBe(world.view().words(VM1.kvm));
    world.run('DEV_CLOSE');
    expect(take()).toEqual([
      step('', 'put', D1.driverHolder, 'vfio_ap_mdev_unset_kvm', 3),
      step('', 'put', D1.coreHolder, 'vfio_device_put_kvm', 2),
    ]);
    world.finish();
    expect([destroyed(world, VM1), destroyed(world, VM2)]).toEqual([1, 1]);
    expect([users(world, VM1), users(world, VM2)]).toEqual([0, 0]);
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
    expect(ops).toEqual(['DEV_OPEN', 'FILE_DEL', 'FILE_ADD(vm2)', 'DEV_OPEN', 'DEV_CLOSE', 'DEV_CLOSE']);
  });

  it("put-via-group-kvm (M11): the last close puts vm2's kvm, which vm2's kvm-vfio close then frees under its VM fd", () => {
    const { world, take } = startRound('put-via-group-kvm');
    runAll(world, ops);
    expect(take()).toEqual([
      step('', 'get', D1.coreHolder, '_vfio_device_get_kvm_safe', 3),
      step('', 'get', D1.driverHolder, 'vfio_ap_mdev_set_kvm', 4),
      step('', 'put', D1.driverHolder, 'vfio_ap_mdev_unset_kvm', 3),
      step('vm2', 'put', D1.coreHolder, 'vfio_device_put_kvm', 1),
    ]);
    world.finish();
    expect(take()).toEqual([
      step('', 'put', HOLDER.kvmVfioFd, 'kvm_device_release', 2),
      step('', 'put', HOLDER.vmFd, 'kvm_vm_release', 1),
      step('vm2', 'put', HOLDER.kvmVfioFd, 'kvm_device_release', 0),
    ]);
    const findings = world.drainFindings();
    expect(kinds(findings)).toEqual(['use-after-free']);
    expect(uafSites(world, findings[0])).toEqual(['kvm_vm_release', 'kvm_destroy_vm']);
    // The first VM's kvm keeps the device's reference for good (the runner reports the leak).
    expect([users(world, VM1), destroyed(world, VM1)]).toEqual([1, 0]);
    expect(scenario.invariants?.(world.view())).toEqual(
      expect.arrayContaining(['device->kvm still set with open_count 0 (I3)', 'kvm not destroyed after every fd was closed (created 1, destroyed 0)']),
    );
  });

  it('put-via-group-kvm (M11): S-del-then-close puts group->kvm == NULL (an oops) and the reference leaks', () => {
    const { world, take } = startRound('put-via-group-kvm');
    runAll(world, ['DEV_OPEN', 'FILE_DEL']);
    take();
    world.run('DEV_CLOSE');
    expect(take()).toEqual([step('', 'put', D1.driverHolder, 'vfio_ap_mdev_unset_kvm', 3)]);
    expect(kinds(world.drainFindings())).toEqual(['invariant']);
    runAll(world, ['KVFIO_CLOSE', 'VM_CLOSE']);
    world.finish();
    expect([users(world, VM1), destroyed(world, VM1)]).toEqual([1, 0]);
  });

  it('2b48f52f2bff on S-del-then-close puts the device kvm at the last close, after DEL (I13)', () => {
    const { world, take } = startRound('2b48f52f2bff');
    runAll(world, SCHEDULE.delThenClose.roles[0] ?? []);
    expect(take().map((s) => `${s.op} ${s.holder} ${s.count}`)).toEqual([
      `get ${D1.coreHolder} 3`,
      `get ${D1.driverHolder} 4`,
      `put ${D1.driverHolder} 3`,
      `put ${D1.coreHolder} 2`,
      `put ${HOLDER.kvmVfioFd} 1`,
      `put ${HOLDER.vmFd} 0`,
    ]);
    world.finish();
    expect(world.drainFindings()).toEqual([]);
    expect(destroyed(world)).toBe(1);
  });
});

describe('vCPU fds (model §2.3, §7.8)', () => {
  it('2b48f52f2bff: with a vCPU fd open past the last device close, its close drops the last reference', () => {
    const { world, take } = startRound('2b48f52f2bff');
    runAll(world, SCHEDULE.vcpuLastRef.roles[0] ?? []);
    const steps = take();
    expect(steps[0]).toEqual(step('', 'get', HOLDER.vcpuFd, 'kvm_vm_ioctl_create_vcpu', 3));
    expect(steps.slice(-3)).toEqual([
      step('', 'put', D1.driverHolder, 'vfio_ap_mdev_unset_kvm', 2),
      step('', 'put', D1.coreHolder, 'vfio_device_put_kvm', 1),
      step('', 'put', HOLDER.vcpuFd, 'kvm_vcpu_release', 0),
    ]);
    expect(destroyed(world)).toBe(1);
    world.finish();
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
  });
});

describe('open failures: S-openfail on two vfio-ap mdevs (M2, M12)', () => {
  function failFirstOpen(variant: string): { world: InProcessWorld; steps: RefStep[] } {
    const { world, take } = startRound(variant);
    world.run('DEV_OPEN(d2)');
    expect(take()).toEqual([
      step('', 'get', D2.coreHolder, '_vfio_device_get_kvm_safe', 3),
      step('', 'get', D2.driverHolder, 'vfio_ap_mdev_set_kvm', 4),
    ]);
    world.run('DEV_OPEN'); // -EPERM: another mdev uses this VM
    expect(world.view().words(D1.deviceFds)).toBe(0);
    expect(world.view().words(D1.openCount)).toBe(0);
    return { world, steps: take() };
  }

  it('missing-openfail-put (M2): the failed first open keeps its core reference', () => {
    const { world, steps } = failFirstOpen('missing-openfail-put');
    expect(steps).toEqual([step('', 'get', D1.coreHolder, '_vfio_device_get_kvm_safe', 5)]);
    expect(world.view().words(D1.deviceKvm)).not.toBe(0);
    runAll(world, ['DEV_CLOSE(d2)', 'DEV_OPEN', 'DEV_CLOSE']);
    world.finish();
    expect([users(world), destroyed(world)]).toEqual([1, 0]);
  });

  it('get-on-openfail (M12): the failed first open takes a second core reference instead of putting the first', () => {
    const { world, steps } = failFirstOpen('get-on-openfail');
    expect(steps).toEqual([
      step('', 'get', D1.coreHolder, '_vfio_device_get_kvm_safe', 5),
      step('', 'get', D1.coreHolder, '_vfio_device_get_kvm_safe', 6),
    ]);
    runAll(world, ['DEV_CLOSE(d2)']);
    world.finish();
    expect([users(world), destroyed(world)]).toEqual([2, 0]);
  });

  it('2b48f52f2bff@two-mdevs: the same failed open gets and puts once', () => {
    const { world, steps } = failFirstOpen('2b48f52f2bff@two-mdevs');
    expect(steps.map((s) => `${s.op} ${s.count}`)).toEqual(['get 5', 'put 4']);
    world.finish();
    expect([users(world), destroyed(world)]).toEqual([0, 1]);
  });
});

describe('a final put in the wrong place', () => {
  it('put-under-ref-lock (M15 + M10): the core put under kvm_ref_lock is the last, and kvm_destroy_vm sleeps in atomic context', () => {
    const { world, take } = startRound('put-under-ref-lock');
    runAll(world, ['DEV_OPEN', 'VM_CLOSE', 'KVFIO_CLOSE']);
    expect(take().map((s) => `${s.op} ${s.holder} ${s.count}`)).toEqual([
      `get vfio core (device->kvm) 3`,
      `put ${HOLDER.vmFd} 2`,
      `put ${HOLDER.kvmVfioFd} 1`,
    ]);
    world.run('DEV_OPEN');
    expect(take()).toEqual([step('', 'put', 'vfio core (device->kvm)', 'vfio_device_put_kvm', 0)]);
    expect(destroyed(world)).toBe(1);
    const seen = kinds(world.drainFindings());
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['sleep-in-atomic']));
  });

  it('2b48f52f2bff@plain: the same schedule destroys the kvm at the last close, under mutexes only', () => {
    const { world, take } = startRound('2b48f52f2bff@plain');
    runAll(world, SCHEDULE.lastRefInVfio.roles[0] ?? []);
    expect(take().at(-1)).toEqual(step('', 'put', 'vfio core (device->kvm)', 'vfio_device_put_kvm', 0));
    world.finish();
    expect(world.drainFindings()).toEqual([]);
  });

  it('put-before-release (M16): the kvm-vfio put is the last before its release, which then locks the freed kvm', () => {
    const { world, take } = startRound('put-before-release');
    world.run('VM_CLOSE');
    take();
    world.run('KVFIO_CLOSE');
    expect(take()).toEqual([step('', 'put', HOLDER.kvmVfioFd, 'kvm_device_release', 0)]);
    const findings = world.drainFindings();
    // kvm_destroy_devices calls the missing .destroy, then kvm_device_release takes kvm->lock.
    expect(kinds(findings)).toEqual(['invariant', 'use-after-free']);
    expect(uafSites(world, findings[1])).toEqual(['kvm_device_release', 'kvm_destroy_vm']);
    // The release still ran: group->kvm is cleared, but only after the kvm was freed.
    expect(world.view().words(GROUP.groupKvm)).toBe(0);
    expect(destroyed(world)).toBe(1);
  });

  it('2b48f52f2bff: the same closes clear group->kvm under kvm->lock before the last put', () => {
    const { world, take } = startRound('2b48f52f2bff');
    runAll(world, ['VM_CLOSE', 'KVFIO_CLOSE']);
    expect(take().at(-1)).toEqual(step('', 'put', HOLDER.kvmVfioFd, 'kvm_device_release', 0));
    expect(world.drainFindings()).toEqual([]);
  });

  it("ap-put-then-unlock (M20 via M3): vfio-ap's put is the last, and mutex_unlock(&kvm->lock) writes to the freed kvm", () => {
    const { world, take } = startRound('ap-put-then-unlock');
    runAll(world, ['DEV_OPEN', 'FILE_DEL', 'DEV_CLOSE']);
    take();
    // group->kvm is NULL, so no core get; vfio-ap gets the stale device->kvm.
    world.run('DEV_OPEN');
    expect(take()).toEqual([step('', 'get', D1.driverHolder, 'vfio_ap_mdev_set_kvm', 3)]);
    runAll(world, ['VM_CLOSE', 'KVFIO_CLOSE']);
    take();
    world.run('DEV_CLOSE');
    expect(take()).toEqual([step('', 'put', D1.driverHolder, 'vfio_ap_mdev_unset_kvm', 0)]);
    const findings = world.drainFindings();
    expect(kinds(findings)).toEqual(['use-after-free', 'use-after-free']);
    expect(uafSites(world, findings[0])).toEqual(['vfio_ap_mdev_close_device', 'kvm_destroy_vm']);
    expect(uafSites(world, findings[1])[0]).toBe('vfio_device_put_kvm');
  });

  it('2b48f52f2bff: the same schedule cannot reopen without a kvm (vfio-ap -EINVAL) and stays clean', () => {
    const { world } = startRound('2b48f52f2bff');
    runAll(world, SCHEDULE.reopenAfterDelLastRef.roles[0] ?? []);
    world.finish();
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
    expect(destroyed(world)).toBe(1);
  });
});
