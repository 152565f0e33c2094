/**
 * vfio-pci on s390 with zPCI passthrough (kernel-model.md §4 DRV_ZDEV): `vfio_pci_zdev_open_device`
 * -> `kvm_s390_pci_register_kvm`, and its unregister at `close_device`. The driver holds its own
 * kvm reference while registered (`zdev->kzdev`), and takes `kvm->lock` under its
 * `zdev->kzdev_lock`, inside the vfio core's `group_lock` and `dev_set->lock`: the second driver of
 * the reported s390 setup that closes B1 (Rosato: "I can reproduce something similar for
 * vfio_pci_zdev"). Its put comes after its own unlocks, still under the vfio locks (A1 in A).
 */
import { type DeviceNames, kNull, lockKvm, mutex, unlockKvm, word } from './objects.js';
import { kvm_get_kvm, kvm_put_kvm, vmOfKvm } from './kvm.js';
import type { Kernel } from './version.js';
import { kEINVAL } from './vfio-ap.js';

/** `vfio_pci_zdev_open_device`: without a kvm, 0 (passthrough without interpretation). */
export function vfio_pci_zdev_open_device(k: Kernel, dev: DeviceNames): number {
  const kvm = word(k.ctx, dev.deviceKvm).get();
  if (kvm === kNull) return 0;
  return kvm_s390_pci_register_kvm(k, dev, kvm);
}

/** `kvm_s390_pci_register_kvm`: 0, or -EINVAL when the zdev is already registered. */
function kvm_s390_pci_register_kvm(k: Kernel, dev: DeviceNames, kvm: number): number {
  const { ctx } = k;
  const kzdevLock = mutex(ctx, dev.kzdevLock);
  kzdevLock.lock('kvm_s390_pci_register_kvm');
  if (word(ctx, dev.kzdev).get() !== kNull) {
    kzdevLock.unlock('kvm_s390_pci_register_kvm');
    return kEINVAL;
  }
  kvm_get_kvm(k, kvm, dev.driverHolder, 'kvm_s390_pci_register_kvm');
  const vm = vmOfKvm(k, kvm, 'kvm_s390_pci_register_kvm');
  const tookKvmLock = lockKvm(ctx, vm, kvm, 'kvm_s390_pci_register_kvm');
  // zpci_kvm_hook: enable interpretation, register the GISA; zdev->kzdev->kvm = kvm.
  word(ctx, dev.kzdev).set(kvm);
  if (tookKvmLock) unlockKvm(ctx, vm, kvm, 'kvm_s390_pci_register_kvm');
  kzdevLock.unlock('kvm_s390_pci_register_kvm');
  return 0;
}

/** `vfio_pci_zdev_close_device` -> `kvm_s390_pci_unregister_kvm`. */
export function vfio_pci_zdev_close_device(k: Kernel, dev: DeviceNames): void {
  const { ctx } = k;
  const kzdevLock = mutex(ctx, dev.kzdevLock);
  const kzdev = word(ctx, dev.kzdev);
  kzdevLock.lock('kvm_s390_pci_unregister_kvm');
  const kvm = kzdev.get();
  if (kvm === kNull) {
    kzdevLock.unlock('kvm_s390_pci_unregister_kvm');
    return;
  }
  const vm = vmOfKvm(k, kvm, 'kvm_s390_pci_unregister_kvm');
  const tookKvmLock = lockKvm(ctx, vm, kvm, 'kvm_s390_pci_unregister_kvm');
  kzdev.set(kNull);
  if (tookKvmLock) unlockKvm(ctx, vm, kvm, 'kvm_s390_pci_unregister_kvm');
  kzdevLock.unlock('kvm_s390_pci_unregister_kvm');
  // After its own unlocks, but under the caller's group_lock and dev_set->lock.
  kvm_put_kvm(k, kvm, dev.driverHolder, 'kvm_s390_pci_unregister_kvm');
}
