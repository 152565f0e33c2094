/**
 * KVM's side (kernel-model.md §3, identical in A..D): the VM and its refcount, `kvm_destroy_vm`
 * in the context of whoever drops the last reference, and the kvm_device fd
 * (`kvm_ioctl_create_device`, `kvm_device_release`), and vCPU fds. Each function takes the VM it
 * acts on; a kvm pointer read from a vfio or driver field is mapped back to its VM (`vmOfKvm`).
 * The kvm-vfio device's ops come in as function pointers (`k.kvmVfioOps`, a
 * {@link KvmDeviceOps}), as in the kernel, so this file does not depend on vfio.
 *
 * Every touch of the kvm (a field, its lock, its refcount) first calls `ctx.objects.access`; on a
 * freed kvm that logs `use-after-free` and the touch is skipped.
 */
import { claimCount, fdget, fput, installFd } from './files.js';
import { GLOBAL_LOCK, HOLDER, type VmNames, lockKvm, mutex, unlockKvm, usersCount, vmOf, word } from './objects.js';
import type { Kernel } from './version.js';

/** `struct kvm_device_ops` of the kvm-vfio device: the two teardown callbacks (§5, §6). */
export interface KvmDeviceOps {
  /** Creates the device's private state; false for -EBUSY. Under `kvm->lock`. */
  create(k: Kernel, vm: VmNames, kvm: number): boolean;
  /** `.release`: at the final fput of the device fd, under `kvm->lock` (B..D). */
  release?: (k: Kernel, vm: VmNames) => void;
  /** `.destroy`: from `kvm_destroy_devices`, in `kvm_destroy_vm`, no `kvm->lock` (A, D′). */
  destroy?: (k: Kernel, vm: VmNames) => void;
}

/**
 * The VM of a kvm pointer read from a vfio or driver field. A pointer no VM of this round has
 * cannot happen in the model (every kvm is created by a VM_CREATE of the round).
 */
export function vmOfKvm(k: Kernel, kvm: number, site: string): VmNames {
  const vm = vmOf(k.ctx, k.topology.vms, kvm);
  if (vm === undefined) throw new RangeError(`vfio-kvm: ${site} got kvm pointer ${kvm}, which no VM of this round has`);
  return vm;
}

/** `kvm_get_kvm`: refcount_inc, non-safe (`inc-on-zero` when the VM is already dying). */
export function kvm_get_kvm(k: Kernel, kvm: number, holder: string, site: string): void {
  if (!k.ctx.objects.access(kvm, site)) return;
  usersCount(k.ctx, vmOfKvm(k, kvm, site)).inc(holder, site);
}

/** `kvm_get_kvm_safe`: refcount_inc_not_zero. */
export function kvm_get_kvm_safe(k: Kernel, kvm: number, holder: string, site: string): boolean {
  if (!k.ctx.objects.access(kvm, site)) return false;
  return usersCount(k.ctx, vmOfKvm(k, kvm, site)).incNotZero(holder, site);
}

/** `kvm_put_kvm`: the last put runs `kvm_destroy_vm` here, with the caller's locks still held. */
export function kvm_put_kvm(k: Kernel, kvm: number, holder: string, site: string): void {
  if (!k.ctx.objects.access(kvm, site)) return;
  const vm = vmOfKvm(k, kvm, site);
  if (usersCount(k.ctx, vm).decAndTest(holder, site)) kvm_destroy_vm(k, vm, kvm);
}

/**
 * `kvm_destroy_vm`: sleeps (so a final put under a spinlock is `sleep-in-atomic`), takes
 * `kvm_lock` for `list_del(&kvm->vm_list)`, tears the arch state down, runs
 * `kvm_destroy_devices` (A, D′: `kvm_vfio_destroy`, which calls back into vfio), then frees the
 * kvm. Anything that touches it afterwards is a use-after-free.
 */
export function kvm_destroy_vm(k: Kernel, vm: VmNames, kvm: number): void {
  const { ctx } = k;
  ctx.mightSleep('kvm_destroy_vm');
  word(ctx, vm.destroyed).add(1);
  const kvmLock = mutex(ctx, GLOBAL_LOCK.kvm_lock);
  kvmLock.lock('kvm_destroy_vm');
  kvmLock.unlock('kvm_destroy_vm');
  // kvm_arch_destroy_vm and the mmu notifier teardown take a while: the window in which
  // users_count is 0 but the kvm is still reachable through group->kvm (A2, M5).
  ctx.jitter();
  kvm_destroy_devices(k, vm);
  ctx.objects.free(kvm, 'kvm_destroy_vm');
}

/** "We do not need to take the kvm->lock here, because nobody else has a reference". */
function kvm_destroy_devices(k: Kernel, vm: VmNames): void {
  const devices = word(k.ctx, vm.devices);
  if (devices.get() === 0) return;
  devices.set(0);
  // B..D's kvm_vfio_ops has no .destroy: with the device still listed, `dev->ops->destroy(dev)`
  // calls NULL. Only a premature last put gets here: one before the release (M16), or one that
  // a double put (M3, M11, M17) made the last while the kvm-vfio fd is still open.
  if (k.kvmVfioOps.destroy === undefined) {
    k.ctx.invariant('BUG: kernel NULL pointer dereference in kvm_destroy_devices: the kvm-vfio device is still on kvm->devices (its fd is open) and kvm_vfio_ops has no .destroy');
    return;
  }
  k.kvmVfioOps.destroy(k, vm);
}

/** VM_CREATE: `KVM_CREATE_VM`, users_count = 1, owned by the VM fd. Setup only. */
export function kvm_create_vm(k: Kernel, vm: VmNames): void {
  const { ctx } = k;
  const kvm = ctx.objects.create(vm.slotKvm, 'struct kvm', 'kvm_create_vm');
  usersCount(ctx, vm).reset(1, HOLDER.vmFd, 'kvm_create_vm');
  word(ctx, vm.kvm).set(kvm);
  word(ctx, vm.created).add(1);
  installFd(ctx, vm.vmFd, vm.vmFile);
}

/** `kvm_vm_release`: the VM fd's final fput. */
export function kvm_vm_release(k: Kernel, vm: VmNames): void {
  const kvm = word(k.ctx, vm.kvm).get();
  // kvm_irqfd_release(kvm) reads the kvm before the put.
  if (!k.ctx.objects.access(kvm, 'kvm_vm_release')) return;
  kvm_put_kvm(k, kvm, HOLDER.vmFd, 'kvm_vm_release');
}

/**
 * VCPU_CREATE: `KVM_CREATE_VCPU` on the VM fd: `kvm_get_kvm` for the vCPU fd (§2.3 "+1 per vCPU
 * fd"). Without an open VM fd, EBADF.
 */
export function kvm_vm_ioctl_create_vcpu(k: Kernel, vm: VmNames): void {
  const { ctx } = k;
  if (!fdget(ctx, vm.vmFd, vm.vmFile)) return;
  const kvm = word(ctx, vm.kvm).get();
  kvm_get_kvm(k, kvm, HOLDER.vcpuFd, 'kvm_vm_ioctl_create_vcpu');
  word(ctx, vm.vcpuFds).add(1);
  if (fput(ctx, vm.vmFile)) kvm_vm_release(k, vm);
}

/** VCPU_CLOSE: `kvm_vcpu_release` of one open vCPU fd: its put; none open: no-op. */
export function kvm_vcpu_release(k: Kernel, vm: VmNames): void {
  if (!claimCount(k.ctx, vm.vcpuFds)) return;
  kvm_put_kvm(k, word(k.ctx, vm.kvm).get(), HOLDER.vcpuFd, 'kvm_vcpu_release');
}

/**
 * KVFIO_CREATE: `kvm_ioctl_create_device(KVM_DEV_TYPE_VFIO)` on the VM fd. Under `kvm->lock`:
 * `ops->create` (-EBUSY if the VM has one) and `list_add(&dev->vm_node, &kvm->devices)`; then the
 * device fd's reference, `kvm_get_kvm` (+1 'kvm-vfio fd').
 */
export function kvm_ioctl_create_device(k: Kernel, vm: VmNames): void {
  const { ctx } = k;
  if (!fdget(ctx, vm.vmFd, vm.vmFile)) return;
  const kvm = word(ctx, vm.kvm).get();
  let created = false;
  if (lockKvm(ctx, vm, kvm, 'kvm_ioctl_create_device')) {
    created = k.kvmVfioOps.create(k, vm, kvm);
    if (created) word(ctx, vm.devices).set(1);
    unlockKvm(ctx, vm, kvm, 'kvm_ioctl_create_device');
  }
  if (created) {
    kvm_get_kvm(k, kvm, HOLDER.kvmVfioFd, 'kvm_ioctl_create_device');
    installFd(ctx, vm.kvmVfioFd, vm.kvmVfioFile);
  }
  if (fput(ctx, vm.vmFile)) kvm_vm_release(k, vm);
}

/**
 * `kvm_device_release`: the kvm-vfio fd's final fput. With `.release` (B..D):
 * `mutex_lock(&kvm->lock); list_del; ops->release; mutex_unlock`, then the fd's put, after the
 * unlock. With `.destroy` only (A, D′) just the put; the device stays on `kvm->devices`.
 */
export function kvm_device_release(k: Kernel, vm: VmNames): void {
  const { ctx } = k;
  const ops = k.kvmVfioOps;
  const kv = word(ctx, vm.kvmVfio).get();
  if (!ctx.objects.access(kv, 'kvm_device_release')) return;
  const kvm = word(ctx, vm.kvmVfioKvm).get();
  if (k.version.mutations.putBeforeRelease === true) {
    releaseAfterPut(k, vm, kvm);
    return;
  }
  if (ops.release !== undefined) {
    if (lockKvm(ctx, vm, kvm, 'kvm_device_release')) {
      word(ctx, vm.devices).set(0);
      ops.release(k, vm);
      unlockKvm(ctx, vm, kvm, 'kvm_device_release');
    }
  }
  kvm_put_kvm(k, kvm, HOLDER.kvmVfioFd, 'kvm_device_release');
}

/**
 * M16: `kvm_device_release` with the fd's put moved before `ops->release`. Between the put and the
 * release's `vfio_file_set_kvm(NULL)`, `group->kvm` names a kvm whose last reference may be gone:
 * an opener's `kvm_get_kvm_safe` reads freed memory (I6). When the put is the last, the release
 * itself then takes `kvm->lock` of the freed kvm; it still runs, as the kernel would.
 */
function releaseAfterPut(k: Kernel, vm: VmNames, kvm: number): void {
  const { ctx } = k;
  kvm_put_kvm(k, kvm, HOLDER.kvmVfioFd, 'kvm_device_release');
  const release = k.kvmVfioOps.release;
  if (release === undefined) return;
  ctx.jitter();
  const locked = lockKvm(ctx, vm, kvm, 'kvm_device_release');
  word(ctx, vm.devices).set(0);
  release(k, vm);
  if (locked) unlockKvm(ctx, vm, kvm, 'kvm_device_release');
}
