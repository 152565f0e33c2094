/**
 * kvmgt, i915 GVT-g (kernel-model.md §4 DRV_GVT, v6.2): `intel_vgpu_open_device` takes its own
 * kvm reference and registers a page-track notifier, which takes `kvm->mmu_lock` (an rwlock) for
 * write; `close_device` unregisters (the same lock) and puts, under the vfio core's locks. It never
 * takes `kvm->lock`, so it cannot close B1: with kvmgt alone, 51cdc8bc120e does not deadlock.
 *
 * M19 is the code before Sean Christopherson's Nov-2022 fix "drm/i915/gvt: Get reference to KVM
 * iff attachment to VM is successful": `kvm_get_kvm` came before the `-EEXIST` return for a
 * second vGPU on the same VM, and `close_device` is not called after a failed open, so the
 * reference leaks.
 */
import { type DeviceNames, kNull, mutex, word } from './objects.js';
import { kvm_get_kvm, kvm_put_kvm, vmOfKvm } from './kvm.js';
import type { Kernel } from './version.js';

export const kEEXIST = -17;
export const kESRCH = -3;

/** `__kvmgt_vgpu_exist`: another attached vGPU of this topology uses `kvm`. */
function kvmgtVgpuExists(k: Kernel, dev: DeviceNames, kvm: number): boolean {
  return k.devices.some(
    (d) => d !== dev && d.driver === 'kvmgt' && word(k.ctx, d.vgpuAttached).get() !== 0 && word(k.ctx, d.vgpuKvm).get() === kvm,
  );
}

/** `intel_vgpu_open_device`: 0, -EEXIST (attached, or another vGPU on this VM), -ESRCH (no kvm). */
export function intel_vgpu_open_device(k: Kernel, dev: DeviceNames): number {
  const { ctx } = k;
  if (word(ctx, dev.vgpuAttached).get() !== 0) return kEEXIST;
  const kvm = word(ctx, dev.deviceKvm).get();
  // if (!kvm || kvm->mm != current->mm): one process in the model, so only the NULL test.
  if (kvm === kNull || !ctx.objects.access(kvm, 'intel_vgpu_open_device')) return kESRCH;
  if (k.version.mutations.gvtGetBeforeExist === true) {
    kvm_get_kvm(k, kvm, dev.driverHolder, 'intel_vgpu_open_device');
    if (kvmgtVgpuExists(k, dev, kvm)) return kEEXIST; // M19: the reference leaks
  } else {
    if (kvmgtVgpuExists(k, dev, kvm)) return kEEXIST;
    kvm_get_kvm(k, kvm, dev.driverHolder, 'intel_vgpu_open_device');
  }
  word(ctx, dev.vgpuKvm).set(kvm);
  word(ctx, dev.vgpuAttached).set(1);
  kvm_page_track_register_notifier(k, kvm);
  return 0;
}

/** `intel_vgpu_close_device`: unregister the notifier, then put, under the vfio core's locks. */
export function intel_vgpu_close_device(k: Kernel, dev: DeviceNames): void {
  const { ctx } = k;
  if (word(ctx, dev.vgpuAttached).get() === 0) return;
  const kvm = word(ctx, dev.vgpuKvm).get();
  kvm_page_track_unregister_notifier(k, kvm);
  word(ctx, dev.vgpuAttached).set(0);
  word(ctx, dev.vgpuKvm).set(kNull);
  kvm_put_kvm(k, kvm, dev.driverHolder, 'intel_vgpu_close_device');
}

/** `kvm_page_track_register_notifier`: `write_lock(&kvm->mmu_lock)` around the list add. */
function kvm_page_track_register_notifier(k: Kernel, kvm: number): void {
  const { ctx } = k;
  if (!ctx.objects.access(kvm, 'kvm_page_track_register_notifier')) return;
  const vm = vmOfKvm(k, kvm, 'kvm_page_track_register_notifier');
  const mmuLock = mutex(ctx, vm.mmuLock);
  mmuLock.lock('kvm_page_track_register_notifier');
  word(ctx, vm.pageTrackNotifiers).add(1);
  mmuLock.unlock('kvm_page_track_register_notifier');
}

/** `kvm_page_track_unregister_notifier`: the same lock, then `synchronize_srcu` (not modelled). */
function kvm_page_track_unregister_notifier(k: Kernel, kvm: number): void {
  const { ctx } = k;
  if (!ctx.objects.access(kvm, 'kvm_page_track_unregister_notifier')) return;
  const vm = vmOfKvm(k, kvm, 'kvm_page_track_unregister_notifier');
  const mmuLock = mutex(ctx, vm.mmuLock);
  mmuLock.lock('kvm_page_track_unregister_notifier');
  word(ctx, vm.pageTrackNotifiers).add(-1);
  mmuLock.unlock('kvm_page_track_unregister_notifier');
}
