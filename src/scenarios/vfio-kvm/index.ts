/**
 * The built-in scenario: the vfio/kvm lock and refcount protocol of Linux around the Feb-2023 fix
 * "vfio: fix deadlock between group lock and kvm lock" (2b48f52f2bff), its predecessors and its
 * plausible regressions, as specified in kernel-model.md.
 *
 * Layout of this directory: objects.ts (declarations, names), version.ts (what differs between
 * kernels and mutants), files.ts (fd lifetimes), kvm.ts, kvm-vfio.ts, vfio-group.ts, vfio-ap.ts
 * (the kernel paths), operations.ts (ops, setup, finish), plans.ts (§11 schedules),
 * invariants.ts (end-of-round checks), variants.ts.
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
  description: 'vfio group_lock / kvm->lock / kvm users_count: Linux v6.2-rc, 51cdc8bc120e, the fix 2b48f52f2bff, and mutants',
  objects: kVfioKvmObjects,
  ops: upstream.ops,
  plan: kCleanPlan,
  setup: upstream.setup,
  finish: upstream.finish,
  invariants: vfioKvmInvariants,
  variants: kVariants,
});
