/**
 * Read/write dependency types on plain data: lockdep's strong-path rule for cycles
 * (LockOrderGraph) and for irq inversions (irq-usage.ts), and the usage-bit conflicts.
 */
import { describe, expect, it } from 'vitest';
import { DepBit, UsageBit } from '../../src/layout.js';
import { type ClassUsage, conflictingUsage, findIrqInversions, kUsageNames } from '../../src/lockdep/irq-usage.js';
import { LockOrderGraph, type OrderEdge } from '../../src/lockdep/lock-order-graph.js';

const [X, Y, Z] = [0, 1, 2];
let seq = 0;
function dep(from: number, to: number, deps: number): OrderEdge {
  return { from, to, fromSite: `take_${from}`, toSite: `take_${to}`, thread: 0, round: 1, gate: [], seq: seq++, deps };
}

describe('strong cycles (lockdep only_xr)', () => {
  it('two recursive readers in opposite orders are no deadlock: read_lock(A); read_lock(B) / read_lock(B); read_lock(A)', () => {
    const g = new LockOrderGraph();
    g.addEdge(dep(X, Y, DepBit.SR));
    expect(g.addEdge(dep(Y, X, DepBit.SR))).toBeNull();
  });

  it('a writer on one side makes it a deadlock: read_lock(A); lock(B) / lock(B); write_lock(A)', () => {
    const g = new LockOrderGraph();
    g.addEdge(dep(X, Y, DepBit.SN));
    const cycle = g.addEdge(dep(Y, X, DepBit.EN));
    expect(cycle?.classes).toEqual([X, Y]);
    expect(cycle?.deps).toEqual([DepBit.SN, DepBit.EN]);
  });

  it('entering a class as a recursive reader and leaving it as a reader is not strong: lock(B); read_lock(A) / read_lock(A); lock(B)', () => {
    const g = new LockOrderGraph();
    g.addEdge(dep(X, Y, DepBit.SN));
    expect(g.addEdge(dep(Y, X, DepBit.ER))).toBeNull();
    // The chain cache case: the same B -> A edge later seen with a writer closes the cycle.
    const cycle = g.updateEdge(Y, X, [], DepBit.EN);
    expect(cycle?.classes).toEqual([X, Y]);
  });

  it('W1R2/W2R3/W3R1 is a deadlock even though every read is recursive', () => {
    const g = new LockOrderGraph();
    g.addEdge(dep(X, Y, DepBit.ER));
    g.addEdge(dep(Y, Z, DepBit.ER));
    expect(g.addEdge(dep(Z, X, DepBit.ER))?.classes).toHaveLength(3);
  });

  it('W1W2/R2R3/R3W1 is not: Z is entered as a recursive reader and left as a reader', () => {
    const g = new LockOrderGraph();
    g.addEdge(dep(X, Y, DepBit.EN));
    g.addEdge(dep(Y, Z, DepBit.SR));
    expect(g.addEdge(dep(Z, X, DepBit.SN))).toBeNull();
  });

  it('down_read is a non-recursive reader: an rwsem read under a mutex still closes an ABBA', () => {
    const g = new LockOrderGraph();
    g.addEdge(dep(X, Y, DepBit.SN));
    expect(g.addEdge(dep(Y, X, DepBit.EN))).not.toBeNull();
  });

  it('edges without types are exclusive (EN), as before', () => {
    const g = new LockOrderGraph();
    g.addEdge({ from: X, to: Y, fromSite: 'a', toSite: 'b', thread: 0, round: 1, gate: [], seq: 0 });
    expect(g.addEdge({ from: Y, to: X, fromSite: 'b', toSite: 'a', thread: 1, round: 1, gate: [], seq: 1 })?.deps).toEqual([DepBit.EN, DepBit.EN]);
  });
});

describe('irq usage', () => {
  it('the conflicts are those of mark_lock_irq: IN-X-R with X-ON-R is fine, every other pair of one irq is not', () => {
    const bit = (b: number): number => 1 << b;
    expect(kUsageNames[conflictingUsage(bit(UsageBit.EnabledHardirq), UsageBit.UsedInHardirq)]).toBe('HARDIRQ-ON-W');
    expect(kUsageNames[conflictingUsage(bit(UsageBit.EnabledHardirqRead), UsageBit.UsedInHardirq)]).toBe('HARDIRQ-ON-R');
    expect(kUsageNames[conflictingUsage(bit(UsageBit.EnabledHardirq), UsageBit.UsedInHardirqRead)]).toBe('HARDIRQ-ON-W');
    expect(conflictingUsage(bit(UsageBit.EnabledHardirqRead), UsageBit.UsedInHardirqRead)).toBe(-1);
    expect(kUsageNames[conflictingUsage(bit(UsageBit.UsedInSoftirqRead), UsageBit.EnabledSoftirq)]).toBe('IN-SOFTIRQ-R');
    expect(conflictingUsage(bit(UsageBit.UsedInSoftirqRead), UsageBit.EnabledSoftirqRead)).toBe(-1);
    // Different interrupts never conflict.
    expect(conflictingUsage(bit(UsageBit.EnabledHardirq), UsageBit.UsedInSoftirq)).toBe(-1);
  });

  function usages(map: Record<number, number[]>): (c: number) => ClassUsage {
    return (c) => ({ mask: (map[c] ?? []).reduce((m, b) => m | (1 << b), 0), seq: () => 0 });
  }

  it('an irq-safe lock that takes an irq-unsafe one, directly or through a chain, is an inversion', () => {
    const g = new LockOrderGraph();
    g.addEdge(dep(X, Y, DepBit.EN));
    g.addEdge(dep(Y, Z, DepBit.EN));
    const found = findIrqInversions(g, 3, usages({ [X]: [UsageBit.UsedInHardirq], [Z]: [UsageBit.EnabledHardirq] }), new Set());
    expect(found.map((f) => [f.state, f.safe, f.unsafe, f.path.length])).toEqual([['HARDIRQ', X, Z, 2]]);
    // Each pair once.
    const reported = new Set(['HARDIRQ:0->2']);
    expect(findIrqInversions(g, 3, usages({ [X]: [UsageBit.UsedInHardirq], [Z]: [UsageBit.EnabledHardirq] }), reported)).toEqual([]);
  });

  it('read usages count only where the path lets them (irq_inversion_*_rlock, irq_read_recursion3_*_rlock)', () => {
    // A taken in the irq for read, A -(ER)-> B, B taken for read with irqs on: no deadlock.
    const g = new LockOrderGraph();
    g.addEdge(dep(X, Y, DepBit.ER));
    expect(findIrqInversions(g, 2, usages({ [X]: [UsageBit.UsedInHardirqRead], [Y]: [UsageBit.EnabledHardirqRead] }), new Set())).toEqual([]);
    // ... but B taken for write with irqs on is one.
    expect(findIrqInversions(g, 2, usages({ [X]: [UsageBit.UsedInHardirqRead], [Y]: [UsageBit.EnabledHardirq] }), new Set())).toHaveLength(1);
    // A read-only irq-safe lock that is held as a reader on the path: the path must leave it exclusively.
    const s = new LockOrderGraph();
    s.addEdge(dep(X, Y, DepBit.SN));
    expect(findIrqInversions(s, 2, usages({ [X]: [UsageBit.UsedInHardirqRead], [Y]: [UsageBit.EnabledHardirq] }), new Set())).toEqual([]);
    expect(findIrqInversions(s, 2, usages({ [X]: [UsageBit.UsedInHardirq], [Y]: [UsageBit.EnabledHardirq] }), new Set())).toHaveLength(1);
  });

  it('the newest event decides the report: a dependency after both usages, or the usage set last', () => {
    const g = new LockOrderGraph();
    g.addEdge({ ...dep(X, Y, DepBit.EN), seq: 0 });
    const at = (safeSeq: number, unsafeSeq: number) => (c: number): ClassUsage => ({
      mask: c === X ? 1 << UsageBit.UsedInHardirq : 1 << UsageBit.EnabledHardirq,
      seq: () => (c === X ? safeSeq : unsafeSeq),
    });
    expect(findIrqInversions(g, 2, at(0, 0), new Set())[0]?.closedBy).toBe('dependency');
    expect(findIrqInversions(g, 2, at(1, 0), new Set())[0]?.closedBy).toBe('safe');
    expect(findIrqInversions(g, 2, at(0, 1), new Set())[0]?.closedBy).toBe('unsafe');
    expect(findIrqInversions(g, 2, at(2, 1), new Set())[0]?.closedBy).toBe('safe');
  });
});
