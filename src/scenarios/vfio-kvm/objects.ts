/**
 * The shared objects of the vfio/kvm model (kernel-model.md §2), with kernel names verbatim, and
 * the small accessors every path uses. Each VM of a round is created by its `VM_CREATE` in its own
 * slot, and every pointer to it (`group->kvm`, `device->kvm`, `matrix_mdev->kvm`, ...) is that
 * object-slot pointer, so an access after `kvm_destroy_vm` freed it is a `use-after-free`.
 *
 * The scenario declares {@link kMaxVms} VMs and {@link kMaxDevices} devices; a variant's topology
 * uses the first few. Objects and where their state lives (first instance's names; see `nth`):
 *
 * | object (§2.1)          | locks (class)                                               | words / refcounts / slots                           |
 * |------------------------|-------------------------------------------------------------|-----------------------------------------------------|
 * | `struct kvm` (per VM)  | `kvm->lock`, `kvm->arch.crypto.pqap_hook_rwsem` (rwsem), `kvm->mmu_lock` (rwlock) | slot `kvm`, refcount `kvm->users_count`, `kvm->devices`, `vcpu fds`, `kvm->arch.crypto.pqap_hook`, `kvm->arch.track_notifier_head` |
 * | kvm-vfio device (`kv`) | `kv->lock`                                                  | slot `kvm_vfio`, `kv->group_list` (a `kvg` pointer) |
 * | `kvm_vfio_group` (kvg) |                                                             | slot `kvg`                                          |
 * | `vfio_group` (one)     | `group_lock`, `kvm_ref_lock` (spin), `device_lock`          | `group->kvm`                                        |
 * | `vfio_device` (per device) | `dev_set->lock`                                         | `device->open_count`, `device->kvm`, `device->put_kvm`, `device fds` |
 * | vfio-ap (`matrix_dev`) | `guests_lock`, `mdevs_lock` (global)                        | per device: `matrix_mdev->kvm`                      |
 * | zPCI (per device)      | `zdev->kzdev_lock`                                          | `zdev->kzdev`                                       |
 * | kvmgt (per device)     | (the VM's `kvm->mmu_lock`)                                  | `vgpu->attached`, `vgpu->kvm`                        |
 * | global                 | `kvm_lock` (taken by `kvm_destroy_vm`)                      | per VM: `kvm created`, `kvm destroyed`               |
 * | `vfio_device_file` (cdev, per df; 6.6+) | `df->kvm_ref_lock` (spin)                  | slot `df`, `df->kvm`, `df->access_granted`, `df fd`, `df file f_count`, per VM `kv->file_list[df1]` (a `kvf` pointer) |
 * | `vfio_group` (cdev, 6.6+) | (`group_lock`)                                           | `group->cdev_device_open_cnt`, `group->opened_file`  |
 *
 * File descriptors: `*_fd` words are 0 (never opened), 1 (open) or 2 (closed); closing claims the
 * fd with a CAS 1 -> 2, so two threads never close one fd. `*_file f_count` words are the struct
 * file's reference count (the fd's reference plus one per ioctl in flight, as `fdget` takes one in
 * a multi-threaded process); the file's `release` runs at the final `fput`, in whichever thread
 * drops it. Device fds are only counted (`device fds`): there are no ioctls on them.
 */
import type { Lock, LockDeclaration, OpContext, Ref, SharedObjects, SharedWord } from '../contract.js';
import { type DriverKind, kMaxDevices, kMaxVms } from './topology.js';

/**
 * The name of instance `index` (0-based) of a per-VM or per-device object: the first instance has
 * the kernel's own name, the n-th has n after the leading identifier (`kvm->lock`, `kvm2->lock`;
 * `device fds`, `device2 fds`), so reports of one-VM, one-device variants read as before.
 */
export function nth(name: string, index: number): string {
  return index === 0 ? name : name.replace(/^[A-Za-z_]+/, (id) => `${id}${index + 1}`);
}

/** One VM's objects (§2.1 `struct kvm`, its kvm-vfio device, its fds). */
export interface VmNames {
  index: number;
  /** `vm2` for the second VM, '' for the first: the suffix of its operations (`VM_CLOSE(vm2)`). */
  label: string;
  /** Word: the kvm pointer (an object-slot pointer). */
  kvm: string;
  created: string;
  destroyed: string;
  /** Word: 1 while the kvm-vfio device is on `kvm->devices`. */
  devices: string;
  vmFd: string;
  vmFile: string;
  /** Word: open vCPU fds (each holds a reference). */
  vcpuFds: string;
  /** Word: the kvm-vfio device's `kv` pointer. */
  kvmVfio: string;
  /** Word: the kvm-vfio device's `dev->kvm`. */
  kvmVfioKvm: string;
  /** Word: the `kvm_vfio_group` of the vfio group on `kv->group_list`, or NULL. */
  groupList: string;
  kvmVfioFd: string;
  kvmVfioFile: string;
  pqapHook: string;
  /** Word: kvmgt's page-track notifiers registered on this kvm. */
  pageTrackNotifiers: string;
  usersCount: string;
  kvmLock: string;
  kvLock: string;
  pqapRwsem: string;
  mmuLock: string;
  slotKvm: string;
  slotKvmVfio: string;
  slotKvg: string;
}

export function vmNames(index: number): VmNames {
  const n = (name: string): string => nth(name, index);
  return {
    index,
    label: index === 0 ? '' : `vm${index + 1}`,
    kvm: n('kvm'),
    created: n('kvm created'),
    destroyed: n('kvm destroyed'),
    devices: n('kvm->devices'),
    vmFd: n('vm_fd'),
    vmFile: n('vm_file f_count'),
    vcpuFds: n('vcpu fds'),
    kvmVfio: n('kvm_vfio'),
    kvmVfioKvm: n('dev->kvm'),
    groupList: n('kv->group_list'),
    kvmVfioFd: n('kvm_vfio_fd'),
    kvmVfioFile: n('kvm_vfio_file f_count'),
    pqapHook: n('kvm->arch.crypto.pqap_hook'),
    pageTrackNotifiers: n('kvm->arch.track_notifier_head'),
    usersCount: n('kvm->users_count'),
    kvmLock: n('kvm->lock'),
    kvLock: n('kv->lock'),
    pqapRwsem: n('kvm->arch.crypto.pqap_hook_rwsem'),
    mmuLock: n('kvm->mmu_lock'),
    slotKvm: n('kvm'),
    slotKvmVfio: n('kvm_vfio'),
    slotKvg: n('kvg'),
  };
}

/** One vfio device (§2.1 `struct vfio_device`, its `dev_set`, its driver's state). */
export interface DeviceNames {
  index: number;
  driver: DriverKind;
  /** `d2` for the second device, '' for the first: the suffix of its operations (`DEV_OPEN(d2)`). */
  label: string;
  openCount: string;
  deviceKvm: string;
  putKvm: string;
  /** Word: open device fds (no ioctls on them, so no f_count). */
  deviceFds: string;
  devSetLock: string;
  /** vfio-ap: `matrix_mdev->kvm`, the driver's reference. */
  mdevKvm: string;
  /** zPCI: `zdev->kzdev_lock` and `zdev->kzdev` (the driver's reference while registered). */
  kzdevLock: string;
  kzdev: string;
  /** kvmgt: `vgpu->attached` and the kvm the vGPU holds a reference on. */
  vgpuAttached: string;
  vgpuKvm: string;
  /** Holder tags of `kvm->users_count` for this device's references. */
  coreHolder: string;
  driverHolder: string;
}

const kDriverHolder: Record<DriverKind, (n: (name: string) => string) => string> = {
  'vfio-ap': (n) => `vfio-ap driver (${n('matrix_mdev->kvm')})`,
  zpci: (n) => `zPCI driver (${n('zdev->kzdev')})`,
  kvmgt: (n) => `kvmgt driver (${n('vgpu->kvm')})`,
  plain: () => 'plain vfio-pci (none)',
};

export function deviceNames(index: number, driver: DriverKind): DeviceNames {
  const n = (name: string): string => nth(name, index);
  return {
    index,
    driver,
    label: index === 0 ? '' : `d${index + 1}`,
    openCount: n('device->open_count'),
    deviceKvm: n('device->kvm'),
    putKvm: n('device->put_kvm'),
    deviceFds: n('device fds'),
    devSetLock: n('dev_set->lock'),
    mdevKvm: n('matrix_mdev->kvm'),
    kzdevLock: n('zdev->kzdev_lock'),
    kzdev: n('zdev->kzdev'),
    vgpuAttached: n('vgpu->attached'),
    vgpuKvm: n('vgpu->kvm'),
    coreHolder: `vfio core (${n('device->kvm')})`,
    driverHolder: kDriverHolder[driver](n),
  };
}

/** The one vfio group (§2.1 `struct vfio_group`). */
export const GROUP = {
  groupLock: 'group->group_lock',
  kvmRefLock: 'group->kvm_ref_lock',
  deviceLock: 'group->device_lock',
  groupKvm: 'group->kvm',
} as const;

/**
 * How many cdev device files (`struct vfio_device_file`, kernel-model.md §8.3) the scenario
 * declares: two on the first device suffice for S-cdev-double-bind.
 */
export const kMaxDeviceFiles = 2;

/**
 * One cdev device file: an open of `/dev/vfio/devices/vfioX` on the first device (§2.1, §8.3).
 * Its operations carry `(df1)`, `(df2)` even for the first (`BIND(df1)`), because a bare
 * `FILE_ADD` is the group's; its words follow `nth` (`df->kvm`, `df2->kvm`).
 */
export interface DfNames {
  index: number;
  /** `df1`, `df2`: the suffix of its operations (`BIND(df1)`, `FILE_ADD(vm2,df1)`). */
  label: string;
  /** Word: the `struct vfio_device_file` pointer (an object-slot pointer), set at CDEV_OPEN. */
  df: string;
  slotDf: string;
  dfFd: string;
  dfFile: string;
  /** `df->kvm_ref_lock` (spinlock) and `df->kvm` (a raw pointer, no reference). */
  kvmRefLock: string;
  dfKvm: string;
  /**
   * `df->access_granted`: set by a successful BIND. The model clears it when the unbind closed
   * the device (the kernel frees the df instead), so a set flag at the end is a df never unbound.
   */
  accessGranted: string;
  /** Word: the thread (+1) whose task_work runs this file's release after its final fput, or 0. */
  releasePending: string;
  /** Per VM (by index): this file's `kvm_vfio_file` on that VM's `kv->file_list`, or NULL. */
  fileList: readonly string[];
  /** Per VM (by index): the object slot of that `kvm_vfio_file`. */
  slotKvf: readonly string[];
}

export function dfNames(index: number): DfNames {
  const n = (name: string): string => nth(name, index);
  const label = `df${index + 1}`;
  return {
    index,
    label,
    df: n('df'),
    slotDf: n('df'),
    dfFd: n('df fd'),
    dfFile: n('df file f_count'),
    kvmRefLock: n('df->kvm_ref_lock'),
    dfKvm: n('df->kvm'),
    accessGranted: n('df->access_granted'),
    releasePending: n('df task_work'),
    fileList: Array.from({ length: kMaxVms }, (_, vm) => `${nth('kv', vm)}->file_list[${label}]`),
    slotKvf: Array.from({ length: kMaxVms }, (_, vm) => `${nth('kvf', vm)}[${label}]`),
  };
}

export const DFS: readonly DfNames[] = Array.from({ length: kMaxDeviceFiles }, (_, i) => dfNames(i));

/**
 * The group's side of the cdev/group exclusion (§8.3 `vfio_device_block_group`), both under
 * `group_lock`: how many cdev fds have the group blocked, and how many group-path device fds are
 * open or being opened. The model has no group fd of its own: it stands open exactly while the
 * group path has a device fd (`group->opened_file` is that count, not the kernel's pointer).
 */
export const CDEV_GROUP = {
  cdevDeviceOpenCnt: 'group->cdev_device_open_cnt',
  openedFile: 'group->opened_file',
} as const;

/** Locks that are not per instance. */
export const GLOBAL_LOCK = {
  guests_lock: 'matrix_dev->guests_lock',
  mdevs_lock: 'matrix_dev->mdevs_lock',
  kvm_lock: 'kvm_lock',
} as const;

export const VMS: readonly VmNames[] = Array.from({ length: kMaxVms }, (_, i) => vmNames(i));
/** The first VM: every one-VM variant's only VM. */
export const VM1: VmNames = VMS[0] as VmNames;
/** The first device as a vfio-ap mdev (names do not depend on the driver, holders do). */
export const DEV1: DeviceNames = deviceNames(0, 'vfio-ap');

/** Holder tags of `kvm->users_count` (§2.3), so a leak report names who leaked. */
export const HOLDER = {
  vmFd: 'VM fd',
  vcpuFd: 'vCPU fd',
  kvmVfioFd: 'kvm-vfio fd',
  vfioCore: DEV1.coreHolder,
  vfioAp: DEV1.driverHolder,
} as const;

/** Fd states. */
export const kFdNone = 0;
export const kFdOpen = 1;
export const kFdClosed = 2;

/** NULL. */
export const kNull = 0;

function declareObjects(): SharedObjects {
  const locks: Record<string, LockDeclaration> = {
    [GROUP.groupLock]: { class: 'group_lock' },
    [GROUP.kvmRefLock]: { class: 'kvm_ref_lock', kind: 'spinlock' },
    [GROUP.deviceLock]: { class: 'device_lock' },
    [GLOBAL_LOCK.guests_lock]: { class: 'guests_lock' },
    [GLOBAL_LOCK.mdevs_lock]: { class: 'mdevs_lock' },
    [GLOBAL_LOCK.kvm_lock]: { class: 'kvm_lock' },
  };
  const refcounts: Record<string, { mustEndAtZero: boolean }> = {};
  const words: string[] = [GROUP.groupKvm];
  const slots: string[] = [];
  for (const vm of VMS) {
    locks[vm.kvmLock] = { class: 'kvm->lock' };
    locks[vm.kvLock] = { class: 'kv->lock' };
    // An rw_semaphore in the kernel; vfio-ap takes it for write (§2.2).
    locks[vm.pqapRwsem] = { class: 'kvm->arch.crypto.pqap_hook_rwsem', kind: 'rwsem' };
    // x86's rwlock_t; kvmgt's page-track (un)register takes it for write (§2.2).
    locks[vm.mmuLock] = { class: 'kvm->mmu_lock', kind: 'rwlock' };
    refcounts[vm.usersCount] = { mustEndAtZero: true };
    words.push(
      vm.kvm, vm.created, vm.destroyed, vm.devices, vm.vmFd, vm.vmFile, vm.vcpuFds, vm.kvmVfio,
      vm.kvmVfioKvm, vm.groupList, vm.kvmVfioFd, vm.kvmVfioFile, vm.pqapHook, vm.pageTrackNotifiers,
    );
    slots.push(vm.slotKvm, vm.slotKvmVfio, vm.slotKvg);
  }
  for (let d = 0; d < kMaxDevices; d++) {
    const dev = deviceNames(d, 'plain');
    locks[dev.devSetLock] = { class: 'dev_set->lock' };
    locks[dev.kzdevLock] = { class: 'kzdev_lock' };
    words.push(dev.openCount, dev.deviceKvm, dev.putKvm, dev.deviceFds, dev.mdevKvm, dev.kzdev, dev.vgpuAttached, dev.vgpuKvm);
  }
  // 6.6+ cdev (§8.3): the device files and the group's exclusion counts.
  words.push(CDEV_GROUP.cdevDeviceOpenCnt, CDEV_GROUP.openedFile);
  for (const df of DFS) {
    locks[df.kvmRefLock] = { class: 'df->kvm_ref_lock', kind: 'spinlock' };
    words.push(df.df, df.dfFd, df.dfFile, df.dfKvm, df.accessGranted, df.releasePending, ...df.fileList);
    slots.push(df.slotDf, ...df.slotKvf);
  }
  return { locks, refcounts, words, slots };
}

export const kVfioKvmObjects: SharedObjects = declareObjects();

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new RangeError(`vfio-kvm: ${what} is not declared`);
  return value;
}

export function mutex(ctx: OpContext, name: string): Lock {
  return must(ctx.locks[name], `lock ${name}`);
}

/** An rw_semaphore: `lock` is down_write, `readLock` down_read. */
export function rwsem(ctx: OpContext, name: string): Lock {
  return must(ctx.locks[name], `rwsem ${name}`);
}

export function word(ctx: OpContext, name: string): SharedWord {
  return must(ctx.words[name], `word ${name}`);
}

export function usersCount(ctx: OpContext, vm: VmNames): Ref {
  return must(ctx.refs[vm.usersCount], `refcount ${vm.usersCount}`);
}

/**
 * The VM whose kvm `kvm` is (pointers are unique per round: slot and generation), or undefined
 * for NULL or a pointer no VM of this round has.
 */
export function vmOf(ctx: OpContext, vms: number, kvm: number): VmNames | undefined {
  if (kvm === kNull) return undefined;
  for (let i = 0; i < vms; i++) {
    const vm = VMS[i] as VmNames;
    if (word(ctx, vm.kvm).get() === kvm) return vm;
  }
  return undefined;
}

/**
 * `mutex_lock(&kvm->lock)`: an access to the kvm. On a freed kvm the use-after-free is logged and
 * the lock is not taken; returns whether it was, and the caller unlocks only then.
 */
export function lockKvm(ctx: OpContext, vm: VmNames, kvm: number, site: string): boolean {
  if (!ctx.objects.access(kvm, site)) return false;
  mutex(ctx, vm.kvmLock).lock(site);
  return true;
}

/**
 * `mutex_unlock(&kvm->lock)`: a write to the kvm, so after a final put under the lock it is a
 * use-after-free (§4 DRV_AP, §10 M4/M20). The task still leaves its critical section either way
 * (lockdep's held-lock stack is per task, not in the freed object), so the release is done after
 * the access is reported; otherwise every later lock of this thread would be learned under a
 * `kvm->lock` it no longer holds.
 */
export function unlockKvm(ctx: OpContext, vm: VmNames, kvm: number, site: string): void {
  ctx.objects.access(kvm, site);
  mutex(ctx, vm.kvmLock).unlock(site);
}
