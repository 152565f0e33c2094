import { describe, expect, it } from 'vitest';
import { type LockOrderCycle, type OrderEdge, LockOrderGraph } from '../../src/lockdep/lock-order-graph.js';

// Classes of the kernel-model.md §6.3 splat, plus a few letters.
const GROUP = 0;
const DEV_SET = 1;
const GUESTS = 2;
const KVM = 3;
const A = 4;
const B = 5;
const C = 6;
const D = 7;
const G = 8;

let nextSeq = 0;
function edge(from: number, to: number, gate: number[] = [], sites: Partial<OrderEdge> = {}): OrderEdge {
  return {
    from,
    to,
    fromSite: `take_${from}`,
    toSite: `take_${to}`,
    thread: 0,
    round: 1,
    gate,
    seq: nextSeq++,
    ...sites,
  };
}

function expectCycle(cycle: LockOrderCycle | null): LockOrderCycle {
  expect(cycle).not.toBeNull();
  return cycle as LockOrderCycle;
}

describe('LockOrderGraph', () => {
  it('an ABBA order gives a cycle naming both classes, starting at the lock being acquired', () => {
    const graph = new LockOrderGraph();
    expect(graph.addEdge(edge(A, B))).toBeNull();
    const cycle = expectCycle(graph.addEdge(edge(B, A)));
    expect(cycle.classes).toEqual([A, B]);
    expect(cycle.edges.map((e) => [e.from, e.to])).toEqual([
      [A, B],
      [B, A],
    ]);
    expect(cycle.closing).toMatchObject({ from: B, to: A });
  });

  it('a 3-lock cycle is found with its edges in cycle order', () => {
    const graph = new LockOrderGraph();
    expect(graph.addEdge(edge(A, B))).toBeNull();
    expect(graph.addEdge(edge(B, C))).toBeNull();
    const cycle = expectCycle(graph.addEdge(edge(C, A)));
    expect(cycle.classes).toEqual([A, B, C]);
    expect(cycle.edges.map((e) => `${e.from}->${e.to}`)).toEqual([`${A}->${B}`, `${B}->${C}`, `${C}->${A}`]);
  });

  it('the 4-lock cycle of the group_lock / kvm->lock splat starts at group_lock', () => {
    const graph = new LockOrderGraph();
    graph.addEdge(edge(GROUP, DEV_SET, [], { fromSite: 'vfio_device_group_open', toSite: 'vfio_device_open' }));
    graph.addEdge(edge(DEV_SET, GUESTS, [], { toSite: 'vfio_ap_mdev_open_device' }));
    graph.addEdge(edge(GUESTS, KVM, [], { toSite: 'vfio_ap_mdev_open_device' }));
    const cycle = expectCycle(
      graph.addEdge(edge(KVM, GROUP, [], { fromSite: 'kvm_device_release', toSite: 'vfio_file_set_kvm' })),
    );
    expect(cycle.classes).toEqual([GROUP, DEV_SET, GUESTS, KVM]);
    expect(cycle.closing).toMatchObject({ from: KVM, to: GROUP, toSite: 'vfio_file_set_kvm' });
  });

  it('the smallest cycle through the new edge is the one reported', () => {
    const graph = new LockOrderGraph();
    graph.addEdge(edge(A, B));
    graph.addEdge(edge(B, C));
    graph.addEdge(edge(C, D));
    graph.addEdge(edge(B, D));
    expect(expectCycle(graph.addEdge(edge(D, A))).classes).toEqual([A, B, D]);
  });

  it('orders protected by a common gate lock are not reported', () => {
    const graph = new LockOrderGraph();
    expect(graph.addEdge(edge(A, B, [G]))).toBeNull();
    expect(graph.addEdge(edge(B, A, [G]))).toBeNull();
    expect(graph.edges()).toHaveLength(2);
  });

  it('a gated order is reported once updateGate shrinks one gate to 0', () => {
    const graph = new LockOrderGraph();
    graph.addEdge(edge(A, B, [G]));
    graph.addEdge(edge(B, A, [G]));
    const cycle = expectCycle(graph.updateGate(A, B, []));
    expect(cycle.classes).toEqual([B, A]);
    expect(cycle.closing).toMatchObject({ from: A, to: B, gate: [] });
    expect(graph.updateGate(A, B, [])).toBeNull();
  });

  it('a gate mask never grows back', () => {
    const graph = new LockOrderGraph();
    graph.addEdge(edge(A, B, [G, C]));
    expect(graph.updateGate(A, B, [G])).toBeNull();
    graph.updateGate(A, B, [A, C, D, G]);
    expect(graph.gateOf(A, B)).toEqual([G]);
  });

  it('different gates on the two halves do not protect the cycle', () => {
    const graph = new LockOrderGraph();
    graph.addEdge(edge(A, B, [G]));
    expect(expectCycle(graph.addEdge(edge(B, A, [C]))).classes).toEqual([A, B]);
  });

  it('a gated short cycle is passed over for an ungated longer one', () => {
    const graph = new LockOrderGraph();
    graph.addEdge(edge(A, D, [G]));
    graph.addEdge(edge(A, B));
    graph.addEdge(edge(B, D));
    expect(expectCycle(graph.addEdge(edge(D, A, [G]))).classes).toEqual([A, B, D]);
  });

  it('each distinct cycle is reported once, while a cycle over other classes still is', () => {
    const graph = new LockOrderGraph();
    graph.addEdge(edge(A, B));
    expectCycle(graph.addEdge(edge(B, A)));
    expect(graph.addEdge(edge(B, A))).toBeNull();
    expect(graph.addEdge(edge(A, B))).toBeNull();
    graph.addEdge(edge(C, D));
    expect(expectCycle(graph.addEdge(edge(D, C))).classes).toEqual([C, D]);
  });

  it('a gate update does not report a cycle again', () => {
    const graph = new LockOrderGraph();
    graph.addEdge(edge(A, B, [G]));
    expectCycle(graph.addEdge(edge(B, A)));
    expect(graph.updateGate(A, B, [])).toBeNull();
  });

  it('reset forgets edges and reported cycles', () => {
    const graph = new LockOrderGraph();
    graph.addEdge(edge(A, B));
    expectCycle(graph.addEdge(edge(B, A)));
    graph.reset();
    expect(graph.edges()).toEqual([]);
    graph.addEdge(edge(A, B));
    expectCycle(graph.addEdge(edge(B, A)));
  });

  it('a self-edge is left to the recursion check', () => {
    const graph = new LockOrderGraph();
    expect(graph.addEdge(edge(A, A))).toBeNull();
    expect(graph.edges()).toEqual([]);
  });

  it('a class at or past the class limit is refused with its value', () => {
    expect(() => new LockOrderGraph().addEdge(edge(8192, A))).toThrow(/8192/);
    expect(() => new LockOrderGraph(1024).addEdge(edge(A, 1024))).toThrow(/1024 is outside 0\.\.1023/);
  });

  it('a dense graph whose cycles are all gated answers without a cycle', () => {
    const graph = new LockOrderGraph();
    const classes = 12;
    let cycles = 0;
    for (let from = 0; from < classes; from++) {
      for (let to = 0; to < classes; to++) {
        if (from !== to && graph.addEdge(edge(from, to, [20])) !== null) cycles++;
      }
    }
    expect(cycles).toBe(0);
    expect(graph.edges()).toHaveLength(classes * (classes - 1));
  });

  it('a ring of 40 classes with ids past 31 gives exactly one cycle over all 40, when its last edge closes it', () => {
    const graph = new LockOrderGraph(1024);
    const ring = Array.from({ length: 40 }, (_, i) => 1000 - 23 * i);
    for (let i = 0; i < 39; i++) expect(graph.addEdge(edge(ring[i] ?? 0, ring[i + 1] ?? 0))).toBeNull();
    const cycle = expectCycle(graph.addEdge(edge(ring[39] ?? 0, ring[0] ?? 0)));
    expect(cycle.classes).toEqual(ring);
    expect(cycle.edges).toHaveLength(40);
    expect(cycle.closing).toMatchObject({ from: ring[39], to: ring[0] });
    expect(graph.addEdge(edge(ring[39] ?? 0, ring[0] ?? 0))).toBeNull();
  });

  it('a ring through 8192 classes is found without overflowing the stack', () => {
    const graph = new LockOrderGraph();
    for (let c = 0; c < 8191; c++) expect(graph.addEdge(edge(c, c + 1))).toBeNull();
    expect(expectCycle(graph.addEdge(edge(8191, 0))).classes).toHaveLength(8192);
  });

  it('a gate class with an id past 31 protects the cycle until one sighting is seen without it', () => {
    const graph = new LockOrderGraph(8192);
    const [x, y, gate] = [4000, 7000, 8191];
    expect(graph.addEdge(edge(x, y, [gate, 33]))).toBeNull();
    expect(graph.addEdge(edge(y, x, [gate]))).toBeNull();
    expect(graph.updateGate(x, y, [gate, 40])).toBeNull();
    expect(graph.gateOf(x, y)).toEqual([gate]);
    expect(expectCycle(graph.updateGate(y, x, [33])).classes).toEqual([x, y]);
  });

  it('gates are sets: order and duplicates in a sighting do not matter', () => {
    const graph = new LockOrderGraph();
    graph.addEdge(edge(A, B, [900, G, 900, 64]));
    expect(graph.gateOf(A, B)).toEqual([G, 64, 900]);
    expect(graph.updateGate(A, B, [900, 64, 64])).toBeNull();
    expect(graph.gateOf(A, B)).toEqual([64, 900]);
  });

  it('a 3-cycle gated on one edge only by a class the others lack is reported', () => {
    const graph = new LockOrderGraph();
    graph.addEdge(edge(100, 200, [300]));
    graph.addEdge(edge(200, 250, [300]));
    expect(expectCycle(graph.addEdge(edge(250, 100))).classes).toEqual([100, 200, 250]);
  });
});
