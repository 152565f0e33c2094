/**
 * KVM's side (kernel-model.md §3, identical in A..D): the VM and its refcount, `kvm_destroy_vm`
 * in the context of whoever drops the last reference, and the kvm_device fd
 * (`kvm_ioctl_create_device`, `kvm_device_release`). The kvm-vfio device's ops come in as function
 * pointers (`k.kvmVfioOps`, a {@link KvmDeviceOps}), as in the kernel, so this file does not
 * depend on vfio.
 *
 * Every touch of the kvm (a field, its lock, its refcount) first calls `ctx.objects.access`; on a
 * freed kvm that logs `use-after-free` and the touch is skipped.
 */
import { fdget, fput, installFd } from './files.js';
import { HOLDER, LOCK, SLOT, WORD, lockKvm, mutex, unlockKvm, usersCount, word } from './objects.js';
import type { Kernel } from './version.js';

/** `struct kvm_device_ops` of the kvm-vfio device: the two teardown callbacks (§5, §6). */
export interface KvmDeviceOps {
  /** Creates the device's private state; false for -EBUSY. Under `kvm->lock`. */
  create(k: Kernel, kvm: number): boolean;
  /** `.release`: at the final fput of the device fd, under `kvm->lock` (B..D). */
  release?: (k: Kernel) => void;
  /** `.destroy`: from `kvm_destroy_devices`, in `kvm_destroy_vm`, no `kvm->lock` (A, D′). */
  destroy?: (k: Kernel) => void;
}

/** `kvm_get_kvm`: refcount_inc, non-safe (`inc-on-zero` when the VM is already dying). */
export function kvm_get_kvm(k: Kernel, kvm: number, holder: string, site: string): void {
  if (!k.ctx.objects.access(kvm, site)) return;
  usersCount(k.ctx).inc(holder, site);
}

/** `kvm_get_kvm_safe`: refcount_inc_not_zero. */
export function kvm_get_kvm_safe(k: Kernel, kvm: number, holder: string, site: string): boolean {
  if (!k.ctx.objects.access(kvm, site)) return false;
  return usersCount(k.ctx).incNotZero(holder, site);
}

/** `kvm_put_kvm`: the last put runs `kvm_destroy_vm` here, with the caller's locks still held. */
export function kvm_put_kvm(k: Kernel, kvm: number, holder: string, site: string): void {
  if (!k.ctx.objects.access(kvm, site)) return;
  if (usersCount(k.ctx).decAndTest(holder, site)) kvm_destroy_vm(k, kvm);
}

/**
 * `kvm_destroy_vm`: sleeps (so a final put under a spinlock is `sleep-in-atomic`), takes
 * `kvm_lock` for `list_del(&kvm->vm_list)`, tears the arch state down, runs
 * `kvm_destroy_devices` (A, D′: `kvm_vfio_destroy`, which calls back into vfio), then frees the
 * kvm. Anything that touches it afterwards is a use-after-free.
 */
export function kvm_destroy_vm(k: Kernel, kvm: number): void {
  const { ctx } = k;
  ctx.mightSleep('kvm_destroy_vm');
  word(ctx, WORD.kvmDestroyed).add(1);
  const kvmLock = mutex(ctx, LOCK.kvm_lock);
  kvmLock.lock('kvm_destroy_vm');
  kvmLock.unlock('kvm_destroy_vm');
  // kvm_arch_destroy_vm and the mmu notifier teardown take a while: the window in which
  // users_count is 0 but the kvm is still reachable through group->kvm (A2, M5).
  ctx.jitter();
  kvm_destroy_devices(k);
  ctx.objects.free(kvm, 'kvm_destroy_vm');
}

/** "We do not need to take the kvm->lock here, because nobody else has a reference". */
function kvm_destroy_devices(k: Kernel): void {
  const devices = word(k.ctx, WORD.kvmDevices);
  if (devices.get() === 0) return;
  devices.set(0);
  k.kvmVfioOps.destroy?.(k);
}

/** VM_CREATE: `KVM_CREATE_VM`, users_count = 1, owned by the VM fd. Setup only. */
export function kvm_create_vm(k: Kernel): void {
  const { ctx } = k;
  const kvm = ctx.objects.create(SLOT.kvm, 'struct kvm', 'kvm_create_vm');
  usersCount(ctx).reset(1, HOLDER.vmFd, 'kvm_create_vm');
  word(ctx, WORD.kvm).set(kvm);
  word(ctx, WORD.kvmCreated).add(1);
  installFd(ctx, WORD.vmFd, WORD.vmFile);
}

/** `kvm_vm_release`: the VM fd's final fput. */
export function kvm_vm_release(k: Kernel): void {
  const kvm = word(k.ctx, WORD.kvm).get();
  // kvm_irqfd_release(kvm) reads the kvm before the put.
  if (!k.ctx.objects.access(kvm, 'kvm_vm_release')) return;
  kvm_put_kvm(k, kvm, HOLDER.vmFd, 'kvm_vm_release');
}

/**
 * KVFIO_CREATE: `kvm_ioctl_create_device(KVM_DEV_TYPE_VFIO)` on the VM fd. Under `kvm->lock`:
 * `ops->create` (-EBUSY if the VM has one) and `list_add(&dev->vm_node, &kvm->devices)`; then the
 * device fd's reference, `kvm_get_kvm` (+1 'kvm-vfio fd').
 */
export function kvm_ioctl_create_device(k: Kernel): void {
  const { ctx } = k;
  if (!fdget(ctx, WORD.vmFd, WORD.vmFile)) return;
  const kvm = word(ctx, WORD.kvm).get();
  let created = false;
  if (lockKvm(ctx, kvm, 'kvm_ioctl_create_device')) {
    created = k.kvmVfioOps.create(k, kvm);
    if (created) word(ctx, WORD.kvmDevices).set(1);
    unlockKvm(ctx, kvm, 'kvm_ioctl_create_device');
  }
  if (created) {
    kvm_get_kvm(k, kvm, HOLDER.kvmVfioFd, 'kvm_ioctl_create_device');
    installFd(ctx, WORD.kvmVfioFd, WORD.kvmVfioFile);
  }
  if (fput(ctx, WORD.vmFile)) kvm_vm_release(k);
}

/**
 * `kvm_device_release`: the kvm-vfio fd's final fput. With `.release` (B..D):
 * `mutex_lock(&kvm->lock); list_del; ops->release; mutex_unlock`, then the fd's put, after the
 * unlock. With `.destroy` only (A, D′) just the put; the device stays on `kvm->devices`.
 */
export function kvm_device_release(k: Kernel): void {
  const { ctx } = k;
  const ops = k.kvmVfioOps;
  const kv = word(ctx, WORD.kvmVfio).get();
  if (!ctx.objects.access(kv, 'kvm_device_release')) return;
  const kvm = word(ctx, WORD.kvmVfioKvm).get();
  if (ops.release !== undefined) {
    if (lockKvm(ctx, kvm, 'kvm_device_release')) {
      word(ctx, WORD.kvmDevices).set(0);
      ops.release(k);
      unlockKvm(ctx, kvm, 'kvm_device_release');
    }
  }
  kvm_put_kvm(k, kvm, HOLDER.kvmVfioFd, 'kvm_device_release');
}
