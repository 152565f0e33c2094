/**
 * What a variant's world holds: how many VMs, and which vfio devices on which drivers
 * (kernel-model.md §4). Every device is in the one vfio group and has a `dev_set` of its own.
 * The kernel paths take the instance they act on (a VM, a device) as an argument, so one copy of
 * each path serves every topology. Instance names come from objects.ts.
 */

/** The drivers of §4: DRV_AP, DRV_ZDEV, DRV_GVT, DRV_NONE. */
export type DriverKind = 'vfio-ap' | 'zpci' | 'kvmgt' | 'plain';

export interface Topology {
  /** A short name, used in variant names (`2b48f52f2bff@zpci`). */
  name: string;
  /** 1 or 2 VMs (S-readd-other-vm needs the second). */
  vms: number;
  /** One driver per device, in device order. */
  devices: readonly DriverKind[];
}

/** The most instances any topology has: the scenario declares this many of each. */
export const kMaxVms = 2;
export const kMaxDevices = 3;

/** One vfio-ap mdev (the s390 setup of the reported splat). */
export const kApOnly: Topology = { name: 'vfio-ap', vms: 1, devices: ['vfio-ap'] };

export const TOPOLOGY = {
  ap: kApOnly,
  zpci: { name: 'zpci', vms: 1, devices: ['zpci'] },
  kvmgt: { name: 'kvmgt', vms: 1, devices: ['kvmgt'] },
  plain: { name: 'plain', vms: 1, devices: ['plain'] },
  /** One VM with a device on each kvm-using driver: Krowiak's s390 box had vfio-ap and zPCI. */
  mix: { name: 'mix', vms: 1, devices: ['vfio-ap', 'zpci', 'kvmgt'] },
  /** Two mdevs on one VM: the second open_device fails with -EPERM (S-openfail). */
  twoMdevs: { name: 'two-mdevs', vms: 1, devices: ['vfio-ap', 'vfio-ap'] },
  /** Two vGPUs on one VM: the second open_device fails with -EEXIST (S-openfail, M19). */
  twoVgpus: { name: 'two-vgpus', vms: 1, devices: ['kvmgt', 'kvmgt'] },
  /** Two VMs, one vfio-ap device (S-readd-other-vm). */
  twoVms: { name: 'two-vms', vms: 2, devices: ['vfio-ap'] },
} as const satisfies Record<string, Topology>;

export function checkTopology(t: Topology): Topology {
  if (t.vms < 1 || t.vms > kMaxVms) throw new RangeError(`topology ${t.name}: ${t.vms} VMs (1..${kMaxVms})`);
  if (t.devices.length < 1 || t.devices.length > kMaxDevices) {
    throw new RangeError(`topology ${t.name}: ${t.devices.length} devices (1..${kMaxDevices})`);
  }
  return t;
}
