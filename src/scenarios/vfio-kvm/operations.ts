/**
 * The operations of kernel-model.md §11, by name, for one kernel version, plus the round's setup
 * and finish. Each is the user-space action (an ioctl or a close) and runs the kernel paths it
 * triggers, in the calling thread.
 *
 * | op           | user space                                 | kernel path                                   |
 * |--------------|--------------------------------------------|-----------------------------------------------|
 * | VM_CREATE    | `KVM_CREATE_VM`                            | `kvm_create_vm` (users_count = 1, 'VM fd')    |
 * | VM_CLOSE     | close(VM fd)                               | `kvm_vm_release` -> `kvm_put_kvm`             |
 * | KVFIO_CREATE | `KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO)`     | `kvm_ioctl_create_device` (+1 'kvm-vfio fd')  |
 * | KVFIO_CLOSE  | close(kvm-vfio fd)                         | `kvm_device_release`                          |
 * | FILE_ADD     | `KVM_DEV_VFIO_GROUP_ADD`                   | `kvm_vfio_group_add`                          |
 * | FILE_DEL     | `KVM_DEV_VFIO_GROUP_DEL`                   | `kvm_vfio_group_del`                          |
 * | DEV_OPEN     | `VFIO_GROUP_GET_DEVICE_FD`                 | `vfio_device_group_open`                      |
 * | DEV_CLOSE    | close(one device fd), if one is open       | `vfio_device_fops_release`                    |
 *
 * A close of an fd that is not open does nothing, so every op is safe in any order.
 */
import type { OpContext, Operation } from '../contract.js';
import { closeFd, fput } from './files.js';
import { WORD, word } from './objects.js';
import { kvm_create_vm, kvm_device_release, kvm_ioctl_create_device, kvm_vm_release } from './kvm.js';
import { kvm_vfio_group_add, kvm_vfio_group_del, kvmVfioOps } from './kvm-vfio.js';
import { vfio_device_fops_release, vfio_group_ioctl_get_device_fd } from './vfio-group.js';
import type { Kernel, KernelVersion } from './version.js';

export const kOperationNames = [
  'VM_CREATE',
  'VM_CLOSE',
  'KVFIO_CREATE',
  'KVFIO_CLOSE',
  'FILE_ADD',
  'FILE_DEL',
  'DEV_OPEN',
  'DEV_CLOSE',
] as const;

export type OperationName = (typeof kOperationNames)[number];

export interface VersionOperations {
  ops: Record<OperationName, Operation>;
  /** Thread 0, each round: VM_CREATE, KVFIO_CREATE, FILE_ADD. */
  setup: Operation;
  /** Thread 0, after every thread: closes every device fd, then the kvm-vfio fd, then the VM fd. */
  finish: Operation;
}

export function makeOperations(version: KernelVersion): VersionOperations {
  const deviceOps = kvmVfioOps(version);
  const kernel = (ctx: OpContext): Kernel => ({ ctx, version, kvmVfioOps: deviceOps });
  const ops: Record<OperationName, Operation> = {
    VM_CREATE: (ctx) => kvm_create_vm(kernel(ctx)),
    VM_CLOSE: (ctx) => {
      if (closeFd(ctx, WORD.vmFd) && fput(ctx, WORD.vmFile)) kvm_vm_release(kernel(ctx));
    },
    KVFIO_CREATE: (ctx) => kvm_ioctl_create_device(kernel(ctx)),
    KVFIO_CLOSE: (ctx) => {
      if (closeFd(ctx, WORD.kvmVfioFd) && fput(ctx, WORD.kvmVfioFile)) kvm_device_release(kernel(ctx));
    },
    FILE_ADD: (ctx) => kvm_vfio_group_add(kernel(ctx)),
    FILE_DEL: (ctx) => kvm_vfio_group_del(kernel(ctx)),
    DEV_OPEN: (ctx) => vfio_group_ioctl_get_device_fd(kernel(ctx)),
    DEV_CLOSE: (ctx) => vfio_device_fops_release(kernel(ctx)),
  };
  return {
    ops,
    setup: (ctx) => {
      ops.VM_CREATE(ctx);
      ops.KVFIO_CREATE(ctx);
      ops.FILE_ADD(ctx);
    },
    // Reverse order of creation, so that finish itself never makes the device's reference the
    // last one (the plans do that on purpose where a variant needs it: S-last-ref-is-device).
    finish: (ctx) => {
      const fds = word(ctx, WORD.deviceFds);
      while (fds.get() > 0) ops.DEV_CLOSE(ctx);
      ops.KVFIO_CLOSE(ctx);
      ops.VM_CLOSE(ctx);
    },
  };
}
