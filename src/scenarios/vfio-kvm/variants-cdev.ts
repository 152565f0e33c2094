/**
 * The 6.6+ device cdev path (kernel-model.md §8.3, vfio-cdev.ts): upstream 5fcc26969a16 with Yan
 * Zhao's double-bind leak, her proposed fix, and the two mutants of §10 that need a cdev caller:
 * M8 (the cdev RFC's `dev_set->lock` in set_kvm) and M13 (the get helper that ignores its kvm).
 */
import type { Variant } from '../contract.js';
import { CDEV_SCHEDULE, kCdevSchedules } from './plans-cdev.js';
import { type Schedule, planOf } from './plans.js';
import { TOPOLOGY } from './topology.js';
import { kAllSchedules, kRace, variant } from './variant-kit.js';
import { kVersionCdev, kVersionCdevFixed, mutant } from './version.js';

/** Racing schedules twice as often, as kCleanPlan does. */
const weighted = (s: Schedule): readonly [Schedule, number] => [s, s.roles.length > 1 ? 2 : 1];

/** Every cdev schedule and every group-path schedule of kCleanPlan, on one vfio-ap mdev. */
const kCdevCleanPlan = planOf(...[...kAllSchedules, ...kCdevSchedules].map(weighted));

export const kCdevVariants: readonly Variant[] = [
  variant(
    'cdev-5fcc26969a16',
    '§8.3: upstream 6.6+ cdev (torvalds device_cdev.c), vfio_df_get_kvm_safe on every BIND. With df1 ' +
      "bound, BIND(df2) takes a second core reference over device->kvm, fails -EINVAL (cdev opens are " +
      "exclusive), and its error path puts one and clears device->kvm; df1's UNBIND then puts nothing: " +
      'one vfio core reference leaks (Yan Zhao, S-cdev-double-bind; the arbiter also sees the kvm never ' +
      'destroyed). On one thread and whenever one BIND lands while the other df is bound',
    ['refcount-leak'],
    kVersionCdev,
    planOf([CDEV_SCHEDULE.doubleBind, 1], [CDEV_SCHEDULE.doubleBindRace, 2]),
  ),
  variant(
    'cdev-5fcc26969a16-fixed',
    "§8.3: Yan Zhao's fix, the BIND gets only when open_count == 0 and its error path puts only that " +
      'reference: the failing BIND(df2) leaves df1\'s reference alone. Clean on every cdev schedule and ' +
      'every group-path schedule, including the group path against cdev (vfio_device_block_group: BIND ' +
      '-EBUSY while the group path has the device, the group fd -EBUSY while a df is bound)',
    'clean',
    kVersionCdevFixed,
    kCdevCleanPlan,
  ),
  variant(
    'cdev-5fcc26969a16-fixed@two-vms',
    "§8.3, §10 M13's clean twin: the fixed cdev kernel on S-cdev-bind-other-vm (group ADDed to VM1, the " +
      "df to VM2). BIND gets and stores VM2; UNBIND puts VM2; VM1 is untouched. When VM2's fds close first, " +
      "the df's UNBIND does VM2's last put (kvm_destroy_vm under dev_set->lock, legal in D, §7.8)",
    'clean',
    kVersionCdevFixed,
    planOf(CDEV_SCHEDULE.bindOtherVm, [CDEV_SCHEDULE.bindOtherVmRace, 2]),
    1,
    TOPOLOGY.twoVms,
  ),
  variant(
    'set-kvm-dev-set-lock',
    '§10 M8, §8.3 end: the Jan-2023 cdev RFC took device->dev_set->lock in vfio_device_file_set_kvm. ' +
      'kvm_vfio_release then takes dev_set->lock under kvm->lock (set_kvm(df, NULL)), while BIND and ' +
      "UNBIND hold dev_set->lock around vfio-ap's open_device/close_device, which take guests_lock -> " +
      'kvm->lock: B1 again (the cycle dev_set->lock -> guests_lock -> kvm->lock -> dev_set->lock on any ' +
      'thread count, an ABBA deadlock on real threads). The kvm->lock side is any final put of the ' +
      'kvm-vfio file: KVFIO_CLOSE, or a FILE_ADD/FILE_DEL whose ioctl outlived the close; the dev_set->lock ' +
      'side BIND or a df release (CDEV_CLOSE)',
    ['deadlock', 'lock-order-cycle'],
    mutant({ setKvmDevSetLock: true }, kVersionCdevFixed),
    planOf([CDEV_SCHEDULE.vsKvfioClose, 3], CDEV_SCHEDULE.bind),
    kRace,
  ),
  variant(
    'get-helper-ignores-kvm',
    "§10 M13: _vfio_device_get_kvm_safe(device, kvm) takes its reference on device->group->kvm but stores " +
      'kvm. With the group ADDed to VM1 and the df to VM2 (S-cdev-bind-other-vm), BIND gets VM1 and stores ' +
      "VM2, so UNBIND puts VM2: VM1's reference leaks, and VM2 loses one it never had: its last fd close " +
      'frees it early and the next touch (the other fd close, or vfio-ap close_device when VM2 dies first) ' +
      'is a use-after-free, or a put finds the count already 0 (underflow). Also seen when VM2 is closed ' +
      'during the BIND: device->kvm = VM2 is pinned by nobody, so vfio-ap open_device gets it from 0 ' +
      '(inc-on-zero) or reads it freed, and its close_device then skips the freed kvm (the invariant ' +
      'matrix_mdev->kvm still set)',
    ['refcount-leak', ['use-after-free', 'refcount-underflow']],
    mutant({ getHelperIgnoresKvm: true }, kVersionCdevFixed),
    planOf([CDEV_SCHEDULE.bindOtherVm, 2], CDEV_SCHEDULE.bindOtherVmRace),
    1,
    TOPOLOGY.twoVms,
  ),
];
