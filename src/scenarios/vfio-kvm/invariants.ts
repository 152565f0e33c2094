/**
 * The end-of-round arbiter (main thread, read-only), after `finish` closed every fd: the checks
 * of kernel-model.md §9 that can be read off the final state. The refcount itself is swept by the
 * runner (`kvm->users_count` must end at 0: a leak names its holders).
 */
import type { WorldView } from '../contract.js';
import { CDEV_GROUP, DFS, GROUP, VMS, deviceNames, kFdOpen, kNull } from './objects.js';
import { kMaxDevices } from './topology.js';

/** Every device's names (the checks read names only, so any driver's will do): built once, not per round. */
const kDevices = Array.from({ length: kMaxDevices }, (_, d) => deviceNames(d, 'plain'));

export function vfioKvmInvariants(view: WorldView): string[] {
  const problems: string[] = [];
  // Instances a variant's topology does not use stay zero, and pass every check.
  for (const vm of VMS) {
    const created = view.words(vm.created);
    const destroyed = view.words(vm.destroyed);
    const kvm = vm.kvm;
    // I1: kvm_destroy_vm runs exactly once per VM.
    if (destroyed < created) problems.push(`${kvm} not destroyed after every fd was closed (created ${created}, destroyed ${destroyed})`);
    if (destroyed > created) problems.push(`${kvm} destroyed more than once (created ${created}, destroyed ${destroyed})`);
    if (view.words(vm.groupList) !== kNull) problems.push(`${vm.slotKvg} (kvm_vfio_group) never freed`);
    if (view.words(vm.vmFd) === kFdOpen) problems.push(`${vm.vmFd} left open by finish`);
    if (view.words(vm.kvmVfioFd) === kFdOpen) problems.push(`${vm.kvmVfioFd} left open by finish`);
    if (view.words(vm.vcpuFds) !== 0) problems.push(`${view.words(vm.vcpuFds)} ${vm.vcpuFds} left open by finish`);
    if (view.words(vm.pageTrackNotifiers) !== 0) problems.push(`${vm.pageTrackNotifiers}: ${view.words(vm.pageTrackNotifiers)} notifiers left registered`);
  }
  for (const dev of kDevices) {
    const openCount = view.words(dev.openCount);
    if (openCount !== 0) problems.push(`${dev.openCount} is ${openCount} after every device fd was closed`);
    // I3: open_count == 0 => device->kvm == NULL (and I2: put_kvm with it).
    if (view.words(dev.deviceKvm) !== kNull) problems.push(`${dev.deviceKvm} still set with open_count 0 (I3)`);
    if (view.words(dev.putKvm) !== 0) problems.push(`${dev.putKvm} still set with open_count 0 (I2)`);
    if (view.words(dev.mdevKvm) !== kNull) problems.push(`${dev.mdevKvm} still set after close_device`);
    if (view.words(dev.kzdev) !== kNull) problems.push(`${dev.kzdev} still registered after close_device`);
    if (view.words(dev.vgpuAttached) !== 0) problems.push(`${dev.vgpuAttached} still set after close_device`);
    if (view.words(dev.deviceFds) !== 0) problems.push(`${view.words(dev.deviceFds)} ${dev.deviceFds} left open by finish`);
  }
  // I6: group->kvm set only while a kvm-vfio device lists the group.
  if (view.words(GROUP.groupKvm) !== kNull) problems.push('group->kvm still set after the kvm-vfio device went away (I6)');
  // 6.6+ cdev (§8.3); a kernel without it leaves these words zero.
  for (const df of DFS) {
    if (view.words(df.dfFd) === kFdOpen) problems.push(`${df.dfFd} left open by finish`);
    const refs = view.words(df.dfFile);
    if (refs !== 0) problems.push(`${df.dfFile} is ${refs}: the df file was never released`);
    const pointer = view.words(df.df);
    if (pointer !== kNull && view.isLive(pointer)) problems.push(`${df.slotDf} (struct vfio_device_file) never freed`);
    // I5/I6 for a df: df->kvm is set only while a kvm-vfio device lists the df.
    if (view.words(df.dfKvm) !== kNull) problems.push(`${df.dfKvm} still set after the kvm-vfio device went away (I6)`);
    if (view.words(df.accessGranted) !== 0) problems.push(`${df.accessGranted} still set: the df was never unbound`);
    for (const list of df.fileList) if (view.words(list) !== kNull) problems.push(`${list} (kvm_vfio_file) never freed`);
  }
  const blocked = view.words(CDEV_GROUP.cdevDeviceOpenCnt);
  if (blocked !== 0) problems.push(`${CDEV_GROUP.cdevDeviceOpenCnt} is ${blocked} after every df was released`);
  const groupFds = view.words(CDEV_GROUP.openedFile);
  if (groupFds !== 0) problems.push(`${CDEV_GROUP.openedFile} is ${groupFds} after every group-path fd was closed`);
  return problems;
}
