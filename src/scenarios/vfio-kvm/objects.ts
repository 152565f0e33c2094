/**
 * The shared objects of the vfio/kvm model (kernel-model.md §2), with kernel names verbatim, and
 * the small accessors every path uses. One VM per round: `VM_CREATE` allocates the kvm in slot
 * `kvm`, and every pointer to it (`group->kvm`, `device->kvm`, `matrix_mdev->kvm`) is that
 * object-slot pointer, so an access after `kvm_destroy_vm` freed it is a `use-after-free`.
 *
 * Objects and where their state lives:
 *
 * | object (§2.1)          | locks (class)                                          | words / refcounts / slots                          |
 * |------------------------|--------------------------------------------------------|----------------------------------------------------|
 * | `struct kvm`           | `kvm->lock`, `kvm->arch.crypto.pqap_hook_rwsem` (rwsem) | slot `kvm`, refcount `kvm->users_count`, `kvm->devices`, `kvm->arch.crypto.pqap_hook` |
 * | kvm-vfio device (`kv`) | `kv->lock`                                             | slot `kvm_vfio`, `kv->group_list` (a `kvg` pointer) |
 * | `kvm_vfio_group` (kvg) |                                                        | slot `kvg`                                          |
 * | `vfio_group`           | `group_lock`, `kvm_ref_lock` (spin), `device_lock`     | `group->kvm`                                        |
 * | `vfio_device`          | `dev_set->lock`                                        | `device->open_count`, `device->kvm`, `device->put_kvm` |
 * | vfio-ap (`matrix_dev`) | `guests_lock`, `mdevs_lock`                            | `matrix_mdev->kvm`, `other_mdev->kvm`               |
 * | global                 | `kvm_lock` (taken by `kvm_destroy_vm`)                 | `kvm created`, `kvm destroyed`                      |
 *
 * File descriptors: `*_fd` words are 0 (never opened), 1 (open) or 2 (closed); closing claims the
 * fd with a CAS 1 -> 2, so two threads never close one fd. `*_file f_count` words are the struct
 * file's reference count (the fd's reference plus one per ioctl in flight, as `fdget` takes one in
 * a multi-threaded process); the file's `release` runs at the final `fput`, in whichever thread
 * drops it. Device fds are only counted (`device fds`): there are no ioctls on them.
 */
import type { Lock, OpContext, Ref, SharedObjects, SharedWord } from '../contract.js';

/** Lock names (the keys of `ctx.locks`), kernel expressions. */
export const LOCK = {
  group_lock: 'group->group_lock',
  kvm_ref_lock: 'group->kvm_ref_lock',
  device_lock: 'group->device_lock',
  dev_set_lock: 'dev_set->lock',
  kvm_lock_of_kvm: 'kvm->lock',
  kv_lock: 'kv->lock',
  guests_lock: 'matrix_dev->guests_lock',
  mdevs_lock: 'matrix_dev->mdevs_lock',
  kvm_lock: 'kvm_lock',
  pqap_hook_rwsem: 'kvm->arch.crypto.pqap_hook_rwsem',
} as const;

/** Word names (the keys of `ctx.words`). */
export const WORD = {
  kvm: 'kvm',
  kvmCreated: 'kvm created',
  kvmDestroyed: 'kvm destroyed',
  kvmDevices: 'kvm->devices',
  vmFd: 'vm_fd',
  vmFile: 'vm_file f_count',
  kvmVfio: 'kvm_vfio',
  kvmVfioKvm: 'dev->kvm',
  kvGroupList: 'kv->group_list',
  kvmVfioFd: 'kvm_vfio_fd',
  kvmVfioFile: 'kvm_vfio_file f_count',
  groupKvm: 'group->kvm',
  openCount: 'device->open_count',
  deviceKvm: 'device->kvm',
  putKvm: 'device->put_kvm',
  deviceFds: 'device fds',
  matrixMdevKvm: 'matrix_mdev->kvm',
  otherMdevKvm: 'other_mdev->kvm',
  pqapHook: 'kvm->arch.crypto.pqap_hook',
} as const;

export const SLOT = { kvm: 'kvm', kvmVfio: 'kvm_vfio', kvg: 'kvg' } as const;

export const USERS_COUNT = 'kvm->users_count';

/** Holder tags of `kvm->users_count` (§2.3), so a leak report names who leaked. */
export const HOLDER = {
  vmFd: 'VM fd',
  kvmVfioFd: 'kvm-vfio fd',
  vfioCore: 'vfio core (device->kvm)',
  vfioAp: 'vfio-ap driver (matrix_mdev->kvm)',
} as const;

/** Fd states. */
export const kFdNone = 0;
export const kFdOpen = 1;
export const kFdClosed = 2;

/** NULL. */
export const kNull = 0;

export const kVfioKvmObjects: SharedObjects = {
  locks: {
    [LOCK.group_lock]: { class: 'group_lock' },
    [LOCK.dev_set_lock]: { class: 'dev_set->lock' },
    [LOCK.kvm_ref_lock]: { class: 'kvm_ref_lock', kind: 'spinlock' },
    [LOCK.device_lock]: { class: 'device_lock' },
    [LOCK.kvm_lock_of_kvm]: { class: 'kvm->lock' },
    [LOCK.kv_lock]: { class: 'kv->lock' },
    [LOCK.guests_lock]: { class: 'guests_lock' },
    [LOCK.mdevs_lock]: { class: 'mdevs_lock' },
    [LOCK.kvm_lock]: { class: 'kvm_lock' },
    // An rw_semaphore in the kernel; vfio-ap takes it for write (§2.2).
    [LOCK.pqap_hook_rwsem]: { class: 'kvm->arch.crypto.pqap_hook_rwsem', kind: 'rwsem' },
  },
  refcounts: { [USERS_COUNT]: { mustEndAtZero: true } },
  words: Object.values(WORD),
  slots: Object.values(SLOT),
};

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new RangeError(`vfio-kvm: ${what} is not declared`);
  return value;
}

export function mutex(ctx: OpContext, name: string): Lock {
  return must(ctx.locks[name], `lock ${name}`);
}

/** An rw_semaphore: `lock` is down_write, `readLock` down_read. */
export function rwsem(ctx: OpContext, name: string): Lock {
  return must(ctx.locks[name], `rwsem ${name}`);
}

export function word(ctx: OpContext, name: string): SharedWord {
  return must(ctx.words[name], `word ${name}`);
}

export function usersCount(ctx: OpContext): Ref {
  return must(ctx.refs[USERS_COUNT], `refcount ${USERS_COUNT}`);
}

/**
 * `mutex_lock(&kvm->lock)`: an access to the kvm. On a freed kvm the use-after-free is logged and
 * the lock is not taken; returns whether it was, and the caller unlocks only then.
 */
export function lockKvm(ctx: OpContext, kvm: number, site: string): boolean {
  if (!ctx.objects.access(kvm, site)) return false;
  mutex(ctx, LOCK.kvm_lock_of_kvm).lock(site);
  return true;
}

/**
 * `mutex_unlock(&kvm->lock)`: a write to the kvm, so after a final put under the lock it is a
 * use-after-free (§4 DRV_AP, §10 M4/M20). The task still leaves its critical section either way
 * (lockdep's held-lock stack is per task, not in the freed object), so the release is done after
 * the access is reported; otherwise every later lock of this thread would be learned under a
 * `kvm->lock` it no longer holds.
 */
export function unlockKvm(ctx: OpContext, kvm: number, site: string): void {
  ctx.objects.access(kvm, site);
  mutex(ctx, LOCK.kvm_lock_of_kvm).unlock(site);
}
