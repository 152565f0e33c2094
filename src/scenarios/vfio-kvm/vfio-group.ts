/**
 * vfio's side: `vfio_file_set_kvm`, the group path of device open and close
 * (`vfio_device_group_open` / `vfio_device_group_close`, DEV_OPEN / DEV_CLOSE) and the kvm
 * get/put helpers, in the three shapes of kernel-model.md:
 *
 * - `borrowed` (A, B, §5.1): under `group_lock`, `group->kvm` is handed to `vfio_device_open`,
 *   which takes `dev_set->lock` and sets `device->kvm` for the driver; vfio holds no reference.
 * - `fix-v2` (C, §7.3): the caller takes `kvm_ref_lock` around `vfio_kvm_get_kvm_safe`; the put
 *   helper has no lock rule; the caller checks and clears `device->kvm`.
 * - `upstream` (D, §7.5): `vfio_device_group_get_kvm_safe` before the first open, held until the
 *   last close, `lockdep_assert_held(&device->dev_set->lock)` in the helpers.
 *
 * Every path takes the device it acts on; the device's driver (drivers.ts) runs its
 * `open_device` / `close_device` under `group_lock` and the device's `dev_set->lock`.
 */
import { driverOps } from './drivers.js';
import { claimCount } from './files.js';
import { type DeviceNames, GROUP, kNull, mutex, word } from './objects.js';
import { kvm_get_kvm, kvm_get_kvm_safe, kvm_put_kvm } from './kvm.js';
import type { Kernel } from './version.js';

/** How many seeded pauses widen the mutants' race windows (each pause happens with p ≈ 0.45). */
const kWindowPauses = 3;

/**
 * `vfio_file_set_kvm(file, kvm)`: `group->kvm = kvm` under `group_lock` (A, B; M7) or under the
 * spinlock `kvm_ref_lock` (C, D).
 */
export function vfio_file_set_kvm(k: Kernel, kvm: number): void {
  const lock = mutex(k.ctx, k.version.setKvmLock === 'group_lock' ? GROUP.groupLock : GROUP.kvmRefLock);
  lock.lock('vfio_file_set_kvm');
  word(k.ctx, GROUP.groupKvm).set(kvm);
  lock.unlock('vfio_file_set_kvm');
}

/** DEV_OPEN: `VFIO_GROUP_GET_DEVICE_FD`; on success a device fd is installed. */
export function vfio_group_ioctl_get_device_fd(k: Kernel, dev: DeviceNames): void {
  const ret = vfio_device_group_open(k, dev);
  if (ret === 0) word(k.ctx, dev.deviceFds).add(1);
}

/** DEV_CLOSE: the final fput of one open device fd (`vfio_device_fops_release`); none open: no-op. */
export function vfio_device_fops_release(k: Kernel, dev: DeviceNames): void {
  if (!claimCount(k.ctx, dev.deviceFds)) return;
  vfio_device_group_close(k, dev);
  if (k.version.mutations.unlockedOpenCount === true) unlockedLastClosePut(k, dev);
}

/** Returns 0 or a negative errno. */
export function vfio_device_group_open(k: Kernel, dev: DeviceNames): number {
  switch (k.version.vfio) {
    case 'borrowed':
      return groupOpenBorrowed(k, dev);
    case 'fix-v2':
      return groupOpenFixV2(k, dev);
    case 'upstream':
      return groupOpenUpstream(k, dev);
  }
}

export function vfio_device_group_close(k: Kernel, dev: DeviceNames): void {
  switch (k.version.vfio) {
    case 'borrowed':
      return groupCloseBorrowed(k, dev);
    case 'fix-v2':
      return groupCloseFixV2(k, dev);
    case 'upstream':
      return groupCloseUpstream(k, dev);
  }
}

// ---- A, B: the borrowed pointer (§5.1) -------------------------------------------------------

function groupOpenBorrowed(k: Kernel, dev: DeviceNames): number {
  const groupLock = mutex(k.ctx, GROUP.groupLock);
  groupLock.lock('vfio_device_group_open');
  // "Here we pass the KVM pointer with the group under the lock. If the device driver will use
  // it, it must obtain a reference and release it during close_device."
  const kvm = word(k.ctx, GROUP.groupKvm).get();
  const devSet = mutex(k.ctx, dev.devSetLock);
  devSet.lock('vfio_device_open');
  const openCount = word(k.ctx, dev.openCount);
  let ret = 0;
  if (openCount.add(1) + 1 === 1) {
    // vfio_device_first_open
    word(k.ctx, dev.deviceKvm).set(kvm);
    ret = driverOps(dev).open_device(k, dev);
    if (ret !== 0) {
      word(k.ctx, dev.deviceKvm).set(kNull);
      openCount.add(-1);
    }
  }
  devSet.unlock('vfio_device_open');
  groupLock.unlock('vfio_device_group_open');
  return ret;
}

function groupCloseBorrowed(k: Kernel, dev: DeviceNames): void {
  const groupLock = mutex(k.ctx, GROUP.groupLock);
  groupLock.lock('vfio_device_group_close');
  const devSet = mutex(k.ctx, dev.devSetLock);
  devSet.lock('vfio_device_close');
  const openCount = word(k.ctx, dev.openCount);
  assertDeviceOpen(k, openCount.get());
  if (openCount.get() === 1) {
    // vfio_device_last_close: the driver may do the LAST kvm_put_kvm here (A1, A4/B2).
    driverOps(dev).close_device(k, dev);
    word(k.ctx, dev.deviceKvm).set(kNull);
  }
  openCount.add(-1);
  devSet.unlock('vfio_device_close');
  groupLock.unlock('vfio_device_group_close');
}

// ---- C: fix v2 (§7.3) ------------------------------------------------------------------------

/** `vfio_kvm_get_kvm_safe`: no lockdep; the caller must hold `kvm_ref_lock`. */
function vfio_kvm_get_kvm_safe(k: Kernel, dev: DeviceNames, kvm: number): boolean {
  const ok = kvm_get_kvm_safe(k, kvm, dev.coreHolder, 'vfio_kvm_get_kvm_safe');
  if (ok) word(k.ctx, dev.putKvm).set(1);
  return ok;
}

/** `vfio_kvm_put_kvm`: no lock requirement; the caller checks and clears `device->kvm`. */
function vfio_kvm_put_kvm(k: Kernel, dev: DeviceNames): void {
  const kvm = word(k.ctx, dev.deviceKvm).get();
  const putKvm = word(k.ctx, dev.putKvm);
  if (kvm === kNull || putKvm.get() === 0) {
    k.ctx.invariant('WARN_ON(!device->kvm || !device->put_kvm) in vfio_kvm_put_kvm');
    return;
  }
  kvm_put_kvm(k, kvm, dev.coreHolder, 'vfio_kvm_put_kvm');
  putKvm.set(0);
}

function groupOpenFixV2(k: Kernel, dev: DeviceNames): number {
  const { ctx } = k;
  const groupLock = mutex(ctx, GROUP.groupLock);
  const devSet = mutex(ctx, dev.devSetLock);
  groupLock.lock('vfio_device_group_open');
  devSet.lock('vfio_device_group_open');
  const openCount = word(ctx, dev.openCount);
  const deviceKvm = word(ctx, dev.deviceKvm);
  if (openCount.get() === 0) {
    const refLock = mutex(ctx, GROUP.kvmRefLock);
    refLock.lock('vfio_device_group_open');
    const kvm = word(ctx, GROUP.groupKvm).get();
    if (kvm !== kNull && vfio_kvm_get_kvm_safe(k, dev, kvm)) deviceKvm.set(kvm);
    refLock.unlock('vfio_device_group_open');
  }
  // vfio_device_open(device, iommufd, device->group->kvm): the kvm argument, read here outside
  // kvm_ref_lock, is no longer used by vfio_main in C (Alex's review point), so it is not read.
  const ret = vfio_device_open(k, dev);
  if (ret !== 0 && deviceKvm.get() !== kNull && openCount.get() === 0) {
    vfio_kvm_put_kvm(k, dev);
    deviceKvm.set(kNull);
  }
  devSet.unlock('vfio_device_group_open');
  groupLock.unlock('vfio_device_group_open');
  return ret;
}

function groupCloseFixV2(k: Kernel, dev: DeviceNames): void {
  const { ctx } = k;
  const groupLock = mutex(ctx, GROUP.groupLock);
  const devSet = mutex(ctx, dev.devSetLock);
  groupLock.lock('vfio_device_group_close');
  devSet.lock('vfio_device_group_close');
  vfio_device_close(k, dev);
  const deviceKvm = word(ctx, dev.deviceKvm);
  if (deviceKvm.get() !== kNull && word(ctx, dev.openCount).get() === 0) {
    vfio_kvm_put_kvm(k, dev);
    deviceKvm.set(kNull);
  }
  devSet.unlock('vfio_device_group_close');
  groupLock.unlock('vfio_device_group_close');
}

// ---- D: 2b48f52f2bff (§7.5) and its mutants ---------------------------------------------------

/** `_vfio_device_get_kvm_safe` (vfio_main.c). Also the cdev path's (vfio-cdev.ts). */
export function _vfio_device_get_kvm_safe(k: Kernel, dev: DeviceNames, kvm: number): void {
  const { ctx } = k;
  mutex(ctx, dev.devSetLock).assertHeld('_vfio_device_get_kvm_safe');
  // M13: `ret = fn(device->group->kvm)`: the reference is taken on the group's kvm (read without
  // the group's kvm_ref_lock), while `device->kvm = kvm` below stores the caller's. On the group
  // path the two are the same pointer; a cdev caller passes df->kvm.
  let target = kvm;
  if (k.version.mutations.getHelperIgnoresKvm === true) {
    target = word(ctx, GROUP.groupKvm).get();
    if (target === kNull) {
      ctx.invariant('NULL pointer dereference: kvm_get_kvm_safe(device->group->kvm) with group->kvm NULL (M13)');
      return;
    }
  }
  if (k.version.mutations.unsafeGet === true) {
    // M5: symbol_get(kvm_get_kvm), treated as always succeeding.
    kvm_get_kvm(k, target, dev.coreHolder, '_vfio_device_get_kvm_safe');
  } else if (!kvm_get_kvm_safe(k, target, dev.coreHolder, '_vfio_device_get_kvm_safe')) {
    // M14: the failure is ignored, so the last close puts a reference nobody took (I12).
    if (k.version.mutations.ignoreGetFailure !== true) return;
  }
  word(ctx, dev.putKvm).set(1);
  word(ctx, dev.deviceKvm).set(kvm);
}

/** `vfio_device_group_get_kvm_safe` (group.c): `group->kvm` is read under `kvm_ref_lock`. */
function vfio_device_group_get_kvm_safe(k: Kernel, dev: DeviceNames): void {
  const { ctx } = k;
  const refLock = mutex(ctx, GROUP.kvmRefLock);
  if (k.version.mutations.unlockedRead === true) {
    // M6: `struct kvm *kvm = device->group->kvm;` before the spinlock. FILE_DEL, KVFIO_CLOSE and
    // VM_CLOSE can all run in this window, and the get below then touches a freed kvm.
    const kvm = word(ctx, GROUP.groupKvm).get();
    for (let i = 0; i < kWindowPauses; i++) ctx.jitter();
    refLock.lock('vfio_device_group_get_kvm_safe');
    if (kvm !== kNull) _vfio_device_get_kvm_safe(k, dev, kvm);
    refLock.unlock('vfio_device_group_get_kvm_safe');
    return;
  }
  refLock.lock('vfio_device_group_get_kvm_safe');
  // M15: `if (device->kvm) vfio_device_put_kvm(device);` under the spinlock. If that reference is
  // the last, kvm_destroy_vm sleeps in atomic context (I8b).
  if (k.version.mutations.putUnderRefLock === true && word(ctx, dev.deviceKvm).get() !== kNull) vfio_device_put_kvm(k, dev);
  const kvm = word(ctx, GROUP.groupKvm).get();
  if (kvm !== kNull) _vfio_device_get_kvm_safe(k, dev, kvm);
  refLock.unlock('vfio_device_group_get_kvm_safe');
}

/** `vfio_device_put_kvm` (vfio_main.c). */
export function vfio_device_put_kvm(k: Kernel, dev: DeviceNames): void {
  const { ctx } = k;
  mutex(ctx, dev.devSetLock).assertHeld('vfio_device_put_kvm');
  const deviceKvm = word(ctx, dev.deviceKvm);
  const putKvm = word(ctx, dev.putKvm);
  const kvm = deviceKvm.get();
  if (kvm === kNull) return;
  if (putKvm.get() === 0) {
    ctx.invariant('WARN_ON(!device->put_kvm) in vfio_device_put_kvm');
  } else if (k.version.mutations.putViaGroupKvm === true) {
    putViaGroupKvm(k, dev);
    return;
  } else {
    kvm_put_kvm(k, kvm, dev.coreHolder, 'vfio_device_put_kvm');
    // M3: neither field is cleared, so the next last close puts the same kvm again.
    if (k.version.mutations.doublePut === true) return;
    putKvm.set(0);
  }
  deviceKvm.set(kNull);
}

/**
 * M11 (a personal WIP branch, sean-jc/linux): `device->put_kvm(device->group->kvm)` and no
 * clearing. After FILE_DEL the group's pointer is NULL: `kvm_put_kvm(NULL)` oopses (reported as an
 * invariant, and the put is skipped); after an ADD to another VM it is that VM's kvm: one VM loses
 * a reference it still counts on, the other keeps the device's for good.
 */
function putViaGroupKvm(k: Kernel, dev: DeviceNames): void {
  const { ctx } = k;
  const kvm = word(ctx, GROUP.groupKvm).get();
  if (kvm === kNull) {
    ctx.invariant('BUG: kernel NULL pointer dereference in kvm_put_kvm: device->put_kvm(device->group->kvm) with group->kvm NULL (M11)');
    return;
  }
  kvm_put_kvm(k, kvm, dev.coreHolder, 'vfio_device_put_kvm');
}

function groupOpenUpstream(k: Kernel, dev: DeviceNames): number {
  const { ctx } = k;
  const groupLock = mutex(ctx, GROUP.groupLock);
  const devSet = mutex(ctx, dev.devSetLock);
  groupLock.lock('vfio_device_group_open');
  devSet.lock('vfio_device_group_open');
  const openCount = word(ctx, dev.openCount);
  // "Before the first device open, get the KVM pointer currently associated with the group (if
  // there is one) and obtain a reference now that will be held until the open_count reaches 0
  // again." M10 drops the `open_count == 0` test.
  if (openCount.get() === 0 || k.version.mutations.getEveryOpen === true) vfio_device_group_get_kvm_safe(k, dev);
  const ret = vfio_device_open(k, dev);
  // Only after a failed first open. M2 deletes this put; M12 calls the get helper instead.
  if (openCount.get() === 0) {
    if (k.version.mutations.getOnOpenFailure === true) vfio_device_group_get_kvm_safe(k, dev);
    else if (k.version.mutations.missingOpenFailPut !== true) vfio_device_put_kvm(k, dev);
  }
  devSet.unlock('vfio_device_group_open');
  groupLock.unlock('vfio_device_group_open');
  return ret;
}

function groupCloseUpstream(k: Kernel, dev: DeviceNames): void {
  const { ctx } = k;
  const { mutations } = k.version;
  const groupLock = mutex(ctx, GROUP.groupLock);
  const devSet = mutex(ctx, dev.devSetLock);
  groupLock.lock('vfio_device_group_close');
  devSet.lock('vfio_device_group_close');
  vfio_device_close(k, dev);
  // M1 deletes this put; M4 moved it before close_device; M17 does it after the unlocks.
  const putHere = mutations.missingPut !== true && mutations.putBeforeClose !== true && mutations.unlockedOpenCount !== true;
  if (putHere && word(ctx, dev.openCount).get() === 0) vfio_device_put_kvm(k, dev);
  devSet.unlock('vfio_device_group_close');
  groupLock.unlock('vfio_device_group_close');
}

/**
 * M17 (the Jan-2023 v2 attempt, in `vfio_device_fops_release`): `if (device->open_count == 0 &&
 * device->kvm)` put, after `dev_set->lock` was dropped. Two closers can both see 0 and put the
 * same reference; a closer and a new opener can put the reference the opener just took.
 */
function unlockedLastClosePut(k: Kernel, dev: DeviceNames): void {
  const { ctx } = k;
  for (let i = 0; i < kWindowPauses; i++) ctx.jitter();
  if (word(ctx, dev.openCount).get() !== 0) return;
  const deviceKvm = word(ctx, dev.deviceKvm);
  const kvm = deviceKvm.get();
  if (kvm === kNull) return;
  for (let i = 0; i < kWindowPauses; i++) ctx.jitter();
  kvm_put_kvm(k, kvm, dev.coreHolder, 'vfio_device_fops_release');
  word(ctx, dev.putKvm).set(0);
  deviceKvm.set(kNull);
}

// ---- vfio_main.c, C and D: callers hold dev_set->lock ------------------------------------------

/** `vfio_device_open`: 0 -> 1 runs `vfio_device_first_open` (the driver's `open_device`). */
export function vfio_device_open(k: Kernel, dev: DeviceNames): number {
  mutex(k.ctx, dev.devSetLock).assertHeld('vfio_device_open');
  const openCount = word(k.ctx, dev.openCount);
  let ret = 0;
  if (openCount.add(1) + 1 === 1) {
    ret = driverOps(dev).open_device(k, dev);
    if (ret !== 0) openCount.add(-1);
  }
  return ret;
}

/** `vfio_device_close`: 1 -> 0 runs `vfio_device_last_close` (the driver's `close_device`). */
export function vfio_device_close(k: Kernel, dev: DeviceNames): void {
  mutex(k.ctx, dev.devSetLock).assertHeld('vfio_device_close');
  const openCount = word(k.ctx, dev.openCount);
  assertDeviceOpen(k, openCount.get());
  if (openCount.get() === 1) {
    // vfio_device_last_close. M4: the core's put moved in front of close_device.
    if (k.version.mutations.putBeforeClose === true) vfio_device_put_kvm(k, dev);
    driverOps(dev).close_device(k, dev);
  }
  openCount.add(-1);
}

/** `vfio_assert_device_open`: WARN_ON(!device->open_count). */
function assertDeviceOpen(k: Kernel, openCount: number): void {
  if (openCount <= 0) k.ctx.invariant(`WARN_ON(!device->open_count) in vfio_device_close (open_count ${openCount})`);
}
