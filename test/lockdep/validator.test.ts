/**
 * The validator through the scenario API, on one thread (an in-process world): read modes,
 * nesting annotations, irq usage, held-at-return and completion dependencies. Each detector has
 * its broken case (the finding, with its locks) and its fixed twin (clean).
 */
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/errors.js';
import { SharedLockOrderGraph } from '../../src/lockdep/lock-order-graph.js';
import type { Operation, Scenario } from '../../src/scenarios/contract.js';
import { createInProcessWorld } from '../../src/scenarios/in-process-world.js';
import { classNameOf } from '../../src/primitives/lock-table.js';

function world(ops: Record<string, Operation>, objects: Scenario['objects']) {
  const scenario: Scenario = { name: 'validator', description: '', objects, ops, plan: () => [[]], variants: [{ name: 'v', description: '', expect: 'clean' }] };
  const w = createInProcessWorld(scenario, 'v');
  w.resetRound(1);
  const graph = new SharedLockOrderGraph(w.memory, w.strings);
  const name = (c: number): string => classNameOf(w.memory, w.strings, c);
  return {
    w,
    run: (...names: string[]) => names.forEach((n) => w.run(n)),
    kinds: () => w.drainFindings().map((f) => f.kind),
    cycles: () => graph.poll().map((c) => c.classes.map(name)),
    inversions: () => {
      graph.poll();
      return graph.irqInversions().map((i) => `${i.state}:${name(i.safe)}->${name(i.unsafe)}`);
    },
    edges: () => {
      graph.poll();
      return graph.graph.edges().map((e) => `${name(e.from)} -> ${name(e.to)}`);
    },
  };
}

const rw = {
  locks: {
    X1: { class: 'X', kind: 'rwlock' as const },
    X2: { class: 'X', kind: 'rwlock' as const },
    S1: { class: 'S', kind: 'rwsem' as const },
    S2: { class: 'S', kind: 'rwsem' as const },
    M: { class: 'M' },
  },
};

describe('read/write locks', () => {
  it('read_lock under a read_lock of its class is allowed; down_read under down_read is recursive-lock', () => {
    const t = world(
      {
        RLOCK: (ctx) => {
          ctx.locks.X1?.readLock('first');
          ctx.locks.X2?.readLock('second');
          ctx.locks.X2?.readUnlock('second');
          ctx.locks.X1?.readUnlock('first');
        },
        RSEM: (ctx) => {
          ctx.locks.S1?.readLock('first');
          ctx.locks.S2?.readLock('second');
          ctx.locks.S2?.readUnlock('second');
          ctx.locks.S1?.readUnlock('first');
        },
      },
      rw,
    );
    t.run('RLOCK');
    expect(t.kinds()).toEqual([]);
    t.run('RSEM');
    expect(t.kinds()).toEqual(['recursive-lock']);
  });

  it('an ABBA of readers is no cycle; the same ABBA taking the inner lock for write is', () => {
    const abba = (a: string, b: string, write: boolean): Operation => (ctx) => {
      ctx.locks[a]?.readLock('outer');
      if (write) ctx.locks[b]?.lock('inner');
      else ctx.locks[b]?.readLock('inner');
      if (write) ctx.locks[b]?.unlock('inner');
      else ctx.locks[b]?.readUnlock('inner');
      ctx.locks[a]?.readUnlock('outer');
    };
    const objects = { locks: { A: { class: 'A', kind: 'rwlock' as const }, B: { class: 'B', kind: 'rwlock' as const } } };
    const readers = world({ AB: abba('A', 'B', false), BA: abba('B', 'A', false) }, objects);
    readers.run('AB', 'BA');
    expect(readers.cycles()).toEqual([]);
    // read A, write B / read B, write A: each writer waits for the other's reader.
    const writer = world({ AB: abba('A', 'B', true), BA: abba('B', 'A', true) }, objects);
    writer.run('AB', 'BA');
    expect(writer.cycles()).toEqual([['A', 'B']]);
    expect(writer.kinds()).toEqual([]);
  });

  it('a lock held for read gates nothing: an ABBA under down_read(G) is a cycle, under down_write(G) it is not', () => {
    const under = (write: boolean, first: string, second: string): Operation => (ctx) => {
      if (write) ctx.locks.G?.lock('gate');
      else ctx.locks.G?.readLock('gate');
      ctx.locks[first]?.lock('first');
      ctx.locks[second]?.lock('second');
      ctx.locks[second]?.unlock('second');
      ctx.locks[first]?.unlock('first');
      if (write) ctx.locks.G?.unlock('gate');
      else ctx.locks.G?.readUnlock('gate');
    };
    const objects = { locks: { G: { class: 'G', kind: 'rwsem' as const }, A: { class: 'A' }, B: { class: 'B' } } };
    const readers = world({ AB: under(false, 'A', 'B'), BA: under(false, 'B', 'A') }, objects);
    readers.run('AB', 'BA');
    expect(readers.cycles()).toEqual([['A', 'B']]);
    const writers = world({ AB: under(true, 'A', 'B'), BA: under(true, 'B', 'A') }, objects);
    writers.run('AB', 'BA');
    expect(writers.cycles()).toEqual([]);
  });

  it('queued is for rwlocks only', () => {
    expect(() => world({}, { locks: { M: { class: 'M', queued: true } } })).toThrow("lock M: queued is for kind 'rwlock', not 'mutex'");
  });

  it('the read side of a mutex is a mistake in scenario code', () => {
    const t = world({ BAD: (ctx) => ctx.locks.M?.readLock('x') }, rw);
    expect(() => t.run('BAD')).toThrow(ScenarioError);
    expect(() => t.run('BAD')).toThrow("M is a mutex, which has no read side (declare kind: 'rwsem' or 'rwlock')");
  });
});

describe('nesting: five forks of one class', () => {
  const forks = Object.fromEntries([0, 1, 2, 3, 4].map((i) => [`fork${i}`, { class: 'fork' }]));
  const objects = { locks: { ...forks, table: { class: 'table' } } };
  const both = (ctx: Parameters<Operation>[0], i: number, take: (fork: string) => void): void => {
    take(`fork${i}`);
    take(`fork${(i + 1) % 5}`);
    ctx.locks[`fork${(i + 1) % 5}`]?.unlock('put_right');
    ctx.locks[`fork${i}`]?.unlock('put_left');
  };

  it('taking two forks of one class is recursive-lock, with no annotation', () => {
    const t = world({ EAT: (ctx) => both(ctx, 4, (f) => ctx.locks[f]?.lock('pick')) }, objects);
    t.run('EAT');
    expect(t.kinds()).toEqual(['recursive-lock']);
  });

  it('mutex_lock_nested for the second fork is clean, learning fork -> fork/1', () => {
    const t = world(
      {
        EAT: (ctx) => {
          ctx.locks.fork4?.lock('pick_left');
          ctx.locks.fork0?.lockNested('pick_right', 1);
          ctx.locks.fork0?.unlock('put_right');
          ctx.locks.fork4?.unlock('put_left');
        },
      },
      objects,
    );
    t.run('EAT');
    expect(t.kinds()).toEqual([]);
    expect(t.edges()).toEqual(['fork -> fork/1']);
  });

  it('every philosopher under the table lock (mutex_lock_nest_lock) is clean in any order; without the table it is lock-not-held', () => {
    const eat: Operation = (ctx) => {
      ctx.locks.table?.lock('sit_down');
      for (const i of [4, 0, 2, 1, 3]) both(ctx, i, (f) => ctx.locks[f]?.lockNestLock('pick', ctx.locks.table as never));
      ctx.locks.table?.unlock('leave');
    };
    const t = world({ EAT: eat, RUDE: (ctx) => both(ctx, 0, (f) => ctx.locks[f]?.lockNestLock('grab', ctx.locks.table as never)) }, objects);
    t.run('EAT');
    expect(t.kinds()).toEqual([]);
    expect(t.cycles()).toEqual([]);
    t.run('RUDE');
    // Each nest_lock acquisition without the table, and the second fork is then recursive too.
    expect(t.kinds()).toEqual(['lock-not-held', 'lock-not-held', 'recursive-lock']);
  });

  it('lockdep_set_class: a fork with a key of its own is a class of its own, printed name#2', () => {
    const t = world(
      { EAT: (ctx) => both(ctx, 0, (f) => ctx.locks[f]?.lock('pick')) },
      { locks: { ...forks, fork1: { class: 'fork', key: 'right_fork' } } },
    );
    t.run('EAT');
    expect(t.kinds()).toEqual([]);
    expect(t.edges()).toEqual(['fork -> fork#2']);
  });
});

describe('interrupt contexts', () => {
  const objects = { locks: { A: { class: 'lock_A', kind: 'spinlock' as const }, B: { class: 'lock_B', kind: 'spinlock' as const }, M: { class: 'mutex_M' } } };

  it('a spinlock taken in hardirq context and with irqs on is inconsistent-lock-state; spin_lock_irqsave is clean', () => {
    const inIrq: Operation = (ctx) =>
      ctx.inIrq('hardirq', () => {
        ctx.locks.A?.lock('irq_handler');
        ctx.locks.A?.unlock('irq_handler');
      });
    const broken = world({ IRQ: inIrq, PROC: (ctx) => { ctx.locks.A?.lock('process'); ctx.locks.A?.unlock('process'); } }, objects);
    broken.run('IRQ', 'PROC');
    expect(broken.kinds()).toEqual(['inconsistent-lock-state']);
    const fixed = world({ IRQ: inIrq, PROC: (ctx) => { const f = ctx.locks.A?.lockIrqsave('process') ?? 0; ctx.locks.A?.unlockIrqrestore('process', f); } }, objects);
    fixed.run('IRQ', 'PROC', 'IRQ');
    expect(fixed.kinds()).toEqual([]);
  });

  it('an irq-safe lock that takes a lock others hold with irqs on is irq-lock-inversion; the twin with irqs off is clean', () => {
    const ops = (bWithIrqsOff: boolean): Record<string, Operation> => ({
      IRQ: (ctx) => ctx.inIrq('hardirq', () => { ctx.locks.A?.lock('irq'); ctx.locks.A?.unlock('irq'); }),
      AB: (ctx) => { const f = ctx.locks.A?.lockIrqsave('ab') ?? 0; ctx.locks.B?.lock('ab'); ctx.locks.B?.unlock('ab'); ctx.locks.A?.unlockIrqrestore('ab', f); },
      B: (ctx) => {
        if (bWithIrqsOff) { ctx.locks.B?.lockIrq('b'); ctx.locks.B?.unlockIrq('b'); } else { ctx.locks.B?.lock('b'); ctx.locks.B?.unlock('b'); }
      },
    });
    const broken = world(ops(false), objects);
    broken.run('IRQ', 'AB', 'B');
    expect(broken.inversions()).toEqual(['HARDIRQ:lock_A->lock_B']);
    expect(broken.kinds()).toEqual([]);
    const fixed = world(ops(true), objects);
    fixed.run('IRQ', 'AB', 'B');
    expect(fixed.inversions()).toEqual([]);
    expect(fixed.kinds()).toEqual([]);
  });

  it('a mutex in an interrupt handler sleeps in atomic context; an interrupt cannot arrive with interrupts off', () => {
    const t = world({ IRQ: (ctx) => ctx.inIrq('softirq', () => { ctx.locks.M?.lock('timer_fn'); ctx.locks.M?.unlock('timer_fn'); }), OFF: (ctx) => { ctx.irq.disable(); try { ctx.inIrq('hardirq', () => undefined); } finally { ctx.irq.enable(); } } }, objects);
    t.run('IRQ');
    expect(t.kinds()).toEqual(['sleep-in-atomic']);
    expect(() => t.run('OFF')).toThrow('an interrupt cannot arrive while interrupts are disabled');
    expect(() => world({ X: (ctx) => ctx.locks.M?.lockIrq('m') }, objects).run('X')).toThrow('a sleeping lock, which cannot be taken with interrupts or softirqs off');
  });
});

describe('held at return', () => {
  it('each lock an operation leaves held is a held-at-return finding naming it and the site that took it', () => {
    const t = world({ LEAK: (ctx) => { ctx.locks.A?.lock('takes_A'); ctx.locks.B?.lock('takes_B'); ctx.locks.B?.unlock('takes_B'); } }, { locks: { A: { class: 'lock_A' }, B: { class: 'lock_B' } } });
    const tracker = t.w.thread(0).tracker;
    tracker?.beginOp(0);
    t.run('LEAK');
    tracker?.endOp();
    const findings = t.w.drainFindings();
    expect(findings.map((f) => f.kind)).toEqual(['held-at-return']);
    expect(findings[0]?.args).toEqual([1, t.w.strings.intern('takes_A'), 0, 1, 1]);
  });
});

describe('completions (DEPT-style dependencies)', () => {
  const objects = { locks: { L: { class: 'kvm->lock' } }, completions: { done: {} } };
  const complete: Operation = (ctx) => {
    ctx.locks.L?.lock('completer_takes_L');
    ctx.locks.L?.unlock('completer_takes_L');
    ctx.completions.done?.complete('completer_completes');
  };

  it('holding L while waiting for a completion that comes after taking L is a cycle, without the race', () => {
    const t = world(
      {
        COMPLETE: complete,
        WAIT: (ctx) => {
          ctx.locks.L?.lock('waiter_takes_L');
          ctx.completions.done?.waitForCompletion('waiter_waits');
          ctx.locks.L?.unlock('waiter_takes_L');
        },
      },
      objects,
    );
    // In this order nothing blocks: the completion is done before the wait.
    for (const op of ['COMPLETE', 'WAIT']) {
      t.w.thread(0).tracker?.beginOp(0);
      t.run(op);
      t.w.thread(0).tracker?.endOp();
    }
    expect(t.kinds()).toEqual([]);
    expect(t.cycles()).toEqual([['done', 'kvm->lock']]);
  });

  it('the twin that waits after releasing L is clean', () => {
    const t = world(
      {
        COMPLETE: complete,
        WAIT: (ctx) => {
          ctx.locks.L?.lock('waiter_takes_L');
          ctx.locks.L?.unlock('waiter_takes_L');
          ctx.completions.done?.waitForCompletion('waiter_waits');
        },
      },
      objects,
    );
    for (const op of ['COMPLETE', 'WAIT']) {
      t.w.thread(0).tracker?.beginOp(0);
      t.run(op);
      t.w.thread(0).tracker?.endOp();
    }
    expect(t.kinds()).toEqual([]);
    expect(t.cycles()).toEqual([]);
  });

  it('wait_for_completion under a spinlock sleeps in atomic context', () => {
    const t = world({ W: (ctx) => { ctx.completions.done?.complete('c'); ctx.locks.S?.lock('s'); ctx.completions.done?.waitForCompletion('w'); ctx.locks.S?.unlock('s'); } }, { locks: { S: { class: 'spin', kind: 'spinlock' } }, completions: { done: {} } });
    t.run('W');
    expect(t.kinds()).toEqual(['sleep-in-atomic']);
  });
});
