/**
 * The built-in scenario: the vfio/kvm lock and refcount protocol of Linux around the Feb-2023 fix
 * "vfio: fix deadlock between group lock and kvm lock" (2b48f52f2bff), its predecessors and its
 * plausible regressions, as specified in kernel-model.md.
 *
 * Layout of this directory:
 * - the world: topology.ts (VMs, devices and their drivers per variant), objects.ts
 *   (declarations and per-instance names), files.ts (fd lifetimes), version.ts (what differs
 *   between kernels and mutants);
 * - the kernel paths: kvm.ts, kvm-vfio.ts, vfio-group.ts (the group path), vfio-cdev.ts (the 6.6
 *   device cdev path), drivers.ts with vfio-ap.ts, vfio-pci-zdev.ts, kvmgt.ts, vfio-pci.ts;
 * - the runs: operations.ts (ops, setup, finish), plans.ts and plans-cdev.ts (§11 schedules),
 *   invariants.ts (end-of-round checks), variant-kit.ts, and the variants: variants.ts (the
 *   versions and mutants on vfio-ap, and the list), variants-drivers.ts, variants-mutants.ts,
 *   variants-cdev.ts.
 */
import { defineScenario } from '../contract.js';
import { vfioKvmInvariants } from './invariants.js';
import { kVfioKvmObjects } from './objects.js';
import { makeOperations } from './operations.js';
import { kCleanPlan, kVariants } from './variants.js';
import { kVersionD } from './version.js';

const upstream = makeOperations(kVersionD);

export default defineScenario({
  name: 'vfio-kvm',
  description:
    'vfio group_lock / kvm->lock / kvm users_count: Linux v6.2-rc, 51cdc8bc120e, the fix 2b48f52f2bff, the 6.6 device cdev path, and mutants, on vfio-ap, zPCI, kvmgt and plain vfio-pci',
  objects: kVfioKvmObjects,
  ops: upstream.ops,
  plan: kCleanPlan,
  setup: upstream.setup,
  finish: upstream.finish,
  invariants: vfioKvmInvariants,
  variants: kVariants,
});
