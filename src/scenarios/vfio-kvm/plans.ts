/**
 * Which thread runs what in a round. A plan picks one schedule of kernel-model.md §11 per round
 * (seeded, so a seed replays the same plans) and deals its roles to threads: role i goes to thread
 * i, and when there are fewer threads than roles the extra roles are appended to threads
 * 0, 1, ... in role order, so with one thread every role runs in turn in a sensible order
 * (openers first, then the closes that race with them). Threads beyond the roles get the
 * schedule's `extra` list (more openers and closers of the same device), or nothing.
 *
 * Setup has already run VM_CREATE, KVFIO_CREATE and FILE_ADD; finish closes what is left.
 */
import type { Plan, Rng } from '../contract.js';
import { kDeviceOperationNames, opName } from './operations.js';
import type { Topology } from './topology.js';

export interface Schedule {
  name: string;
  /** One op list per racing role. */
  roles: ReadonlyArray<readonly string[]>;
  /** For threads beyond the roles. */
  extra: readonly string[];
  /** Names a second device (`DEV_OPEN(d2)`): only for topologies that have one. */
  multiDevice?: boolean;
  /** Names a second VM (`FILE_ADD(vm2)`): only for topologies that have one. */
  multiVm?: boolean;
}

const openClose: readonly string[] = ['DEV_OPEN', 'DEV_CLOSE'];
const openCloseTwice: readonly string[] = ['DEV_OPEN', 'DEV_CLOSE', 'DEV_OPEN', 'DEV_CLOSE'];

/** The schedules, by their §11 names. */
export const SCHEDULE = {
  /** S-basic, on one thread: K is destroyed at the last of the three puts. */
  basic: {
    name: 'S-basic',
    roles: [['DEV_OPEN', 'DEV_OPEN', 'DEV_CLOSE', 'DEV_CLOSE', 'KVFIO_CLOSE', 'VM_CLOSE']],
    extra: [],
  },
  /**
   * S-ABBA (B1): the device is opened and closed (open_device and close_device both take
   * guests_lock -> kvm->lock under group_lock -> dev_set->lock) while the kvm-vfio fd is closed
   * (kvm->lock -> vfio_file_set_kvm).
   */
  abba: {
    name: 'S-ABBA',
    roles: [openCloseTwice, ['KVFIO_CLOSE'], openCloseTwice],
    extra: openClose,
  },
  /** S-last-ref-is-device (A1): the device's references are the last ones. */
  lastRefIsDevice: {
    name: 'S-last-ref-is-device',
    roles: [['DEV_OPEN', 'VM_CLOSE', 'KVFIO_CLOSE', 'DEV_CLOSE']],
    extra: [],
  },
  /** S-destroy-vs-open / S-kvmvfio-close-vs-open: the last fd puts race with first opens. */
  destroyVsOpen: {
    name: 'S-destroy-vs-open',
    roles: [openCloseTwice, ['KVFIO_CLOSE', 'VM_CLOSE'], openCloseTwice],
    extra: openClose,
  },
  /** S-del-vs-open: DEL, then the kvm-vfio fd and VM fd closes, race with first opens. */
  delVsOpen: {
    name: 'S-del-vs-open',
    roles: [openCloseTwice, ['FILE_DEL', 'KVFIO_CLOSE', 'VM_CLOSE'], openCloseTwice],
    extra: openClose,
  },
  /** S-reopen-after-del, on one thread: the second open finds group->kvm == NULL. */
  reopenAfterDel: {
    name: 'S-reopen-after-del',
    roles: [['DEV_OPEN', 'FILE_DEL', 'DEV_CLOSE', 'DEV_OPEN', 'DEV_CLOSE']],
    extra: [],
  },
  /** S-reopen-after-del as a race: DEL lands somewhere in a sequence of opens and closes. */
  reopenVsDel: {
    name: 'S-reopen-vs-del',
    roles: [openCloseTwice, ['FILE_DEL']],
    extra: openCloseTwice,
  },
  /** S-double-open, on one thread: two fds on one device, one core reference. */
  doubleOpen: {
    name: 'S-double-open',
    roles: [['DEV_OPEN', 'DEV_OPEN', 'DEV_CLOSE', 'DEV_CLOSE']],
    extra: [],
  },
  /** S-close-vs-open: every thread opens and closes the same device. */
  closeVsOpen: {
    name: 'S-close-vs-open',
    roles: [openCloseTwice, openCloseTwice],
    extra: openCloseTwice,
  },
  /** S-add-vs-del: ADD and DEL of the one group on the one kvm-vfio fd, from two threads. */
  addVsDel: {
    name: 'S-add-vs-del',
    roles: [
      ['FILE_DEL', 'FILE_ADD', 'FILE_DEL', 'FILE_ADD', 'FILE_DEL', 'FILE_ADD'],
      ['FILE_ADD', 'FILE_DEL', 'FILE_ADD', 'FILE_DEL', 'FILE_ADD', 'FILE_DEL'],
    ],
    extra: ['FILE_DEL', 'FILE_ADD', 'FILE_DEL', 'FILE_ADD'],
  },
  /**
   * S-openfail on two devices of one VM whose driver allows one device per VM (two vfio-ap mdevs:
   * -EPERM; two kvmgt vGPUs: -EEXIST): the second device attaches first, so the first device's
   * first open fails after the core's get (D) and must leave the counts unchanged.
   */
  openFail: {
    name: 'S-openfail',
    roles: [['DEV_OPEN(d2)', 'DEV_OPEN', 'DEV_CLOSE', 'DEV_CLOSE(d2)', 'DEV_OPEN', 'DEV_CLOSE']],
    extra: [],
    multiDevice: true,
  },
  /** S-openfail as a race: the two devices open and close against each other. */
  openFailRace: {
    name: 'S-openfail-race',
    roles: [openCloseTwice, ['DEV_OPEN(d2)', 'DEV_CLOSE(d2)', 'DEV_OPEN(d2)', 'DEV_CLOSE(d2)']],
    extra: ['DEV_OPEN(d2)', 'DEV_CLOSE(d2)'],
    multiDevice: true,
  },
  /**
   * A vCPU fd's reference is the last (§2.3 "+1 per vCPU fd", §7.8 "vCPU fd close"): the device's
   * last close is not, and kvm_destroy_vm runs in kvm_vcpu_release, with no lock held.
   */
  vcpuLastRef: {
    name: 'S-vcpu-last-ref',
    roles: [['VCPU_CREATE', 'DEV_OPEN', 'KVFIO_CLOSE', 'VM_CLOSE', 'DEV_CLOSE', 'VCPU_CLOSE']],
    extra: [],
  },
  /** The vCPU fd close and the device's last close race to drop the last reference (§7.8). */
  vcpuCloseVsClose: {
    name: 'S-vcpu-close-vs-close',
    roles: [openCloseTwice, ['VCPU_CREATE', 'KVFIO_CLOSE', 'VM_CLOSE', 'VCPU_CLOSE'], openCloseTwice],
    extra: openClose,
  },
  /** S-del-then-close, on one thread: the device keeps its kvm past DEL (I13) and puts it at close. */
  delThenClose: {
    name: 'S-del-then-close',
    roles: [['DEV_OPEN', 'FILE_DEL', 'DEV_CLOSE', 'KVFIO_CLOSE', 'VM_CLOSE']],
    extra: [],
  },
  /**
   * S-kvmvfio-close-vs-open with the VM fd closed first, so the kvm-vfio fd's put is the last
   * unless a device holds the kvm, while first opens read group->kvm.
   */
  kvmvfioCloseVsOpen: {
    name: 'S-kvmvfio-close-vs-open',
    roles: [openCloseTwice, ['VM_CLOSE', 'KVFIO_CLOSE'], openCloseTwice],
    extra: openClose,
  },
  /**
   * S-last-ref-in-vfio, on one thread: with the VM and kvm-vfio fds closed, a second open and the
   * last close of a device whose core reference is the last one (§7.8: the final put under
   * group_lock + dev_set->lock).
   */
  lastRefInVfio: {
    name: 'S-last-ref-in-vfio',
    roles: [['DEV_OPEN', 'VM_CLOSE', 'KVFIO_CLOSE', 'DEV_OPEN', 'DEV_CLOSE', 'DEV_CLOSE']],
    extra: [],
  },
  /**
   * S-reopen-after-del, then the VM and kvm-vfio fds closed before the reopened device's last
   * close: in D the reopen has no kvm (vfio-ap fails -EINVAL), so nothing is left to put.
   */
  reopenAfterDelLastRef: {
    name: 'S-reopen-after-del-last-ref',
    roles: [['DEV_OPEN', 'FILE_DEL', 'DEV_CLOSE', 'DEV_OPEN', 'VM_CLOSE', 'KVFIO_CLOSE', 'DEV_CLOSE']],
    extra: [],
  },
  /**
   * S-readd-other-vm (two VMs, setup ADDed the group to the first): the device keeps the first
   * VM's kvm across DEL and an ADD to the second VM, and its last close puts the first VM's kvm.
   */
  readdOtherVm: {
    name: 'S-readd-other-vm',
    roles: [['DEV_OPEN', 'FILE_DEL', 'FILE_ADD(vm2)', 'DEV_OPEN', 'DEV_CLOSE', 'DEV_CLOSE']],
    extra: [],
    multiVm: true,
  },
  /** S-readd-other-vm as a race: the move to the second VM, then the first VM's fd closes, race with opens. */
  readdOtherVmRace: {
    name: 'S-readd-other-vm-race',
    roles: [openCloseTwice, ['FILE_DEL', 'FILE_ADD(vm2)', 'KVFIO_CLOSE', 'VM_CLOSE'], openCloseTwice],
    extra: openClose,
    multiVm: true,
  },
} as const satisfies Record<string, Schedule>;

/** Deals a schedule's roles to `threads` threads. */
export function dealSchedule(schedule: Schedule, threads: number): string[][] {
  const lists: string[][] = Array.from({ length: threads }, () => []);
  schedule.roles.forEach((ops, role) => lists[role % threads]?.push(...ops));
  for (let t = schedule.roles.length; t < threads; t++) lists[t]?.push(...schedule.extra);
  return lists;
}

/** A plan that picks one of `schedules` per round, with the given weights (default equal). */
export function planOf(...schedules: ReadonlyArray<Schedule | readonly [Schedule, number]>): Plan {
  const weighted = schedules.map((s): readonly [Schedule, number] => (Array.isArray(s) ? (s as readonly [Schedule, number]) : [s as Schedule, 1]));
  const total = weighted.reduce((sum, [, w]) => sum + w, 0);
  return (rng: Rng, threads: number) => {
    let r = rng.next() * total;
    for (const [schedule, weight] of weighted) {
      r -= weight;
      if (r < 0) return dealSchedule(schedule, threads);
    }
    const last = weighted[weighted.length - 1];
    if (last === undefined) throw new RangeError('planOf needs at least one schedule');
    return dealSchedule(last[0], threads);
  };
}

const kDeviceOps: ReadonlySet<string> = new Set(kDeviceOperationNames);

/**
 * `plan` on a topology with several devices: each thread's device operations go to one device,
 * drawn per thread and round from the seeded rng, so every device (and so every driver) opens and
 * closes against the other paths, and two threads may use two devices of one VM at once.
 */
export function onDevices(plan: Plan, topology: Topology): Plan {
  const count = topology.devices.length;
  if (count === 1) return plan;
  return (rng: Rng, threads: number, round: number) =>
    plan(rng, threads, round).map((ops) => {
      const device = rng.int(count);
      const label = device === 0 ? '' : `d${device + 1}`;
      return ops.map((op) => (kDeviceOps.has(op) ? opName(op, label) : op));
    });
}
