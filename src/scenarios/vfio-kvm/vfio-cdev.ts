/**
 * The 6.6+ device cdev path (kernel-model.md §8.3, torvalds `drivers/vfio/device_cdev.c`): a
 * device file `df` (`struct vfio_device_file`) per open of `/dev/vfio/devices/vfioX`, on the
 * first device of the topology, with its own `df->kvm_ref_lock` (spinlock) and `df->kvm` (a raw
 * pointer, set by KVM_DEV_VFIO_FILE_ADD of the df's fd, no reference).
 *
 * | op             | user space                              | kernel path                                        |
 * |----------------|-----------------------------------------|----------------------------------------------------|
 * | CDEV_OPEN(df1) | open(/dev/vfio/devices/vfioX)           | `vfio_device_fops_cdev_open` (a new df)            |
 * | BIND(df1)      | `VFIO_DEVICE_BIND_IOMMUFD`              | `vfio_df_ioctl_bind_iommufd`                        |
 * | CDEV_CLOSE(df1)| close(df fd): UNBIND at the final fput  | `vfio_device_fops_release` -> `vfio_df_unbind_iommufd` |
 * | FILE_ADD(df1)  | `KVM_DEV_VFIO_FILE_ADD` with the df fd  | `kvm_vfio_file_add` -> `vfio_device_file_set_kvm`  (kvm-vfio.ts) |
 * | FILE_DEL(df1)  | `KVM_DEV_VFIO_FILE_DEL` with the df fd  | `kvm_vfio_file_del` (kvm-vfio.ts)                   |
 *
 * BIND (both versions):
 * ```
 * vfio_device_block_group: L/U(group_lock), -EBUSY if the group path has the device (group fd) open
 * L(dev_set->lock); -EINVAL if df->access_granted
 * vfio_df_get_kvm_safe(df): spin L(df->kvm_ref_lock); vfio_device_get_kvm_safe(device, df->kvm); U
 *     5fcc26969a16: on every BIND;  Yan Zhao's fix: only if open_count == 0 (put_kvm = true)
 * vfio_df_open(df): cdev: open_count != 0 -> -EINVAL; else vfio_device_open (first open: open_device)
 * error: vfio_device_put_kvm(device) (fix: only if put_kvm); U(dev_set->lock); vfio_device_unblock_group
 * ok: df->access_granted = true; U(dev_set->lock)
 * ```
 * UNBIND, at the df file's release: if access_granted: L(dev_set->lock); vfio_df_close;
 * vfio_device_put_kvm; U; vfio_device_unblock_group.
 *
 * The known bug (Yan Zhao, 2024): a second df's BIND on an open device overwrites
 * `device->kvm/put_kvm` with a second reference, fails -EINVAL, and its error path puts one and
 * clears `device->kvm`; the first df's unbind then puts nothing: one reference leaks.
 *
 * File references (§2.1, §2.3): the df fd holds one, each `kvm_vfio_file` holding the df another
 * (`get_file`), each ioctl in flight one (`fdget`). The release runs at the final `fput`, which in
 * the kernel queues task_work: it runs when the putting thread returns to user space, after its
 * locks are dropped. The model does the same: `fputDf` marks the release pending for this thread
 * and `task_work_run` (after every operation, operations.ts) runs it.
 */
import type { OpContext } from '../contract.js';
import { claimCount, closeFd, fdget, installFd } from './files.js';
import { CDEV_GROUP, DFS, type DeviceNames, type DfNames, GROUP, kFdNone, kNull, mutex, word } from './objects.js';
import { kEINVAL } from './vfio-ap.js';
import {
  _vfio_device_get_kvm_safe,
  vfio_device_close,
  vfio_device_group_close,
  vfio_device_group_open,
  vfio_device_open,
  vfio_device_put_kvm,
} from './vfio-group.js';
import type { Kernel } from './version.js';

export const kEBUSY = -16;
export const kEBADF = -9;

/** A df fd between its claim and fd_install (neither open nor closed: fdget and close skip it). */
const kFdOpening = 3;

/** The device the cdev files are opened on: the topology's first. */
export function cdevDevice(k: Kernel): DeviceNames {
  const dev = k.devices[0];
  if (dev === undefined) throw new RangeError('vfio-kvm: the cdev path needs a device');
  return dev;
}

// ---- the df file --------------------------------------------------------------------------------

/** CDEV_OPEN: `vfio_device_fops_cdev_open`. One open per df and round (a closed df stays closed). */
export function vfio_device_fops_cdev_open(k: Kernel, df: DfNames): void {
  const { ctx } = k;
  if (word(ctx, df.dfFd).cas(kFdNone, kFdOpening) !== kFdNone) return;
  // vfio_device_try_get_registration; vfio_allocate_device_file: kzalloc, so kvm NULL, not granted.
  const pointer = ctx.objects.create(df.slotDf, 'struct vfio_device_file', 'vfio_device_fops_cdev_open');
  word(ctx, df.dfKvm).set(kNull);
  word(ctx, df.accessGranted).set(0);
  word(ctx, df.df).set(pointer);
  installFd(ctx, df.dfFd, df.dfFile);
}

/** fput of the df file: the final one queues the release on this thread's task_work. */
export function fputDf(ctx: OpContext, df: DfNames): void {
  if (word(ctx, df.dfFile).add(-1) === 1) word(ctx, df.releasePending).set(ctx.thread + 1);
}

/** CDEV_CLOSE: close(df fd). The release (UNBIND) runs at the final fput, maybe much later. */
export function vfio_cdev_close(k: Kernel, df: DfNames): void {
  if (closeFd(k.ctx, df.dfFd)) fputDf(k.ctx, df);
}

/**
 * task_work_run on return to user space: the releases this thread's final fputs queued. With
 * `all` (finish, after every thread), any thread's.
 */
export function task_work_run(k: Kernel, all = false): void {
  const { ctx } = k;
  for (const df of DFS) {
    const pending = word(ctx, df.releasePending);
    const owner = pending.get();
    if (owner === 0 || (!all && owner !== ctx.thread + 1)) continue;
    if (pending.cas(owner, 0) === owner) vfio_device_fops_release_df(k, df);
  }
}

/** `vfio_device_fops_release` of a cdev df: unbind, put the registration, kfree(df). */
function vfio_device_fops_release_df(k: Kernel, df: DfNames): void {
  const { ctx } = k;
  const pointer = word(ctx, df.df).get();
  if (!ctx.objects.access(pointer, 'vfio_device_fops_release')) return;
  vfio_df_unbind_iommufd(k, df);
  ctx.objects.free(pointer, 'vfio_device_fops_release');
}

/**
 * `vfio_device_file_set_kvm` (the cdev half of `vfio_file_set_kvm`): `df->kvm = kvm` under
 * `df->kvm_ref_lock`. M8, the Jan-2023 cdev RFC: under `device->dev_set->lock` instead, a mutex
 * that kvm_vfio_release then takes under `kvm->lock`.
 */
export function vfio_device_file_set_kvm(k: Kernel, df: DfNames, kvm: number): void {
  const { ctx } = k;
  if (!ctx.objects.access(word(ctx, df.df).get(), 'vfio_device_file_set_kvm')) return;
  const lock = mutex(ctx, k.version.mutations.setKvmDevSetLock === true ? cdevDevice(k).devSetLock : df.kvmRefLock);
  lock.lock('vfio_device_file_set_kvm');
  word(ctx, df.dfKvm).set(kvm);
  lock.unlock('vfio_device_file_set_kvm');
}

// ---- BIND and UNBIND ----------------------------------------------------------------------------

/** BIND: `VFIO_DEVICE_BIND_IOMMUFD` on the df fd (EBADF if it is not open). */
export function vfio_df_ioctl_bind(k: Kernel, df: DfNames): number {
  const { ctx } = k;
  if (!fdget(ctx, df.dfFd, df.dfFile)) return kEBADF;
  let ret = kEINVAL;
  if (ctx.objects.access(word(ctx, df.df).get(), 'vfio_df_ioctl_bind_iommufd')) ret = vfio_df_ioctl_bind_iommufd(k, df);
  fputDf(ctx, df);
  return ret;
}

/** `vfio_df_ioctl_bind_iommufd`: 0, -EBUSY (group path open), -EINVAL (bound, or device open). */
function vfio_df_ioctl_bind_iommufd(k: Kernel, df: DfNames): number {
  const { ctx } = k;
  const dev = cdevDevice(k);
  const blocked = vfio_device_block_group(k);
  if (blocked !== 0) return blocked;
  const devSet = mutex(ctx, dev.devSetLock);
  devSet.lock('vfio_df_ioctl_bind_iommufd');
  const accessGranted = word(ctx, df.accessGranted);
  // "one device cannot be bound twice"
  if (accessGranted.get() !== 0) {
    devSet.unlock('vfio_df_ioctl_bind_iommufd');
    vfio_device_unblock_group(k);
    return kEINVAL;
  }
  // "Before the device open, get the KVM pointer currently associated with the device file (if
  // there is) and obtain a reference." 5fcc26969a16 does it on every BIND; the fix only before
  // the first open, and remembers whether it did.
  let putKvm = false;
  if (k.version.cdev === 'unconditional-get' || word(ctx, dev.openCount).get() === 0) {
    vfio_df_get_kvm_safe(k, df, dev);
    putKvm = true;
  }
  const ret = vfio_df_open(k, dev);
  if (ret !== 0) {
    // out_put_kvm: with 5fcc26969a16 this drops the reference the FIRST df's open relies on, and
    // clears device->kvm, so that df's unbind puts nothing.
    if (putKvm) vfio_device_put_kvm(k, dev);
    devSet.unlock('vfio_df_ioctl_bind_iommufd');
    vfio_device_unblock_group(k);
    return ret;
  }
  // smp_store_release(&df->access_granted, true)
  accessGranted.set(1);
  devSet.unlock('vfio_df_ioctl_bind_iommufd');
  return 0;
}

/**
 * `vfio_df_get_kvm_safe`: `vfio_device_get_kvm_safe(df->device, df->kvm)` under
 * `df->kvm_ref_lock`, which does nothing for a NULL kvm (§8.1).
 */
function vfio_df_get_kvm_safe(k: Kernel, df: DfNames, dev: DeviceNames): void {
  const { ctx } = k;
  const refLock = mutex(ctx, df.kvmRefLock);
  refLock.lock('vfio_df_get_kvm_safe');
  const kvm = word(ctx, df.dfKvm).get();
  if (kvm !== kNull) _vfio_device_get_kvm_safe(k, dev, kvm);
  refLock.unlock('vfio_df_get_kvm_safe');
}

/** `vfio_df_open` for a cdev df: exclusive, so any open device is -EINVAL. */
function vfio_df_open(k: Kernel, dev: DeviceNames): number {
  mutex(k.ctx, dev.devSetLock).assertHeld('vfio_df_open');
  // if (device->open_count != 0 && !df->group) return -EINVAL;
  if (word(k.ctx, dev.openCount).get() !== 0) return kEINVAL;
  return vfio_device_open(k, dev);
}

/** `vfio_df_unbind_iommufd`: at the df file's release; nothing if the df was never bound. */
function vfio_df_unbind_iommufd(k: Kernel, df: DfNames): void {
  const { ctx } = k;
  const accessGranted = word(ctx, df.accessGranted);
  if (accessGranted.get() === 0) return;
  const dev = cdevDevice(k);
  const devSet = mutex(ctx, dev.devSetLock);
  devSet.lock('vfio_df_unbind_iommufd');
  vfio_device_close(k, dev);
  vfio_device_put_kvm(k, dev);
  // The model's marker that this df's open was closed (the kernel kfree()s the df next).
  accessGranted.set(0);
  devSet.unlock('vfio_df_unbind_iommufd');
  vfio_device_unblock_group(k);
}

// ---- the group's side (group.c): cdev and group path exclude each other -------------------------

/** `vfio_device_block_group`: -EBUSY while the group path has the device open. */
function vfio_device_block_group(k: Kernel): number {
  const { ctx } = k;
  const groupLock = mutex(ctx, GROUP.groupLock);
  groupLock.lock('vfio_device_block_group');
  let ret = 0;
  if (word(ctx, CDEV_GROUP.openedFile).get() !== 0) ret = kEBUSY;
  else word(ctx, CDEV_GROUP.cdevDeviceOpenCnt).add(1);
  groupLock.unlock('vfio_device_block_group');
  return ret;
}

/** `vfio_device_unblock_group`. */
function vfio_device_unblock_group(k: Kernel): void {
  const groupLock = mutex(k.ctx, GROUP.groupLock);
  groupLock.lock('vfio_device_unblock_group');
  word(k.ctx, CDEV_GROUP.cdevDeviceOpenCnt).add(-1);
  groupLock.unlock('vfio_device_unblock_group');
}

/**
 * DEV_OPEN in a kernel with cdev: the group fd is opened first (`vfio_group_fops_open`, -EBUSY
 * while a cdev df has the group blocked), then `VFIO_GROUP_GET_DEVICE_FD`. The model's group fd
 * stays open exactly while a group-path device fd does (objects.ts CDEV_GROUP).
 */
export function vfio_group_open_device_fd(k: Kernel, dev: DeviceNames): void {
  const { ctx } = k;
  const groupLock = mutex(ctx, GROUP.groupLock);
  const openedFile = word(ctx, CDEV_GROUP.openedFile);
  groupLock.lock('vfio_group_fops_open');
  const busy = word(ctx, CDEV_GROUP.cdevDeviceOpenCnt).get() !== 0;
  if (!busy) openedFile.add(1);
  groupLock.unlock('vfio_group_fops_open');
  if (busy) return;
  if (vfio_device_group_open(k, dev) === 0) {
    word(ctx, dev.deviceFds).add(1);
  } else {
    vfio_group_fops_release(k);
  }
}

/** DEV_CLOSE in a kernel with cdev: the device fd's release, then the group fd's. */
export function vfio_group_close_device_fd(k: Kernel, dev: DeviceNames): void {
  if (!claimCount(k.ctx, dev.deviceFds)) return;
  vfio_device_group_close(k, dev);
  vfio_group_fops_release(k);
}

/** `vfio_group_fops_release`: the group fd's release. */
function vfio_group_fops_release(k: Kernel): void {
  const groupLock = mutex(k.ctx, GROUP.groupLock);
  groupLock.lock('vfio_group_fops_release');
  word(k.ctx, CDEV_GROUP.openedFile).add(-1);
  groupLock.unlock('vfio_group_fops_release');
}
