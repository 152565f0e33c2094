/**
 * What distinguishes one modelled kernel from another: the vfio core's kvm handling, the lock of
 * `vfio_file_set_kvm`, the kvm-vfio device's ops, where FILE_ADD sets the kvm, and the mutants of
 * kernel-model.md §10 (each a one-line change relative to version D). Every path reads its
 * behaviour from a {@link KernelVersion}; there is one copy of each kernel function.
 */
import type { OpContext } from '../contract.js';
import type { KvmDeviceOps } from './kvm.js';
import type { DeviceNames } from './objects.js';
import type { Topology } from './topology.js';

export type VfioCore =
  /** A, B (§5.1): `device->kvm = group->kvm`, borrowed under `group_lock`, no vfio reference. */
  | 'borrowed'
  /** C, fix v2 (§7.3): get helper called under `kvm_ref_lock`, put helper without a lock rule. */
  | 'fix-v2'
  /** D, 2b48f52f2bff (§7.5): `vfio_device_group_get_kvm_safe` / `vfio_device_put_kvm`. */
  | 'upstream';

/** The mutants of §10 that the variants use; each flag is one change to version D. */
export interface Mutations {
  /** M1: no `vfio_device_put_kvm` at the last close. */
  missingPut?: boolean;
  /** M3: `vfio_device_put_kvm` clears neither `device->kvm` nor `device->put_kvm`. */
  doublePut?: boolean;
  /** M4: `vfio_device_put_kvm` in `vfio_device_last_close`, before `close_device`. */
  putBeforeClose?: boolean;
  /** M5: `kvm_get_kvm` instead of `kvm_get_kvm_safe` in `_vfio_device_get_kvm_safe`. */
  unsafeGet?: boolean;
  /** M6: `group->kvm` read before `spin_lock(&group->kvm_ref_lock)`. */
  unlockedRead?: boolean;
  /** M10: the core get on every open, not only when `open_count == 0`. */
  getEveryOpen?: boolean;
  /** M17: the last-close put checks `open_count` after dropping the locks. */
  unlockedOpenCount?: boolean;
  /** M19: kvmgt before Nov 2022, `kvm_get_kvm` before the `-EEXIST` return of `open_device`. */
  gvtGetBeforeExist?: boolean;
  /** M2: no `vfio_device_put_kvm` after a failed first `vfio_device_open` in `vfio_device_group_open`. */
  missingOpenFailPut?: boolean;
  /** M11: `vfio_device_put_kvm` puts `device->group->kvm`, not `device->kvm`, and clears neither field. */
  putViaGroupKvm?: boolean;
  /** M12: the failed-first-open block of `vfio_device_group_open` calls the get helper instead of the put. */
  getOnOpenFailure?: boolean;
  /** M14: `_vfio_device_get_kvm_safe` sets `device->kvm` and `device->put_kvm` even when `kvm_get_kvm_safe` failed. */
  ignoreGetFailure?: boolean;
  /** M15: `vfio_device_group_get_kvm_safe` puts an existing `device->kvm` while holding `kvm_ref_lock`. */
  putUnderRefLock?: boolean;
  /** M16: `kvm_device_release` calls `kvm_put_kvm` before `ops->release` (which clears `group->kvm`). */
  putBeforeRelease?: boolean;
  /** M8 (the cdev RFC): `vfio_device_file_set_kvm` takes `dev_set->lock`, not `df->kvm_ref_lock`. */
  setKvmDevSetLock?: boolean;
  /** M13: `_vfio_device_get_kvm_safe(device, kvm)` takes its reference on `device->group->kvm`. */
  getHelperIgnoresKvm?: boolean;
}

/**
 * The 6.6 device cdev path (kernel-model.md §8.3), in a kernel that has it: which BINDs take the
 * core's kvm reference.
 */
export type CdevCore =
  /** 5fcc26969a16, as in torvalds device_cdev.c: `vfio_df_get_kvm_safe(df)` on every BIND. */
  | 'unconditional-get'
  /** Yan Zhao's fix (Jun 2024): only when `open_count == 0`, and the error path puts only then. */
  | 'first-open-get';

export interface KernelVersion {
  vfio: VfioCore;
  /** The lock `vfio_file_set_kvm` takes around `group->kvm = kvm`. */
  setKvmLock: 'group_lock' | 'kvm_ref_lock';
  /**
   * `.destroy = kvm_vfio_destroy` (A, D′): the kvm-vfio device is torn down by `kvm_destroy_vm`,
   * in the context of the last put. `.release = kvm_vfio_release` (B..D): at the final fput of its
   * fd, under `kvm->lock`.
   */
  kvmVfioOps: 'destroy' | 'release';
  /**
   * 9e0f4f2918c2: FILE_ADD calls `kvm_vfio_file_set_kvm` before `mutex_unlock(&kv->lock)`. Without
   * it (A, B, v6.3 as released, M9) the call comes after the unlock, through `kvg->file`.
   */
  addSetsKvmUnderKvLock: boolean;
  /**
   * 6.6+: cdev device files (vfio-cdev.ts: CDEV_OPEN, BIND, CDEV_CLOSE, and FILE_ADD/FILE_DEL of
   * a device file). Absent: no cdev operations, and the paths run exactly as without this field.
   */
  cdev?: CdevCore;
  /**
   * 73e2f19da508 (6.6, with 9e0f4f2918c2): `kvm_vfio_update_coherency` no longer takes `kv->lock`;
   * ADD and DEL call it before their unlock, release with only `kvm->lock` held (no
   * `kvm->lock -> kv->lock` edge). Absent: v6.3's, which locks `kv->lock` itself.
   */
  updateCoherencyUnderKvLock?: boolean;
  mutations: Mutations;
}

/** A path's view of the world: the thread's context, the kernel version it runs, the topology. */
export interface Kernel {
  ctx: OpContext;
  version: KernelVersion;
  /** The kvm-vfio device's `struct kvm_device_ops` for this version. */
  kvmVfioOps: KvmDeviceOps;
  topology: Topology;
  /** The names of the topology's devices, in device order. */
  devices: readonly DeviceNames[];
}

export const kVersionA: KernelVersion = {
  vfio: 'borrowed',
  setKvmLock: 'group_lock',
  kvmVfioOps: 'destroy',
  addSetsKvmUnderKvLock: false,
  mutations: {},
};

export const kVersionB: KernelVersion = { ...kVersionA, kvmVfioOps: 'release' };

export const kVersionC: KernelVersion = {
  vfio: 'fix-v2',
  setKvmLock: 'kvm_ref_lock',
  kvmVfioOps: 'release',
  addSetsKvmUnderKvLock: true,
  mutations: {},
};

export const kVersionD: KernelVersion = { ...kVersionC, vfio: 'upstream' };

/** D′ (§10 M18): D's vfio code with the `.destroy` callback of A. */
export const kVersionDDestroy: KernelVersion = { ...kVersionD, kvmVfioOps: 'destroy' };

/**
 * 6.6+ with the device cdev (§8.3): D's vfio core (the 6.6 df-based group path, §8.1, takes the
 * same locks and references), 6.6's kvm-vfio locking (9e0f4f2918c2 + 73e2f19da508, §8.2), and
 * cdev device files as upstream 5fcc26969a16.
 */
export const kVersionCdev: KernelVersion = { ...kVersionD, cdev: 'unconditional-get', updateCoherencyUnderKvLock: true };

/** The same with Yan Zhao's proposed fix of the BIND get (§8.3). */
export const kVersionCdevFixed: KernelVersion = { ...kVersionCdev, cdev: 'first-open-get' };

/** Version D with one or more mutants applied (on D′ when `base` says so). */
export function mutant(mutations: Mutations, base: KernelVersion = kVersionD): KernelVersion {
  return { ...base, mutations: { ...base.mutations, ...mutations } };
}
