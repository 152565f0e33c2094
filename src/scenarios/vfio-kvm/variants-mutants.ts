/**
 * The remaining mutants of kernel-model.md §10 (M2, M11, M12, M14, M15, M16, M20), each a one-line
 * change to version D (a Mutations flag in version.ts, implemented where the model puts it), and
 * the clean second-VM variant they are measured against (§11 S-readd-other-vm). Expectations are
 * the finding kinds the model says each bug must produce; where a run also shows other kinds, the
 * description says which and why.
 */
import type { Variant } from '../contract.js';
import { SCHEDULE, planOf } from './plans.js';
import { TOPOLOGY } from './topology.js';
import { kRace, variant } from './variant-kit.js';
import { kVersionD, kVersionDDestroy, mutant } from './version.js';

export const kMutantVariants: readonly Variant[] = [
  variant(
    '2b48f52f2bff@two-vms',
    '§11 S-readd-other-vm on D (§7.5): the device keeps the first VM\'s kvm across FILE_DEL and an ADD of ' +
      'the group to the second VM (a second open takes nothing), and its last close puts the first VM\'s ' +
      'kvm (I13); racing, the first VM\'s fds close while the device opens on whichever kvm group->kvm names',
    'clean',
    kVersionD,
    planOf(SCHEDULE.readdOtherVm, [SCHEDULE.readdOtherVmRace, 2]),
    1,
    TOPOLOGY.twoVms,
  ),
  variant(
    'missing-openfail-put',
    '§10 M2: no vfio_device_put_kvm after a failed first open. With two vfio-ap mdevs on one VM the second ' +
      "to open fails -EPERM after the core's get, which is never put: refcount-leak (the next first open " +
      'overwrites device->kvm; a round that ends on the failed open also leaves device->kvm set with ' +
      'open_count 0, an I3 invariant)',
    ['refcount-leak'],
    mutant({ missingOpenFailPut: true }),
    planOf(SCHEDULE.openFail, SCHEDULE.openFailRace),
    1,
    TOPOLOGY.twoMdevs,
  ),
  variant(
    'put-via-group-kvm',
    '§10 M11 (sean-jc WIP): vfio_device_put_kvm puts device->group->kvm and clears nothing. S-del-then-close: ' +
      'group->kvm is NULL at the last close, kvm_put_kvm(NULL) oopses (an invariant; the put is skipped) and ' +
      "the device's reference leaks. S-readd-other-vm: the put hits the second VM's kvm, which is freed by " +
      'its kvm-vfio close while its VM fd still counts on it (use-after-free at that close, or underflow), ' +
      "and the first VM's kvm leaks. The arbiter also sees the uncleared device->kvm (I2, I3). Racing, that " +
      'stale device->kvm can also reach vfio-ap at a reopen with no core reference behind it (as in M3): ' +
      'inc-on-zero on a dying kvm, or a use-after-free at its close (M20)',
    ['refcount-leak', ['refcount-underflow', 'use-after-free'], 'invariant'],
    mutant({ putViaGroupKvm: true }),
    planOf(SCHEDULE.readdOtherVm, SCHEDULE.delThenClose, SCHEDULE.readdOtherVmRace),
    1,
    TOPOLOGY.twoVms,
  ),
  variant(
    'get-on-openfail',
    '§10 M12 (sean-jc WIP): the failed-first-open block calls vfio_device_group_get_kvm_safe instead of ' +
      'vfio_device_put_kvm. With two vfio-ap mdevs the -EPERM open takes a second reference over the first ' +
      'and neither is put: +2 leaked per failed open (refcount-leak; a round that ends on the failed open ' +
      'also leaves device->kvm set with open_count 0, an I2/I3 invariant)',
    ['refcount-leak'],
    mutant({ getOnOpenFailure: true }),
    planOf(SCHEDULE.openFail, SCHEDULE.openFailRace),
    1,
    TOPOLOGY.twoMdevs,
  ),
  variant(
    'ignore-get-failure',
    '§10 M14 on D′ (M18): device->kvm and put_kvm are set even when kvm_get_kvm_safe refused a dying kvm ' +
      "(S-destroy-vs-open: the last fd put races a first open before kvm_vfio_destroy's set_kvm(NULL)). The " +
      'last close puts a reference nobody took: underflow while the kvm is dying, use-after-free once it is ' +
      "freed (I12). vfio-ap's non-safe kvm_get_kvm on that kvm also increments from 0 (inc-on-zero, I7), " +
      'and its close on the freed kvm skips the unset (invariant: matrix_mdev->kvm still set)',
    [['refcount-underflow', 'use-after-free']],
    mutant({ ignoreGetFailure: true }, kVersionDDestroy),
    planOf(SCHEDULE.destroyVsOpen),
    kRace,
  ),
  variant(
    'put-under-ref-lock',
    '§10 M15 with M10 (the unconditional get of the 6.6 cdev path): vfio_device_group_get_kvm_safe puts an ' +
      'existing device->kvm under the kvm_ref_lock spinlock. On plain vfio-pci (no driver reference) with ' +
      "the VM and kvm-vfio fds closed, the core's reference is the last (S-last-ref-in-vfio), so a second " +
      'open runs kvm_destroy_vm in atomic context: sleep-in-atomic (I8b). M15 alone is latent in D (I3: ' +
      "device->kvm is NULL whenever open_count is 0), and its set_kvm form is never final (the kvm-vfio fd's " +
      'reference outlives every vfio_file_set_kvm)',
    ['sleep-in-atomic'],
    mutant({ putUnderRefLock: true, getEveryOpen: true }),
    planOf(SCHEDULE.lastRefInVfio),
    1,
    TOPOLOGY.plain,
  ),
  variant(
    'put-before-release',
    "§10 M16: kvm_device_release puts the kvm-vfio fd's reference before ops->release. With the VM fd " +
      'closed first (S-kvmvfio-close-vs-open) that put is the last: kvm_destroy_vm frees the kvm while ' +
      'group->kvm still names it, so an opener reads freed memory (I6), and the release itself then takes ' +
      'kvm->lock of the freed kvm (use-after-free, on one thread too). kvm_destroy_devices finds the device ' +
      "still listed and calls B..D's missing .destroy: a NULL dereference (invariant)",
    ['use-after-free', 'invariant'],
    mutant({ putBeforeRelease: true }),
    planOf(SCHEDULE.kvmvfioCloseVsOpen),
  ),
  variant(
    'ap-put-then-unlock',
    "§10 M20: vfio-ap's close_device puts under kvm->lock, then mutex_unlock(&kvm->lock), safe in D only " +
      "because the core's reference outlives close_device. put-before-close (M4) already exposes it exactly; " +
      "this is a distinct combination, M3's uncleared device->kvm: after DEL and the last close, a reopen " +
      'hands the stale kvm to vfio-ap, whose reference is then the only one (VM and kvm-vfio fds closed), so ' +
      "its put destroys the kvm and the unlock writes to it (use-after-free), before M3's own put on the " +
      'freed kvm; the arbiter also sees M3\'s uncleared device->kvm (I2, I3 invariants)',
    ['use-after-free'],
    mutant({ doublePut: true }),
    planOf(SCHEDULE.reopenAfterDelLastRef),
  ),
];
