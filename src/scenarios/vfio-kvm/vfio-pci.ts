/**
 * Plain vfio-pci, not on s390 (kernel-model.md §4 DRV_NONE): `open_device` and `close_device`
 * ignore `device->kvm`. A device on it still gets the vfio core's reference in C and D.
 */
import type { DeviceNames } from './objects.js';
import type { Kernel } from './version.js';

export function vfio_pci_open_device(_k: Kernel, _dev: DeviceNames): number {
  return 0;
}

export function vfio_pci_close_device(_k: Kernel, _dev: DeviceNames): void {}
