/**
 * The versions on the other drivers of kernel-model.md §4 (zPCI, kvmgt, plain vfio-pci, and all
 * of them in one VM), and the kvmgt mutant M19. Which versions deadlock depends on the driver:
 * B1 needs a driver that takes `kvm->lock` under the vfio locks (vfio-ap, zPCI; §6.3 "Not with
 * DRV_GVT / DRV_NONE"), A1 needs a driver that holds a reference and puts it at close (all but
 * plain vfio-pci).
 */
import type { Variant } from '../contract.js';
import { SCHEDULE, type Schedule, onDevices, planOf } from './plans.js';
import { TOPOLOGY, type Topology } from './topology.js';
import { kAllSchedules, kCleanPlan, kRace, variant } from './variant-kit.js';
import { kVersionA, kVersionB, kVersionC, kVersionD, kVersionDDestroy, mutant } from './version.js';

/** Every one-device schedule, each device's operations spread over the topology's devices. */
function cleanPlanOn(topology: Topology) {
  return onDevices(kCleanPlan, topology);
}

const a1Plan = planOf([SCHEDULE.lastRefIsDevice, 2], SCHEDULE.basic);

/**
 * Every one-device schedule but S-add-vs-del: B's FILE_ADD still sets the kvm after
 * `mutex_unlock(&kv->lock)` (A3, fixed by 9e0f4f2918c2 years later; variant add-race), a bug of
 * its own that does not depend on the driver.
 */
const kCleanPlanWithoutAddRace = planOf(
  ...kAllSchedules.filter((s) => s !== SCHEDULE.addVsDel).map((s): readonly [Schedule, number] => [s, s.roles.length > 1 ? 2 : 1]),
);

export const kDriverVariants: readonly Variant[] = [
  variant(
    'pre-51cdc8bc@zpci',
    "§5.2 A1, version A on zPCI (§4 DRV_ZDEV): kvm_s390_pci_unregister_kvm's put is the last (S-last-ref-is-device), after its " +
      'own unlocks but under group_lock, so kvm_destroy_vm -> kvm_vfio_destroy takes group_lock again: ' +
      'recursive-lock, then a real self-deadlock',
    ['recursive-lock', 'deadlock'],
    kVersionA,
    a1Plan,
    1,
    TOPOLOGY.zpci,
  ),
  variant(
    'pre-51cdc8bc@kvmgt',
    "§5.2 A1, version A on kvmgt (§4 DRV_GVT): intel_vgpu_close_device's put is the last, under group_lock: the same " +
      'recursive group_lock in kvm_vfio_destroy as with vfio-ap, though kvmgt never takes kvm->lock',
    ['recursive-lock', 'deadlock'],
    kVersionA,
    a1Plan,
    1,
    TOPOLOGY.kvmgt,
  ),
  variant(
    '51cdc8bc@zpci',
    '§6.3 B1, version B on zPCI: DEV_OPEN/DEV_CLOSE take group_lock -> dev_set->lock -> kzdev_lock -> kvm->lock ' +
      '(kvm_s390_pci_register_kvm), against kvm->lock -> group_lock in kvm_vfio_release: the same ABBA as ' +
      'vfio-ap through the other driver of the reported s390 setup',
    ['deadlock', 'lock-order-cycle'],
    kVersionB,
    planOf(SCHEDULE.abba),
    kRace,
    TOPOLOGY.zpci,
  ),
  variant(
    '51cdc8bc@kvmgt',
    '§6.3 "Not with DRV_GVT", version B on kvmgt: kvmgt takes kvm->mmu_lock, never kvm->lock, under the vfio ' +
      'locks, so kvm->lock -> group_lock closes no cycle; its last put under group_lock is safe because B ' +
      'has no vfio callback in kvm_destroy_vm. Clean on every schedule but S-add-vs-del (B still has A3, ' +
      'see add-race): 51cdc8bc120e broke s390, not x86 kvmgt',
    'clean',
    kVersionB,
    kCleanPlanWithoutAddRace,
    1,
    TOPOLOGY.kvmgt,
  ),
  variant(
    '51cdc8bc@mix',
    '§6.3 B1, version B with a vfio-ap mdev, a zPCI device and a kvmgt vGPU in one VM: B1 through whichever s390 driver ' +
      'an opener uses (the reported splat came from vfio-ap: vfio_ap_mdev_open_device)',
    ['deadlock', 'lock-order-cycle'],
    kVersionB,
    onDevices(planOf(SCHEDULE.abba), TOPOLOGY.mix),
    kRace,
    TOPOLOGY.mix,
  ),
  variant(
    'fix-v2@mix',
    '§7.3, version C with vfio-ap, zPCI and kvmgt devices in one VM, every schedule: clean on every driver',
    'clean',
    kVersionC,
    cleanPlanOn(TOPOLOGY.mix),
    1,
    TOPOLOGY.mix,
  ),
  variant(
    '2b48f52f2bff@zpci',
    "§7.5, version D on zPCI, every schedule: the core's reference outlives close_device, so zPCI's put is " +
      'never the last; kzdev_lock -> kvm->lock adds no cycle',
    'clean',
    kVersionD,
    cleanPlanOn(TOPOLOGY.zpci),
    1,
    TOPOLOGY.zpci,
  ),
  variant(
    '2b48f52f2bff@kvmgt',
    '§7.5, version D on kvmgt, every schedule: dev_set->lock -> kvm->mmu_lock, and the last put is the core\'s',
    'clean',
    kVersionD,
    cleanPlanOn(TOPOLOGY.kvmgt),
    1,
    TOPOLOGY.kvmgt,
  ),
  variant(
    '2b48f52f2bff@plain',
    '§7.5, version D on plain vfio-pci (§4 DRV_NONE), every schedule: the driver ignores the kvm, the core still ' +
      'holds its reference from first open to last close',
    'clean',
    kVersionD,
    cleanPlanOn(TOPOLOGY.plain),
    1,
    TOPOLOGY.plain,
  ),
  variant(
    '2b48f52f2bff@mix',
    '§7.5, version D with vfio-ap, zPCI and kvmgt devices in one VM, every schedule, two devices at once',
    'clean',
    kVersionD,
    cleanPlanOn(TOPOLOGY.mix),
    1,
    TOPOLOGY.mix,
  ),
  variant(
    '2b48f52f2bff-destroy@mix',
    "§10 M18, D′ with vfio-ap, zPCI and kvmgt devices in one VM: a dying kvm is refused by the core's " +
      'kvm_get_kvm_safe, so vfio-ap fails -EINVAL and zPCI and kvmgt open without a kvm',
    'clean',
    kVersionDDestroy,
    cleanPlanOn(TOPOLOGY.mix),
    1,
    TOPOLOGY.mix,
  ),
  variant(
    '2b48f52f2bff@two-mdevs',
    '§7.6 and §11 S-openfail, version D with two vfio-ap mdevs on one VM: the second to open fails -EPERM after the ' +
      "core's get, and the open_count == 0 put undoes it: counts unchanged",
    'clean',
    kVersionD,
    planOf(SCHEDULE.openFail, [SCHEDULE.openFailRace, 2]),
    1,
    TOPOLOGY.twoMdevs,
  ),
  variant(
    'kvmgt-get-before-eexist',
    '§10 M19 (§4 DRV_GVT before Nov 2022): intel_vgpu_open_device takes kvm_get_kvm before its -EEXIST ' +
      'return for a second vGPU on the VM; close_device is not called after a failed open, so that ' +
      'reference leaks (S-openfail, two vGPUs on one VM)',
    ['refcount-leak'],
    mutant({ gvtGetBeforeExist: true }),
    planOf(SCHEDULE.openFail, SCHEDULE.openFailRace),
    1,
    TOPOLOGY.twoVgpus,
  ),
];
