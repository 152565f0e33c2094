/**
 * The end-of-round arbiter (main thread, read-only), after `finish` closed every fd: the checks
 * of kernel-model.md §9 that can be read off the final state. The refcount itself is swept by the
 * runner (`kvm->users_count` must end at 0: a leak names its holders).
 */
import type { WorldView } from '../contract.js';
import { WORD, kFdOpen, kNull } from './objects.js';

export function vfioKvmInvariants(view: WorldView): string[] {
  const problems: string[] = [];
  const created = view.words(WORD.kvmCreated);
  const destroyed = view.words(WORD.kvmDestroyed);
  // I1: kvm_destroy_vm runs exactly once per VM.
  if (destroyed < created) problems.push(`kvm not destroyed after every fd was closed (created ${created}, destroyed ${destroyed})`);
  if (destroyed > created) problems.push(`kvm destroyed more than once (created ${created}, destroyed ${destroyed})`);
  const openCount = view.words(WORD.openCount);
  if (openCount !== 0) problems.push(`device->open_count is ${openCount} after every device fd was closed`);
  // I3: open_count == 0 => device->kvm == NULL (and I2: put_kvm with it).
  if (view.words(WORD.deviceKvm) !== kNull) problems.push('device->kvm still set with open_count 0 (I3)');
  if (view.words(WORD.putKvm) !== 0) problems.push('device->put_kvm still set with open_count 0 (I2)');
  if (view.words(WORD.matrixMdevKvm) !== kNull) problems.push('matrix_mdev->kvm still set after close_device');
  // I6: group->kvm set only while the kvm-vfio device lists the group.
  if (view.words(WORD.groupKvm) !== kNull) problems.push('group->kvm still set after the kvm-vfio device went away (I6)');
  if (view.words(WORD.kvGroupList) !== kNull) problems.push('kvm_vfio_group never freed');
  if (view.words(WORD.vmFd) === kFdOpen) problems.push('VM fd left open by finish');
  if (view.words(WORD.kvmVfioFd) === kFdOpen) problems.push('kvm-vfio fd left open by finish');
  if (view.words(WORD.deviceFds) !== 0) problems.push(`${view.words(WORD.deviceFds)} device fds left open by finish`);
  return problems;
}
