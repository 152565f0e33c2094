/**
 * One variant per modelled kernel and per mutant (kernel-model.md §5-§8, §10), each named after
 * the commit it models, with the schedules that expose it and what it must show. Expectations
 * follow the model; where a variant also shows other kinds, its description says which and why.
 */
import type { Variant } from '../contract.js';
import { SCHEDULE, type Schedule, planOf } from './plans.js';
import { extended, kAllSchedules, kCleanPlan, kRace, variant } from './variant-kit.js';
import { kCdevVariants } from './variants-cdev.js';
import { kDriverVariants } from './variants-drivers.js';
import { kMutantVariants } from './variants-mutants.js';
import {
  kVersionA,
  kVersionB,
  kVersionC,
  kVersionD,
  kVersionDDestroy,
  mutant,
} from './version.js';

export { kCleanPlan } from './variant-kit.js';

/** The versions and mutants on the default topology: one vfio-ap mdev on one VM. */
const kVfioApVariants: readonly Variant[] = [
  variant(
    'pre-51cdc8bc',
    '§5, version A (v6.2-rc): kvm-vfio .destroy, vfio_file_set_kvm takes group_lock. When the vfio-ap ' +
      "driver's put is the last (S-last-ref-is-device), kvm_destroy_vm -> kvm_vfio_destroy takes group_lock " +
      'again in the closing thread: recursive-lock, then a real self-deadlock (A1). Also seen: A2 ' +
      '(a dying kvm handed to an opener: inc-on-zero, use-after-free). No lock-order-cycle: as in the ' +
      "kernel's check_deadlock, a recursive acquisition adds no dependency",
    ['recursive-lock', 'deadlock'],
    kVersionA,
    planOf([SCHEDULE.lastRefIsDevice, 2], SCHEDULE.destroyVsOpen, SCHEDULE.abba, SCHEDULE.basic),
  ),
  variant(
    '51cdc8bc',
    '§6, version B, 51cdc8bc120e: kvm-vfio .release runs under kvm->lock and takes group_lock in ' +
      'vfio_file_set_kvm, while DEV_OPEN/DEV_CLOSE take group_lock -> dev_set->lock -> guests_lock -> kvm->lock ' +
      '(B1, the reported splat): an ABBA deadlock on real threads, and the lock-order cycle on any thread count',
    ['deadlock', 'lock-order-cycle'],
    kVersionB,
    planOf(SCHEDULE.abba),
    kRace,
  ),
  variant(
    'fix-v2',
    '§7.3, version C, fix v2: group->kvm under the kvm_ref_lock spinlock, vfio core holds a kvm reference ' +
      "from first open to last close (get helper under the caller's kvm_ref_lock); FILE_ADD with 9e0f4f2918c2",
    'clean',
    kVersionC,
    kCleanPlan,
  ),
  variant(
    '2b48f52f2bff',
    '§7.5, version D, upstream 2b48f52f2bff (+ b0d2d5697e4c): vfio_device_group_get_kvm_safe / vfio_device_put_kvm ' +
      'under dev_set->lock, set_kvm under kvm_ref_lock; FILE_ADD with 9e0f4f2918c2, the baseline of the mutants',
    'clean',
    kVersionD,
    kCleanPlan,
  ),
  variant(
    '2b48f52f2bff-destroy',
    "§10 M18, D′: D's vfio code with A's .destroy callback. set_kvm only takes the spinlock, so no deadlock, " +
      'and kvm_get_kvm_safe refuses a dying kvm (the opener sees NULL, vfio-ap fails -EINVAL)',
    'clean',
    kVersionDDestroy,
    planOf(...kAllSchedules.map((s): readonly [Schedule, number] => [s, s === SCHEDULE.destroyVsOpen ? 4 : 1])),
  ),
  variant(
    'missing-put',
    '§10 M1: vfio_device_group_close never calls vfio_device_put_kvm, so the core reference taken at first ' +
      'open leaks and the kvm is never destroyed (I1; the arbiter also reports the undestroyed kvm and the ' +
      'stale device->kvm as invariants)',
    ['refcount-leak'],
    mutant({ missingPut: true }),
    planOf(SCHEDULE.basic, SCHEDULE.doubleOpen, SCHEDULE.closeVsOpen),
  ),
  variant(
    'double-put',
    '§10 M3: vfio_device_put_kvm keeps device->kvm and device->put_kvm, so after DEL a reopen (no get, ' +
      'group->kvm is NULL) and its last close put the same kvm again: the count hits 0 early and a later ' +
      'put touches the freed kvm (use-after-free), or goes below 0 (underflow); the arbiter also sees the ' +
      'stale device->kvm (I2, I3)',
    [['refcount-underflow', 'use-after-free']],
    mutant({ doublePut: true }),
    planOf(SCHEDULE.reopenAfterDel, SCHEDULE.reopenVsDel),
  ),
  variant(
    'put-before-close',
    "§10 M4: the core's put moved before close_device, so with the VM and kvm-vfio fds closed the vfio-ap " +
      'driver drops the last reference under guests_lock + kvm->lock + mdevs_lock, kvm_destroy_vm frees the ' +
      'kvm, and mutex_unlock(&kvm->lock) writes to it (M20 exposed)',
    ['use-after-free'],
    mutant({ putBeforeClose: true }),
    planOf([SCHEDULE.lastRefIsDevice, 2], SCHEDULE.destroyVsOpen),
  ),
  variant(
    'unsafe-get',
    "§10 M5 on D′: kvm_get_kvm instead of kvm_get_kvm_safe. Between the last fd put and kvm_vfio_destroy's " +
      'set_kvm(NULL), group->kvm still points at a kvm whose users_count is 0: an opener increments from 0. ' +
      'The rest of that round works on a freed kvm, so use-after-free often follows',
    ['inc-on-zero'],
    mutant({ unsafeGet: true }, kVersionDDestroy),
    planOf(SCHEDULE.destroyVsOpen),
    kRace,
  ),
  variant(
    'unlocked-read',
    "§10 M6: group->kvm read before taking kvm_ref_lock. FILE_DEL, KVFIO_CLOSE and VM_CLOSE complete between " +
      'the read and the get, so kvm_get_kvm_safe reads a freed kvm (use-after-free; inc-on-zero would need a ' +
      'non-safe get, so use-after-free is what D+M6 shows)',
    [['use-after-free', 'inc-on-zero']],
    mutant({ unlockedRead: true }),
    planOf(SCHEDULE.delVsOpen),
    kRace,
  ),
  variant(
    'set-kvm-group-lock',
    '§10 M7: vfio_file_set_kvm takes group_lock again (A/B locking on D), which brings back B1: kvm->lock -> ' +
      'group_lock in kvm_vfio_release against group_lock -> dev_set->lock -> guests_lock -> kvm->lock. ' +
      "lockdep also reports §6.3's longer cycle through kv->lock, because FILE_ADD now takes group_lock under kv->lock",
    ['deadlock', 'lock-order-cycle'],
    mutant({}, { ...kVersionD, setKvmLock: 'group_lock' }),
    planOf(SCHEDULE.abba),
    kRace,
  ),
  variant(
    'add-race',
    "§10 M9, §8.2 (the kv->lock / set_kvm race fixed by 9e0f4f2918c2): FILE_ADD as before 9e0f4f2918c2, set_kvm through kvg->file after mutex_unlock(&kv->lock): a DEL " +
      'in between frees kvg first (use-after-free). The same window can leave group->kvm set with no list ' +
      'entry (an I6 invariant, and a freed kvm for the next opener)',
    ['use-after-free'],
    mutant({}, { ...kVersionD, addSetsKvmUnderKvLock: false }),
    planOf(SCHEDULE.addVsDel),
    kRace,
  ),
  variant(
    'get-every-open',
    '§10 M10: the core get runs on every open, not only when open_count == 0; each extra open overwrites ' +
      'device->kvm and leaks one reference, which the last close cannot put',
    ['refcount-leak'],
    mutant({ getEveryOpen: true }),
    planOf(SCHEDULE.doubleOpen, SCHEDULE.closeVsOpen),
  ),
  variant(
    'unlocked-open-count',
    '§10 M17: the last-close put tests open_count after dev_set->lock is dropped; two closers both see 0 and ' +
      'put one reference twice (the count reaches 0 early: use-after-free, or underflow). A closer racing a ' +
      "new opener can also clear the opener's reference (leak)",
    [['refcount-underflow', 'use-after-free']],
    mutant({ unlockedOpenCount: true }),
    planOf(SCHEDULE.closeVsOpen),
    kRace,
  ),
];

/**
 * The default run (`--quick`) is every version and mutant on the reported setup, one vfio-ap mdev
 * on one VM, and the 6.6 cdev leak with its fix, and fits in 30 s; `--full` adds the other drivers,
 * topologies, paths and mutants.
 */
const kQuickCdev = new Set(['cdev-5fcc26969a16', 'cdev-5fcc26969a16-fixed']);

export const kVariants: readonly Variant[] = [
  ...kVfioApVariants,
  // Yan Zhao's cdev leak, still upstream, and its fix: the bug the tool exists to show, so quick.
  ...kCdevVariants.filter((v) => kQuickCdev.has(v.name)),
  ...extended(kDriverVariants),
  ...extended(kMutantVariants),
  ...extended(kCdevVariants.filter((v) => !kQuickCdev.has(v.name))),
];
