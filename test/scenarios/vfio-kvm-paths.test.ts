/**
 * The vfio/kvm model's paths on ONE thread (createInProcessWorld, tracking on): the exact
 * users_count transitions of kernel-model.md §7.6 for 2b48f52f2bff, the lock order each version
 * teaches lockdep, the broken variants whose bug shows without a race, and every variant's
 * one-thread plan running to its end. Races are the stress runner's job, not these tests'.
 */
import { describe, expect, it } from 'vitest';
import type { RawFinding } from '../../src/primitives/finding-log.js';
import type { FindingKind } from '../../src/finding-kinds.js';
import { type InProcessWorld, createInProcessWorld } from '../../src/scenarios/in-process-world.js';
import { createRng, deriveSeed } from '../../src/scenarios/rng.js';
import scenario from '../../src/scenarios/vfio-kvm/index.js';
import { DEV1, GROUP, HOLDER, VM1 } from '../../src/scenarios/vfio-kvm/objects.js';
import { SCHEDULE, dealSchedule } from '../../src/scenarios/vfio-kvm/plans.js';
import { hasCycle, learnedEdges } from '../helpers/vfio-kvm-world.js';

interface RefStep {
  op: 'get' | 'put';
  holder: string;
  site: string;
  /** users_count after the step. */
  count: number;
}

/** A world after setup (VM_CREATE, KVFIO_CREATE, FILE_ADD), recording every users_count step. */
function startRound(variant: string): { world: InProcessWorld; steps: RefStep[]; take: () => RefStep[] } {
  const world = createInProcessWorld(scenario, variant, { tracking: true });
  world.resetRound(1);
  const steps: RefStep[] = [];
  const ref = world.thread(0).ctx.refs[VM1.usersCount];
  if (ref === undefined) throw new Error('no users_count');
  const { inc, incNotZero, decAndTest } = ref;
  ref.inc = (holder, site) => {
    inc(holder, site);
    steps.push({ op: 'get', holder, site, count: ref.read() });
  };
  ref.incNotZero = (holder, site) => {
    const ok = incNotZero(holder, site);
    if (ok) steps.push({ op: 'get', holder, site, count: ref.read() });
    return ok;
  };
  ref.decAndTest = (holder, site) => {
    const zero = decAndTest(holder, site);
    steps.push({ op: 'put', holder, site, count: ref.read() });
    return zero;
  };
  world.setup();
  const take = (): RefStep[] => steps.splice(0, steps.length);
  return { world, steps, take };
}

const users = (world: InProcessWorld): number => world.view().refcount(VM1.usersCount);
const destroyed = (world: InProcessWorld): number => world.view().words(VM1.destroyed);
const kinds = (findings: RawFinding[]): FindingKind[] => findings.map((f) => f.kind);

describe('2b48f52f2bff: users_count transitions (model §7.6)', () => {
  it('setup leaves one reference for the VM fd and one for the kvm-vfio fd', () => {
    const { world, take } = startRound('2b48f52f2bff');
    expect(users(world)).toBe(2);
    expect(take()).toEqual([{ op: 'get', holder: HOLDER.kvmVfioFd, site: 'kvm_ioctl_create_device', count: 2 }]);
  });

  it('first open takes +1 core then +1 driver; a second open takes nothing', () => {
    const { world, take } = startRound('2b48f52f2bff');
    take();
    world.run('DEV_OPEN');
    expect(take()).toEqual([
      { op: 'get', holder: HOLDER.vfioCore, site: '_vfio_device_get_kvm_safe', count: 3 },
      { op: 'get', holder: HOLDER.vfioAp, site: 'vfio_ap_mdev_set_kvm', count: 4 },
    ]);
    world.run('DEV_OPEN');
    expect(take()).toEqual([]);
    expect(world.view().words(DEV1.openCount)).toBe(2);
    expect(world.view().words(DEV1.deviceFds)).toBe(2);
  });

  it('a close that is not the last puts nothing; the last puts -1 driver then -1 core', () => {
    const { world, take } = startRound('2b48f52f2bff');
    world.run('DEV_OPEN');
    world.run('DEV_OPEN');
    take();
    world.run('DEV_CLOSE');
    expect(take()).toEqual([]);
    world.run('DEV_CLOSE');
    expect(take()).toEqual([
      { op: 'put', holder: HOLDER.vfioAp, site: 'vfio_ap_mdev_unset_kvm', count: 3 },
      { op: 'put', holder: HOLDER.vfioCore, site: 'vfio_device_put_kvm', count: 2 },
    ]);
    expect(world.view().words(DEV1.deviceKvm)).toBe(0);
    expect(world.view().words(DEV1.putKvm)).toBe(0);
  });

  it('a failed first open (a second mdev on the same VM: -EPERM) leaves the count unchanged', () => {
    const { world, take } = startRound('2b48f52f2bff@two-mdevs');
    world.run('DEV_OPEN(d2)');
    take();
    world.run('DEV_OPEN');
    // The core's get is undone by the open_count == 0 put after vfio_device_open failed.
    expect(take()).toEqual([
      { op: 'get', holder: HOLDER.vfioCore, site: '_vfio_device_get_kvm_safe', count: 5 },
      { op: 'put', holder: HOLDER.vfioCore, site: 'vfio_device_put_kvm', count: 4 },
    ]);
    expect(users(world)).toBe(4);
    expect(world.view().words(DEV1.deviceFds)).toBe(0);
    expect(world.view().words(DEV1.openCount)).toBe(0);
    expect(world.view().words(DEV1.deviceKvm)).toBe(0);
    world.finish();
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
  });

  it('KVFIO_CLOSE puts -1 for its fd, VM_CLOSE -1 for its fd, and the last put destroys the kvm once', () => {
    const { world, take } = startRound('2b48f52f2bff');
    take();
    const kvm = world.view().words(VM1.kvm);
    world.run('KVFIO_CLOSE');
    expect(take()).toEqual([{ op: 'put', holder: HOLDER.kvmVfioFd, site: 'kvm_device_release', count: 1 }]);
    expect(destroyed(world)).toBe(0);
    expect(world.view().isLive(kvm)).toBe(true);
    world.run('VM_CLOSE');
    expect(take()).toEqual([{ op: 'put', holder: HOLDER.vmFd, site: 'kvm_vm_release', count: 0 }]);
    expect(destroyed(world)).toBe(1);
    expect(world.view().isLive(kvm)).toBe(false);
    // Closing a closed fd does nothing: no second destroy.
    world.run('VM_CLOSE');
    world.run('KVFIO_CLOSE');
    world.finish();
    expect(take()).toEqual([]);
    expect(destroyed(world)).toBe(1);
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
  });

  it('S-last-ref-is-device: the core put is the last and destroys the kvm, after the driver put', () => {
    const { world, take } = startRound('2b48f52f2bff');
    for (const op of ['DEV_OPEN', 'VM_CLOSE', 'KVFIO_CLOSE']) world.run(op);
    take();
    expect(users(world)).toBe(2);
    world.run('DEV_CLOSE');
    expect(take().map((s) => `${s.holder}:${s.count}`)).toEqual([`${HOLDER.vfioAp}:1`, `${HOLDER.vfioCore}:0`]);
    expect(destroyed(world)).toBe(1);
    world.finish();
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
  });

  it('S-basic runs clean, and lockdep learns no cycle', () => {
    const { world } = startRound('2b48f52f2bff');
    for (const op of SCHEDULE.basic.roles[0] ?? []) world.run(op);
    world.finish();
    expect(destroyed(world)).toBe(1);
    expect(users(world)).toBe(0);
    expect(world.drainFindings()).toEqual([]);
    expect(hasCycle(learnedEdges(world))).toBe(false);
  });
});

describe('lock order on one thread', () => {
  const abbaOps = dealSchedule(SCHEDULE.abba, 1)[0] ?? [];

  it('51cdc8bc: DEV_OPEN/DEV_CLOSE then KVFIO_CLOSE teach the chain group_lock -> dev_set->lock -> guests_lock -> kvm->lock -> group_lock', () => {
    const { world } = startRound('51cdc8bc');
    for (const op of abbaOps) world.run(op);
    world.finish();
    const edges = learnedEdges(world);
    for (const e of ['group_lock -> dev_set->lock', 'dev_set->lock -> guests_lock', 'guests_lock -> kvm->lock', 'kvm->lock -> group_lock']) {
      expect(edges).toContain(e);
    }
    expect(hasCycle(edges)).toBe(true);
    // One thread never blocks: a potential cycle, no observed deadlock, and nothing else.
    expect(world.drainFindings()).toEqual([]);
  });

  it('2b48f52f2bff: the same operations leave an acyclic graph with kvm->lock -> kvm_ref_lock', () => {
    const { world } = startRound('2b48f52f2bff');
    for (const op of abbaOps) world.run(op);
    world.finish();
    const edges = learnedEdges(world);
    expect(edges).toContain('kvm->lock -> kvm_ref_lock');
    expect(edges).not.toContain('kvm->lock -> group_lock');
    expect(hasCycle(edges)).toBe(false);
  });

  it('set-kvm-group-lock (M7): kvm_vfio_release takes group_lock under kvm->lock again', () => {
    const { world } = startRound('set-kvm-group-lock');
    for (const op of abbaOps) world.run(op);
    world.finish();
    expect(learnedEdges(world)).toContain('kvm->lock -> group_lock');
    expect(hasCycle(learnedEdges(world))).toBe(true);
  });
});

describe('pre-51cdc8bc without the last reference in the driver', () => {
  it('the last put from VM_CLOSE runs kvm_vfio_destroy, which clears group->kvm and frees the kvg', () => {
    const { world } = startRound('pre-51cdc8bc');
    for (const op of SCHEDULE.basic.roles[0] ?? []) world.run(op);
    expect(destroyed(world)).toBe(1);
    expect(world.view().words(GROUP.groupKvm)).toBe(0);
    expect(world.view().words(VM1.groupList)).toBe(0);
    expect(world.drainFindings()).toEqual([]);
  });
  // S-last-ref-is-device (A1) is not run here: the closing thread takes group_lock twice and
  // really blocks on itself, which in-process would hang this test thread until the hard wait
  // bound. The stress runner's watchdog reports it as a deadlock.
});

describe('broken variants whose bug shows on one thread', () => {
  it('missing-put (M1): after everything is closed users_count is 1, held by the vfio core', () => {
    const { world, take } = startRound('missing-put');
    for (const op of SCHEDULE.basic.roles[0] ?? []) world.run(op);
    world.finish();
    expect(users(world)).toBe(1);
    const net = new Map<string, number>();
    for (const s of take()) net.set(s.holder, (net.get(s.holder) ?? 0) + (s.op === 'get' ? 1 : -1));
    expect(net.get(HOLDER.vfioCore)).toBe(1);
    expect(destroyed(world)).toBe(0);
    expect(scenario.invariants?.(world.view())).toContain('kvm not destroyed after every fd was closed (created 1, destroyed 0)');
  });

  it('get-every-open (M10): two opens and two closes leak one core reference', () => {
    const { world, take } = startRound('get-every-open');
    take();
    for (const op of SCHEDULE.doubleOpen.roles[0] ?? []) world.run(op);
    expect(take().filter((s) => s.holder === HOLDER.vfioCore).map((s) => s.op)).toEqual(['get', 'get', 'put']);
    world.finish();
    expect(users(world)).toBe(1);
    expect(destroyed(world)).toBe(0);
  });

  it('put-before-close (M4): S-last-ref-is-device ends in mutex_unlock(&kvm->lock) on the freed kvm', () => {
    const { world } = startRound('put-before-close');
    for (const op of SCHEDULE.lastRefIsDevice.roles[0] ?? []) world.run(op);
    const findings = world.drainFindings();
    expect(kinds(findings)).toEqual(['use-after-free']);
    const [site, freedSite] = [findings[0]?.args[1] ?? 0, findings[0]?.args[2] ?? 0].map((id) => world.strings.lookup(id));
    expect(site).toBe('vfio_ap_mdev_close_device');
    expect(freedSite).toBe('kvm_destroy_vm');
    expect(destroyed(world)).toBe(1);
  });

  it('double-put (M3): S-reopen-after-del puts the same kvm twice, and a later put touches it freed', () => {
    const { world, take } = startRound('double-put');
    take();
    for (const op of SCHEDULE.reopenAfterDel.roles[0] ?? []) world.run(op);
    expect(take().filter((s) => s.holder === HOLDER.vfioCore).map((s) => s.op)).toEqual(['get', 'put', 'put']);
    world.finish();
    const seen = kinds(world.drainFindings());
    expect(seen.some((k) => k === 'use-after-free' || k === 'refcount-underflow')).toBe(true);
  });

  it('2b48f52f2bff under the same S-reopen-after-del puts once and stays clean', () => {
    const { world, take } = startRound('2b48f52f2bff');
    take();
    for (const op of SCHEDULE.reopenAfterDel.roles[0] ?? []) world.run(op);
    expect(take().filter((s) => s.holder === HOLDER.vfioCore).map((s) => s.op)).toEqual(['get', 'put']);
    world.finish();
    expect(world.drainFindings()).toEqual([]);
    expect(scenario.invariants?.(world.view())).toEqual([]);
  });
});

describe('every variant on one thread', () => {
  const cleanVariants = scenario.variants.filter((v) => v.expect === 'clean').map((v) => v.name);

  it('the clean variants include the three fixed kernels', () => {
    expect(cleanVariants).toEqual(expect.arrayContaining(['2b48f52f2bff', '2b48f52f2bff-destroy', 'fix-v2']));
  });

  for (const variant of scenario.variants) {
    // pre-51cdc8bc's one-thread plans include S-last-ref-is-device, which truly self-deadlocks
    // on group_lock (A1) and would hang this thread: it runs only under the stress runner.
    if (variant.name.startsWith('pre-51cdc8bc')) continue;
    it(`${variant.name}: setup, the one-thread plan and finish run to the end`, () => {
      const world = createInProcessWorld(scenario, variant.name, { tracking: true });
      const plan = variant.plan ?? scenario.plan;
      for (let round = 1; round <= 24; round++) {
        world.resetRound(round);
        world.setup();
        const lists = plan(createRng(deriveSeed(7, round)), 1, round);
        expect(lists).toHaveLength(1);
        for (const op of lists[0] ?? []) world.run(op);
        world.finish();
        const view = world.view();
        // finish closed every fd, whatever the plan left open
        expect(view.words(DEV1.deviceFds)).toBe(0);
        expect(view.words(VM1.vmFd)).toBe(2);
        expect(view.words(VM1.kvmVfioFd)).toBe(2);
        if (cleanVariants.includes(variant.name)) {
          expect(world.drainFindings()).toEqual([]);
          expect(scenario.invariants?.(view)).toEqual([]);
          expect(view.refcount(VM1.usersCount)).toBe(0);
          expect(view.words(VM1.destroyed)).toBe(1);
        } else {
          world.drainFindings();
        }
      }
    });
  }
});

describe('plans', () => {
  it('with one thread, the roles run in role order on thread 0', () => {
    expect(dealSchedule(SCHEDULE.destroyVsOpen, 1)).toEqual([
      ['DEV_OPEN', 'DEV_CLOSE', 'DEV_OPEN', 'DEV_CLOSE', 'KVFIO_CLOSE', 'VM_CLOSE', 'DEV_OPEN', 'DEV_CLOSE', 'DEV_OPEN', 'DEV_CLOSE'],
    ]);
  });

  it('with four threads, the racing roles are on different threads and the rest open and close', () => {
    expect(dealSchedule(SCHEDULE.abba, 4)).toEqual([
      ['DEV_OPEN', 'DEV_CLOSE', 'DEV_OPEN', 'DEV_CLOSE'],
      ['KVFIO_CLOSE'],
      ['DEV_OPEN', 'DEV_CLOSE', 'DEV_OPEN', 'DEV_CLOSE'],
      ['DEV_OPEN', 'DEV_CLOSE'],
    ]);
  });

  it('51cdc8bc: every four-thread round races KVFIO_CLOSE against an opener on another thread', () => {
    const variant = scenario.variants.find((v) => v.name === '51cdc8bc');
    for (let round = 1; round <= 20; round++) {
      const lists = variant?.plan?.(createRng(deriveSeed(3, round)), 4, round) ?? [];
      const closer = lists.findIndex((ops) => ops.includes('KVFIO_CLOSE'));
      expect(closer).toBeGreaterThanOrEqual(0);
      expect(lists.some((ops, t) => t !== closer && ops.includes('DEV_OPEN'))).toBe(true);
    }
  });
});
