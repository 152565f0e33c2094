/**
 * The kvm-vfio device (`virt/kvm/vfio.c`, kernel-model.md §5.1, §6.2, §7.6, §8.2): FILE_ADD and
 * FILE_DEL (`KVM_SET_DEVICE_ATTR` on its fd, without `kvm->lock`), and its teardown, either
 * `.release` (B..D: at the fd's final fput, under `kvm->lock`) or `.destroy` (A, D′: from
 * `kvm_destroy_vm`, in whatever context dropped the last kvm reference).
 *
 * One vfio group, so each VM's `kv->group_list` holds at most one `kvm_vfio_group` (a `kvg`
 * object; DEL, release and destroy free it). The group can be on both VMs' lists at once, but
 * `group->kvm` is one pointer: the last ADD wins and any DEL or release clears it (§11
 * S-readd-other-vm). Lock order: `kv->lock` -> `group_lock` / `kvm_ref_lock` (DEL, and
 * ADD after 9e0f4f2918c2); `kv->lock` -> `device_lock` (update_coherency).
 */
import { fdget, fput } from './files.js';
import { DFS, type DfNames, GROUP, type VmNames, kNull, mutex, word } from './objects.js';
import { type KvmDeviceOps, kvm_device_release } from './kvm.js';
import { fputDf, vfio_device_file_set_kvm } from './vfio-cdev.js';
import { vfio_file_set_kvm } from './vfio-group.js';
import type { Kernel, KernelVersion } from './version.js';

/** How many seeded pauses widen M9's window (between `mutex_unlock(&kv->lock)` and the set). */
const kWindowPauses = 3;

/** The kvm-vfio device's `struct kvm_device_ops` for a version. */
export function kvmVfioOps(version: KernelVersion): KvmDeviceOps {
  return version.kvmVfioOps === 'release'
    ? { create: kvm_vfio_create, release: kvm_vfio_release }
    : { create: kvm_vfio_create, destroy: kvm_vfio_destroy };
}

/** `kvm_vfio_create`: at most one per VM (-EBUSY). Called under `kvm->lock`. */
function kvm_vfio_create(k: Kernel, vm: VmNames, kvm: number): boolean {
  const { ctx } = k;
  if (word(ctx, vm.devices).get() !== 0) return false;
  const kv = ctx.objects.create(vm.slotKvmVfio, 'struct kvm_vfio', 'kvm_vfio_create');
  word(ctx, vm.kvmVfio).set(kv);
  word(ctx, vm.kvmVfioKvm).set(kvm);
  return true;
}

/** FILE_ADD: `kvm_vfio_group_add` (KVM_DEV_VFIO_GROUP_ADD). */
export function kvm_vfio_group_add(k: Kernel, vm: VmNames): void {
  const { ctx } = k;
  if (!fdget(ctx, vm.kvmVfioFd, vm.kvmVfioFile)) return;
  const kv = word(ctx, vm.kvmVfio).get();
  if (ctx.objects.access(kv, 'kvm_vfio_group_add')) groupAdd(k, vm);
  if (fput(ctx, vm.kvmVfioFile)) kvm_device_release(k, vm);
}

function groupAdd(k: Kernel, vm: VmNames): void {
  const { ctx } = k;
  const kvLock = mutex(ctx, vm.kvLock);
  const list = word(ctx, vm.groupList);
  const kvm = word(ctx, vm.kvmVfioKvm).get();
  kvLock.lock('kvm_vfio_group_add');
  if (list.get() !== kNull) {
    kvLock.unlock('kvm_vfio_group_add'); // -EEXIST
    return;
  }
  const kvg = ctx.objects.create(vm.slotKvg, 'struct kvm_vfio_group', 'kvm_vfio_group_add');
  list.set(kvg);
  // kvm_arch_start_assignment(dev->kvm)
  ctx.objects.access(kvm, 'kvm_arch_start_assignment');
  if (k.version.addSetsKvmUnderKvLock) {
    vfio_file_set_kvm(k, kvm);
    updateCoherencyBeforeUnlock(k, vm);
    kvLock.unlock('kvm_vfio_group_add');
  } else {
    kvLock.unlock('kvm_vfio_group_add');
    // Before 9e0f4f2918c2: kvm_vfio_file_set_kvm(kvg->file, dev->kvm) after the unlock. A FILE_DEL
    // in this window frees kvg, and then leaves group->kvm set with no list entry to clear it.
    for (let i = 0; i < kWindowPauses; i++) ctx.jitter();
    if (ctx.objects.access(kvg, 'kvm_vfio_group_add')) vfio_file_set_kvm(k, kvm);
  }
  kvm_vfio_update_coherency(k, vm);
}

/** FILE_DEL: `kvm_vfio_group_del` (KVM_DEV_VFIO_GROUP_DEL). */
export function kvm_vfio_group_del(k: Kernel, vm: VmNames): void {
  const { ctx } = k;
  if (!fdget(ctx, vm.kvmVfioFd, vm.kvmVfioFile)) return;
  const kv = word(ctx, vm.kvmVfio).get();
  if (ctx.objects.access(kv, 'kvm_vfio_group_del')) groupDel(k, vm);
  if (fput(ctx, vm.kvmVfioFile)) kvm_device_release(k, vm);
}

function groupDel(k: Kernel, vm: VmNames): void {
  const { ctx } = k;
  const kvLock = mutex(ctx, vm.kvLock);
  const list = word(ctx, vm.groupList);
  kvLock.lock('kvm_vfio_group_del');
  const kvg = list.get();
  if (kvg === kNull) {
    kvLock.unlock('kvm_vfio_group_del'); // -ENOENT
    return;
  }
  list.set(kNull);
  // kvm_arch_end_assignment(dev->kvm)
  ctx.objects.access(word(ctx, vm.kvmVfioKvm).get(), 'kvm_arch_end_assignment');
  vfio_file_set_kvm(k, kNull);
  // fput(kvg->file): the group file's release is deferred and not modelled.
  ctx.objects.free(kvg, 'kvm_vfio_group_del');
  updateCoherencyBeforeUnlock(k, vm);
  kvLock.unlock('kvm_vfio_group_del');
  kvm_vfio_update_coherency(k, vm);
}

/**
 * `kvm_vfio_update_coherency` (v6.3: takes `kv->lock` itself): `vfio_file_enforced_coherent`
 * takes the group's `device_lock`. With 73e2f19da508 (6.6) this call, after ADD's or DEL's
 * unlock, is gone: they call {@link kvm_vfio_update_coherency_held} before it.
 */
function kvm_vfio_update_coherency(k: Kernel, vm: VmNames): void {
  if (k.version.updateCoherencyUnderKvLock === true) return;
  const kvLock = mutex(k.ctx, vm.kvLock);
  kvLock.lock('kvm_vfio_update_coherency');
  kvm_vfio_update_coherency_held(k, vm);
  kvLock.unlock('kvm_vfio_update_coherency');
}

/**
 * The body, without taking `kv->lock` (73e2f19da508: ADD and DEL hold it, release holds only
 * `kvm->lock`). A device file's `vfio_file_enforced_coherent` takes no lock.
 */
function kvm_vfio_update_coherency_held(k: Kernel, vm: VmNames): void {
  const { ctx } = k;
  if (word(ctx, vm.groupList).get() !== kNull) {
    const deviceLock = mutex(ctx, GROUP.deviceLock);
    deviceLock.lock('vfio_file_enforced_coherent');
    deviceLock.unlock('vfio_file_enforced_coherent');
  }
}

/** 73e2f19da508: ADD and DEL update the coherency before `mutex_unlock(&kv->lock)`. */
function updateCoherencyBeforeUnlock(k: Kernel, vm: VmNames): void {
  if (k.version.updateCoherencyUnderKvLock === true) kvm_vfio_update_coherency_held(k, vm);
}

/** The body shared by `.release` and `.destroy`: detach every group, then free kv. */
function teardown(k: Kernel, vm: VmNames, site: string): void {
  const { ctx } = k;
  const list = word(ctx, vm.groupList);
  const kvg = list.get();
  if (kvg !== kNull && ctx.objects.access(kvg, site)) {
    vfio_file_set_kvm(k, kNull);
    // fput(kvg->file); list_del; kfree(kvg); kvm_arch_end_assignment
    list.set(kNull);
    ctx.objects.free(kvg, site);
  }
  // 6.6+: the cdev device files on kv->file_list (the same loop in the kernel).
  if (k.version.cdev !== undefined) for (const df of DFS) teardownDf(k, vm, df, site);
  // 73e2f19da508: release calls it with only kvm->lock held.
  if (k.version.updateCoherencyUnderKvLock === true) kvm_vfio_update_coherency_held(k, vm);
  else kvm_vfio_update_coherency(k, vm);
  ctx.objects.free(word(ctx, vm.kvmVfio).get(), site);
}

/** `kvm_vfio_release` (B..D): at the fd's final fput, with `kvm->lock` held by the caller. */
function kvm_vfio_release(k: Kernel, vm: VmNames): void {
  teardown(k, vm, 'kvm_vfio_release');
}

/**
 * `kvm_vfio_destroy` (A, D′): from `kvm_destroy_vm`, with the last putter's locks still held. In
 * A its `vfio_file_set_kvm` takes `group_lock`: A1 when the putter holds it.
 */
function kvm_vfio_destroy(k: Kernel, vm: VmNames): void {
  teardown(k, vm, 'kvm_vfio_destroy');
}

// ---- 6.6+: cdev device files on kv->file_list (KVM_DEV_VFIO_FILE_ADD/DEL with a df fd, §8.3) ----
//
// Each (VM, df) pair has a list word, `kv->file_list[df1]`, holding that df's `kvm_vfio_file`
// (slot `kvf[df1]`) or NULL. The kvf holds a reference on the df's file (`get_file`), so the df's
// release (its UNBIND) cannot run while a kv lists it; DEL, release and destroy drop it with an
// fput whose release, if final, is task_work (vfio-cdev.ts). `vfio_file_enforced_coherent` of a
// device file takes no lock, so update_coherency is unchanged.

/** FILE_ADD of a df: `kvm_vfio_file_add` with the df's fd. */
export function kvm_vfio_file_add_df(k: Kernel, vm: VmNames, df: DfNames): void {
  const { ctx } = k;
  if (!fdget(ctx, vm.kvmVfioFd, vm.kvmVfioFile)) return;
  const kv = word(ctx, vm.kvmVfio).get();
  // filp = fget(fd): -EBADF unless the df fd is open.
  if (ctx.objects.access(kv, 'kvm_vfio_file_add') && fdget(ctx, df.dfFd, df.dfFile)) {
    dfAdd(k, vm, df);
    fputDf(ctx, df);
  }
  if (fput(ctx, vm.kvmVfioFile)) kvm_device_release(k, vm);
}

function dfAdd(k: Kernel, vm: VmNames, df: DfNames): void {
  const { ctx } = k;
  const kvLock = mutex(ctx, vm.kvLock);
  const list = word(ctx, df.fileList[vm.index] ?? '');
  const kvm = word(ctx, vm.kvmVfioKvm).get();
  kvLock.lock('kvm_vfio_file_add');
  if (list.get() !== kNull) {
    kvLock.unlock('kvm_vfio_file_add'); // -EEXIST
    return;
  }
  const kvf = ctx.objects.create(df.slotKvf[vm.index] ?? '', 'struct kvm_vfio_file', 'kvm_vfio_file_add');
  // kvf->file = get_file(filp): the caller's fget keeps the count above zero.
  word(ctx, df.dfFile).add(1);
  list.set(kvf);
  ctx.objects.access(kvm, 'kvm_arch_start_assignment');
  if (k.version.addSetsKvmUnderKvLock) {
    vfio_device_file_set_kvm(k, df, kvm);
    updateCoherencyBeforeUnlock(k, vm);
    kvLock.unlock('kvm_vfio_file_add');
  } else {
    kvLock.unlock('kvm_vfio_file_add');
    for (let i = 0; i < kWindowPauses; i++) ctx.jitter();
    if (ctx.objects.access(kvf, 'kvm_vfio_file_add')) vfio_device_file_set_kvm(k, df, kvm);
  }
  kvm_vfio_update_coherency(k, vm);
}

/** FILE_DEL of a df: `kvm_vfio_file_del` with the df's fd (-EBADF once that fd is closed). */
export function kvm_vfio_file_del_df(k: Kernel, vm: VmNames, df: DfNames): void {
  const { ctx } = k;
  if (!fdget(ctx, vm.kvmVfioFd, vm.kvmVfioFile)) return;
  const kv = word(ctx, vm.kvmVfio).get();
  if (ctx.objects.access(kv, 'kvm_vfio_file_del') && fdget(ctx, df.dfFd, df.dfFile)) {
    dfDel(k, vm, df);
    fputDf(ctx, df);
  }
  if (fput(ctx, vm.kvmVfioFile)) kvm_device_release(k, vm);
}

function dfDel(k: Kernel, vm: VmNames, df: DfNames): void {
  const { ctx } = k;
  const kvLock = mutex(ctx, vm.kvLock);
  const list = word(ctx, df.fileList[vm.index] ?? '');
  kvLock.lock('kvm_vfio_file_del');
  const kvf = list.get();
  if (kvf === kNull) {
    kvLock.unlock('kvm_vfio_file_del'); // -ENOENT
    return;
  }
  list.set(kNull);
  ctx.objects.access(word(ctx, vm.kvmVfioKvm).get(), 'kvm_arch_end_assignment');
  vfio_device_file_set_kvm(k, df, kNull);
  fputDf(ctx, df);
  ctx.objects.free(kvf, 'kvm_vfio_file_del');
  updateCoherencyBeforeUnlock(k, vm);
  kvLock.unlock('kvm_vfio_file_del');
  kvm_vfio_update_coherency(k, vm);
}

/** `.release` / `.destroy` for one df: set_kvm(NULL), fput, free the kvf. */
function teardownDf(k: Kernel, vm: VmNames, df: DfNames, site: string): void {
  const { ctx } = k;
  const list = word(ctx, df.fileList[vm.index] ?? '');
  const kvf = list.get();
  if (kvf === kNull || !ctx.objects.access(kvf, site)) return;
  vfio_device_file_set_kvm(k, df, kNull);
  fputDf(ctx, df);
  list.set(kNull);
  ctx.objects.free(kvf, site);
}
