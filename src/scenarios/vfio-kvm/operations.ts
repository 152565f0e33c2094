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
 * | VCPU_CREATE  | `KVM_CREATE_VCPU`                          | `kvm_vm_ioctl_create_vcpu` (+1 'vCPU fd')     |
 * | VCPU_CLOSE   | close(one vCPU fd), if one is open         | `kvm_vcpu_release`                            |
 *
 * VM operations act on the first VM, `VM_CLOSE(vm2)` and so on on the second; device operations
 * on the first device, `DEV_OPEN(d2)` on the second. FILE_ADD and FILE_DEL add and remove the one
 * vfio group on that VM's kvm-vfio device.
 *
 * A close of an fd that is not open does nothing, so every op is safe in any order.
 *
 * A kernel with the 6.6 device cdev (`version.cdev`, vfio-cdev.ts) also has, per cdev device file
 * df1, df2 (on the first device): CDEV_OPEN(df1), BIND(df1), CDEV_CLOSE(df1) (its final fput
 * UNBINDs), and per VM FILE_ADD(df1) / FILE_DEL(df1), FILE_ADD(vm2,df1) / FILE_DEL(vm2,df1) (the
 * df's fd on that VM's kvm-vfio device). There DEV_OPEN opens the group fd first (-EBUSY while a
 * df is bound), every op ends with task_work_run (the releases its final fputs queued), and
 * finish closes the df fds first.
 */
import type { OpContext, Operation } from '../contract.js';
import { closeFd, fput } from './files.js';
import { DFS, type DeviceNames, type DfNames, VMS, type VmNames, deviceNames, word } from './objects.js';
import {
  kvm_create_vm,
  kvm_device_release,
  kvm_ioctl_create_device,
  kvm_vcpu_release,
  kvm_vm_ioctl_create_vcpu,
  kvm_vm_release,
} from './kvm.js';
import { kvm_vfio_file_add_df, kvm_vfio_file_del_df, kvm_vfio_group_add, kvm_vfio_group_del, kvmVfioOps } from './kvm-vfio.js';
import { type Topology, checkTopology, kApOnly } from './topology.js';
import {
  task_work_run,
  vfio_cdev_close,
  vfio_device_fops_cdev_open,
  vfio_df_ioctl_bind,
  vfio_group_close_device_fd,
  vfio_group_open_device_fd,
} from './vfio-cdev.js';
import { vfio_device_fops_release, vfio_group_ioctl_get_device_fd } from './vfio-group.js';
import type { Kernel, KernelVersion } from './version.js';

/** The operations on a VM; the second VM's carry `(vm2)`: `VM_CLOSE(vm2)`. */
export const kVmOperationNames = [
  'VM_CREATE',
  'VM_CLOSE',
  'VCPU_CREATE',
  'VCPU_CLOSE',
  'KVFIO_CREATE',
  'KVFIO_CLOSE',
  'FILE_ADD',
  'FILE_DEL',
] as const;

/** The operations on a device; the second device's carry `(d2)`: `DEV_OPEN(d2)`. */
export const kDeviceOperationNames = ['DEV_OPEN', 'DEV_CLOSE'] as const;

export type VmOperationName = (typeof kVmOperationNames)[number];
export type DeviceOperationName = (typeof kDeviceOperationNames)[number];
/** An operation of the first VM or device (what the §11 schedules are written in). */
export type OperationName = VmOperationName | DeviceOperationName;

/** The operation `base` on the instance with `label` ('' for the first: no suffix). */
export function opName(base: string, label: string): string {
  return label === '' ? base : `${base}(${label})`;
}

export interface VersionOperations {
  ops: Record<string, Operation>;
  /** Thread 0, each round: VM_CREATE and KVFIO_CREATE of every VM, then FILE_ADD to the first. */
  setup: Operation;
  /**
   * Thread 0, after every thread: closes every device fd, then per VM the vCPU fds, the kvm-vfio
   * fd and the VM fd.
   */
  finish: Operation;
  /** The names of the topology's devices and VMs, in order. */
  devices: readonly DeviceNames[];
  vms: readonly VmNames[];
}

function vmOperations(kernel: (ctx: OpContext) => Kernel, vm: VmNames): Record<VmOperationName, Operation> {
  return {
    VM_CREATE: (ctx) => kvm_create_vm(kernel(ctx), vm),
    VM_CLOSE: (ctx) => {
      if (closeFd(ctx, vm.vmFd) && fput(ctx, vm.vmFile)) kvm_vm_release(kernel(ctx), vm);
    },
    VCPU_CREATE: (ctx) => kvm_vm_ioctl_create_vcpu(kernel(ctx), vm),
    VCPU_CLOSE: (ctx) => kvm_vcpu_release(kernel(ctx), vm),
    KVFIO_CREATE: (ctx) => kvm_ioctl_create_device(kernel(ctx), vm),
    KVFIO_CLOSE: (ctx) => {
      if (closeFd(ctx, vm.kvmVfioFd) && fput(ctx, vm.kvmVfioFile)) kvm_device_release(kernel(ctx), vm);
    },
    FILE_ADD: (ctx) => kvm_vfio_group_add(kernel(ctx), vm),
    FILE_DEL: (ctx) => kvm_vfio_group_del(kernel(ctx), vm),
  };
}

function deviceOperations(kernel: (ctx: OpContext) => Kernel, dev: DeviceNames, cdev: boolean): Record<DeviceOperationName, Operation> {
  if (cdev) {
    return {
      DEV_OPEN: (ctx) => vfio_group_open_device_fd(kernel(ctx), dev),
      DEV_CLOSE: (ctx) => vfio_group_close_device_fd(kernel(ctx), dev),
    };
  }
  return {
    DEV_OPEN: (ctx) => vfio_group_ioctl_get_device_fd(kernel(ctx), dev),
    DEV_CLOSE: (ctx) => vfio_device_fops_release(kernel(ctx), dev),
  };
}

/** The operations on a cdev device file; each carries its label: `BIND(df1)`. */
export const kCdevOperationNames = ['CDEV_OPEN', 'BIND', 'CDEV_CLOSE'] as const;
export type CdevOperationName = (typeof kCdevOperationNames)[number];

function cdevOperations(kernel: (ctx: OpContext) => Kernel, df: DfNames): Record<CdevOperationName, Operation> {
  return {
    CDEV_OPEN: (ctx) => vfio_device_fops_cdev_open(kernel(ctx), df),
    BIND: (ctx) => {
      vfio_df_ioctl_bind(kernel(ctx), df);
    },
    CDEV_CLOSE: (ctx) => vfio_cdev_close(kernel(ctx), df),
  };
}

/** FILE_ADD / FILE_DEL of a df's fd on a VM's kvm-vfio device: `FILE_ADD(df1)`, `FILE_ADD(vm2,df1)`. */
function cdevFileOperations(kernel: (ctx: OpContext) => Kernel, vm: VmNames, df: DfNames): Record<string, Operation> {
  const label = vm.label === '' ? df.label : `${vm.label},${df.label}`;
  return {
    [opName('FILE_ADD', label)]: (ctx) => kvm_vfio_file_add_df(kernel(ctx), vm, df),
    [opName('FILE_DEL', label)]: (ctx) => kvm_vfio_file_del_df(kernel(ctx), vm, df),
  };
}

/** The operations of `version` on `topology` (default: one vfio-ap mdev on one VM). */
export function makeOperations(version: KernelVersion, topology: Topology = kApOnly): VersionOperations {
  checkTopology(topology);
  const deviceOps = kvmVfioOps(version);
  const devices = topology.devices.map((driver, i) => deviceNames(i, driver));
  const vms = VMS.slice(0, topology.vms);
  const kernel = (ctx: OpContext): Kernel => ({ ctx, version, kvmVfioOps: deviceOps, topology, devices });
  const ops: Record<string, Operation> = {};
  const perVm = vms.map((vm) => vmOperations(kernel, vm));
  const cdev = version.cdev !== undefined;
  const perDevice = devices.map((dev) => deviceOperations(kernel, dev, cdev));
  vms.forEach((vm, i) => {
    for (const [name, op] of Object.entries(perVm[i] ?? {})) ops[opName(name, vm.label)] = op;
  });
  devices.forEach((dev, i) => {
    for (const [name, op] of Object.entries(perDevice[i] ?? {})) ops[opName(name, dev.label)] = op;
  });
  const first = perVm[0] as Record<VmOperationName, Operation>;
  const perDf = cdev ? DFS.map((df) => cdevOperations(kernel, df)) : [];
  if (cdev) {
    DFS.forEach((df, i) => {
      for (const [name, op] of Object.entries(perDf[i] ?? {})) ops[opName(name, df.label)] = op;
      for (const vm of vms) Object.assign(ops, cdevFileOperations(kernel, vm, df));
    });
    // Every op returns to user space, where task_work runs the releases of its final fputs.
    for (const [name, op] of Object.entries(ops)) {
      ops[name] = (ctx) => {
        op(ctx);
        task_work_run(kernel(ctx));
      };
    }
  }
  return {
    ops,
    devices,
    vms,
    setup: (ctx) => {
      for (const vmOps of perVm) {
        vmOps.VM_CREATE(ctx);
        vmOps.KVFIO_CREATE(ctx);
      }
      first.FILE_ADD(ctx);
    },
    // Reverse order of creation, so that finish itself never makes a device's reference the
    // last one (the plans do that on purpose where a variant needs it: S-last-ref-is-device).
    finish: (ctx) => {
      if (cdev) {
        perDf.forEach((dfOps) => dfOps.CDEV_CLOSE(ctx));
        task_work_run(kernel(ctx), true);
      }
      devices.forEach((dev, i) => {
        const fds = word(ctx, dev.deviceFds);
        while (fds.get() > 0) perDevice[i]?.DEV_CLOSE(ctx);
      });
      vms.forEach((vm, i) => {
        const vmOps = perVm[i] as Record<VmOperationName, Operation>;
        const vcpus = word(ctx, vm.vcpuFds);
        while (vcpus.get() > 0) vmOps.VCPU_CLOSE(ctx);
        vmOps.KVFIO_CLOSE(ctx);
        // The df files the kvm-vfio device held: their releases (UNBIND) before the VM fd's put.
        if (cdev) task_work_run(kernel(ctx), true);
        vmOps.VM_CLOSE(ctx);
      });
    },
  };
}
