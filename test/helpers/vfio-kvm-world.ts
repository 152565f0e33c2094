/**
 * The vfio/kvm model on one thread, for the path tests: a round after setup that records every
 * `users_count` step of every VM, and the lock-order edges lockdep learned.
 */
import { findEdge } from '../../src/lockdep/edge-table.js';
import { classCount, classNameOf } from '../../src/primitives/lock-table.js';
import { type InProcessWorld, createInProcessWorld } from '../../src/scenarios/in-process-world.js';
import scenario from '../../src/scenarios/vfio-kvm/index.js';
import { VMS, type VmNames } from '../../src/scenarios/vfio-kvm/objects.js';

export interface RefStep {
  /** Which VM's count moved, as the test names it (see `startRecordedRound`). */
  vm: string;
  op: 'get' | 'put';
  holder: string;
  site: string;
  /** That VM's users_count after the step. */
  count: number;
}

/**
 * A world of `variant` after setup, recording every users_count step of every VM, each named by
 * `vmKey` (default: its kvm word, `kvm` or `kvm2`). `take` returns the steps so far and forgets
 * them; setup's steps are still there at the first call.
 */
export function startRecordedRound(
  variant: string,
  vmKey: (vm: VmNames) => string = (vm) => vm.kvm,
): { world: InProcessWorld; take: () => RefStep[] } {
  const world = createInProcessWorld(scenario, variant, { tracking: true });
  world.resetRound(1);
  const steps: RefStep[] = [];
  for (const vm of VMS) {
    const ref = world.thread(0).ctx.refs[vm.usersCount];
    if (ref === undefined) throw new Error(`no ${vm.usersCount}`);
    const { inc, incNotZero, decAndTest } = ref;
    const key = vmKey(vm);
    ref.inc = (holder, site) => {
      inc(holder, site);
      steps.push({ vm: key, op: 'get', holder, site, count: ref.read() });
    };
    ref.incNotZero = (holder, site) => {
      const ok = incNotZero(holder, site);
      if (ok) steps.push({ vm: key, op: 'get', holder, site, count: ref.read() });
      return ok;
    };
    ref.decAndTest = (holder, site) => {
      const zero = decAndTest(holder, site);
      steps.push({ vm: key, op: 'put', holder, site, count: ref.read() });
      return zero;
    };
  }
  world.setup();
  return { world, take: () => steps.splice(0, steps.length) };
}

/** The lock-order edges lockdep learned, as `from -> to` class names. */
export function learnedEdges(world: InProcessWorld): Set<string> {
  const { memory, strings } = world;
  const edges = new Set<string>();
  const n = classCount(memory);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      if (findEdge(memory, a, b) >= 0) edges.add(`${classNameOf(memory, strings, a)} -> ${classNameOf(memory, strings, b)}`);
    }
  }
  return edges;
}

/** Whether the learned edges close a cycle (the runner, not the in-process world, reports it). */
export function hasCycle(edges: Set<string>): boolean {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    const [from = '', to = ''] = e.split(' -> ');
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  const state = new Map<string, 'open' | 'done'>();
  const visit = (node: string): boolean => {
    if (state.get(node) === 'open') return true;
    if (state.get(node) === 'done') return false;
    state.set(node, 'open');
    const found = (next.get(node) ?? []).some(visit);
    state.set(node, 'done');
    return found;
  };
  return [...next.keys()].some(visit);
}
