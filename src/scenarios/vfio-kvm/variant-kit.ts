/**
 * What every variant file uses: the variant constructor and the plans shared by all of them.
 */
import type { Expectation, Plan, Variant } from '../contract.js';
import { makeOperations } from './operations.js';
import { SCHEDULE, type Schedule, planOf } from './plans.js';
import { type Topology, kApOnly } from './topology.js';
import type { KernelVersion } from './version.js';

/**
 * A variant: `version` on `topology` (default: one vfio-ap mdev on one VM), running `plan`.
 * The plan names the operations of that topology (`DEV_OPEN(d2)`; see plans.ts `onDevices`).
 */
export function variant(
  name: string,
  description: string,
  expect: Expectation,
  version: KernelVersion,
  plan: Plan,
  minThreads = 1,
  topology: Topology = kApOnly,
): Variant {
  const { ops, setup, finish } = makeOperations(version, topology);
  return { name, description, expect, ops, plan, setup, finish, minThreads };
}

/** Marks variants that run only with `--full` (or when named): see README "Quick and full runs". */
export function extended(variants: readonly Variant[]): Variant[] {
  return variants.map((v) => ({ ...v, extended: true }));
}

/** A bug that needs two paths at once: one thread can never show it (a race or an ABBA). */
export const kRace = 2;

/** Every schedule of plans.ts that runs on one device of one VM: what a correct kernel must survive. */
export const kAllSchedules: readonly Schedule[] = (Object.values(SCHEDULE) as readonly Schedule[]).filter(
  (s) => s.multiDevice !== true && s.multiVm !== true,
);

/** A correct version runs every schedule; the racing ones twice as often. */
export const kCleanPlan: Plan = planOf(
  ...kAllSchedules.map((s): readonly [Schedule, number] => [s, s.roles.length > 1 ? 2 : 1]),
);
