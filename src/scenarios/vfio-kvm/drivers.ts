/**
 * The drivers of kernel-model.md §4 as `struct vfio_device_ops`: what the vfio core calls at a
 * device's first open and last close, under `dev_set->lock` (and, on the group path,
 * `group_lock`). A device's topology entry picks its driver.
 */
import type { DeviceNames } from './objects.js';
import type { DriverKind } from './topology.js';
import { intel_vgpu_close_device, intel_vgpu_open_device } from './kvmgt.js';
import { vfio_ap_mdev_close_device, vfio_ap_mdev_open_device } from './vfio-ap.js';
import { vfio_pci_close_device, vfio_pci_open_device } from './vfio-pci.js';
import { vfio_pci_zdev_close_device, vfio_pci_zdev_open_device } from './vfio-pci-zdev.js';
import type { Kernel } from './version.js';

export interface VfioDeviceOps {
  /** 0 or a negative errno; on failure the driver has undone what it did (close is not called). */
  open_device(k: Kernel, dev: DeviceNames): number;
  close_device(k: Kernel, dev: DeviceNames): void;
}

const kDrivers: Record<DriverKind, VfioDeviceOps> = {
  'vfio-ap': { open_device: vfio_ap_mdev_open_device, close_device: vfio_ap_mdev_close_device },
  zpci: { open_device: vfio_pci_zdev_open_device, close_device: vfio_pci_zdev_close_device },
  kvmgt: { open_device: intel_vgpu_open_device, close_device: intel_vgpu_close_device },
  plain: { open_device: vfio_pci_open_device, close_device: vfio_pci_close_device },
};

export function driverOps(dev: DeviceNames): VfioDeviceOps {
  return kDrivers[dev.driver];
}
