/**
 * The vfio-ap driver (kernel-model.md §4 DRV_AP, `drivers/s390/crypto/vfio_ap_ops.c`, same
 * locking 5.19 … 6.5), with `kvm->arch.crypto.crycbd` set, so it always uses the kvm.
 *
 * Lock order, from the source comment: "1. matrix_dev->guests_lock 2. kvm->lock
 * 3. matrix_dev->mdevs_lock". `open_device` takes a non-safe `kvm_get_kvm` (legal only while
 * someone else holds a reference: I7); `close_device` puts under all three locks and then unlocks
 * `kvm->lock`, which touches the kvm after the put (safe in D only because the vfio core's
 * reference outlives `close_device`; M20). Before the three locks, both take
 * `kvm->arch.crypto.pqap_hook_rwsem` for write (down_write) around setting or clearing
 * `kvm->arch.crypto.pqap_hook`, and release it: under the caller's `group_lock` and
 * `dev_set->lock`, so it adds the edges dev_set->lock -> pqap_hook_rwsem (kernel-model.md §7.7),
 * and no cycle.
 */
import { type DeviceNames, GLOBAL_LOCK, kNull, lockKvm, mutex, rwsem, unlockKvm, word } from './objects.js';
import { kvm_get_kvm, kvm_put_kvm, vmOfKvm } from './kvm.js';
import type { Kernel } from './version.js';

export const kEINVAL = -22;
export const kEPERM = -1;

/** `vfio_ap_mdev_open_device`: 0, -EINVAL without a kvm, -EPERM if another mdev uses this VM. */
export function vfio_ap_mdev_open_device(k: Kernel, dev: DeviceNames): number {
  const kvm = word(k.ctx, dev.deviceKvm).get();
  if (kvm === kNull) return kEINVAL;
  return vfio_ap_mdev_set_kvm(k, dev, kvm);
}

/** Whether another vfio-ap mdev of this topology is attached to `kvm` (`matrix_mdev->kvm == kvm`). */
function anotherMdevUses(k: Kernel, dev: DeviceNames, kvm: number): boolean {
  return k.devices.some((d) => d !== dev && d.driver === 'vfio-ap' && word(k.ctx, d.mdevKvm).get() === kvm);
}

function vfio_ap_mdev_set_kvm(k: Kernel, dev: DeviceNames, kvm: number): number {
  const { ctx } = k;
  // if (kvm->arch.crypto.crycbd): reads the kvm. Freed: the access is reported and skipped, and
  // the driver goes on as if crycbd were 0 (no reference, no locks).
  if (!ctx.objects.access(kvm, 'vfio_ap_mdev_set_kvm')) return 0;
  const vm = vmOfKvm(k, kvm, 'vfio_ap_mdev_set_kvm');
  // down_write(&kvm->arch.crypto.pqap_hook_rwsem); kvm->arch.crypto.pqap_hook = &matrix_mdev->pqap_hook;
  const pqap = rwsem(ctx, vm.pqapRwsem);
  pqap.lock('vfio_ap_mdev_set_kvm');
  word(ctx, vm.pqapHook).set(1);
  pqap.unlock('vfio_ap_mdev_set_kvm');
  // get_update_locks_for_kvm
  const guests = mutex(ctx, GLOBAL_LOCK.guests_lock);
  const mdevs = mutex(ctx, GLOBAL_LOCK.mdevs_lock);
  guests.lock('vfio_ap_mdev_open_device');
  const tookKvmLock = lockKvm(ctx, vm, kvm, 'vfio_ap_mdev_open_device');
  mdevs.lock('vfio_ap_mdev_open_device');
  let ret = 0;
  if (anotherMdevUses(k, dev, kvm)) {
    // -EPERM; the pqap_hook stays set (§4).
    ret = kEPERM;
  } else {
    kvm_get_kvm(k, kvm, dev.driverHolder, 'vfio_ap_mdev_set_kvm');
    word(ctx, dev.mdevKvm).set(kvm);
  }
  // release_update_locks_for_kvm
  mdevs.unlock('vfio_ap_mdev_open_device');
  if (tookKvmLock) unlockKvm(ctx, vm, kvm, 'vfio_ap_mdev_open_device');
  guests.unlock('vfio_ap_mdev_open_device');
  return ret;
}

/** `vfio_ap_mdev_close_device` -> `vfio_ap_mdev_unset_kvm`. */
export function vfio_ap_mdev_close_device(k: Kernel, dev: DeviceNames): void {
  const { ctx } = k;
  const matrixMdevKvm = word(ctx, dev.mdevKvm);
  const kvm = matrixMdevKvm.get();
  // if (kvm && kvm->arch.crypto.crycbd)
  if (kvm === kNull || !ctx.objects.access(kvm, 'vfio_ap_mdev_unset_kvm')) return;
  const vm = vmOfKvm(k, kvm, 'vfio_ap_mdev_unset_kvm');
  // down_write(&kvm->arch.crypto.pqap_hook_rwsem); kvm->arch.crypto.pqap_hook = NULL;
  const pqap = rwsem(ctx, vm.pqapRwsem);
  pqap.lock('vfio_ap_mdev_unset_kvm');
  word(ctx, vm.pqapHook).set(kNull);
  pqap.unlock('vfio_ap_mdev_unset_kvm');
  const guests = mutex(ctx, GLOBAL_LOCK.guests_lock);
  const mdevs = mutex(ctx, GLOBAL_LOCK.mdevs_lock);
  guests.lock('vfio_ap_mdev_close_device');
  const tookKvmLock = lockKvm(ctx, vm, kvm, 'vfio_ap_mdev_close_device');
  mdevs.lock('vfio_ap_mdev_close_device');
  // Under guests_lock + kvm->lock + mdevs_lock: if this is the last reference, kvm_destroy_vm runs
  // here and the unlock of kvm->lock below writes to a freed kvm.
  kvm_put_kvm(k, kvm, dev.driverHolder, 'vfio_ap_mdev_unset_kvm');
  matrixMdevKvm.set(kNull);
  mdevs.unlock('vfio_ap_mdev_close_device');
  if (tookKvmLock) unlockKvm(ctx, vm, kvm, 'vfio_ap_mdev_close_device');
  guests.unlock('vfio_ap_mdev_close_device');
}
