/**
 * Per-op timing (src/runner/op-timing.ts): the region exists only when asked for; every op is
 * recorded once, with its op index; an op ended by a teardown is counted with the time until then,
 * whether its thread left on its own or was terminated; leaked references are summed. Durations
 * are only checked to be whole, non-negative numbers: no timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import { LimitError } from '../../src/errors.js';
import {
  SharedMemory,
  computeLayout,
  kDefaultCapacities,
  kMaxOpTimingSamples,
  kOpSampleWords,
  kOpTimingHeaderWords,
} from '../../src/layout.js';
import { type OpTimes, OpTimer, closeOpenOps, readOpTimes } from '../../src/runner/op-timing.js';
import type { Finding } from '../../src/runner/findings.js';
import { resolveStressOptions } from '../../src/runner/options.js';
import { runStress } from '../../src/runner/run-stress.js';
import type { VariantVerdict } from '../../src/runner/verdict.js';
import { compiledPath } from '../helpers/compiled.js';

const timed = (samples: number, threads = 3): SharedMemory => SharedMemory.create({ ...kDefaultCapacities, threads, opTimingSamples: samples });
const wellFormed = (times: OpTimes): void => {
  for (const ns of times.durationsNs) expect(Number.isInteger(ns) && ns >= 0).toBe(true);
  expect(times.ops).toHaveLength(times.durationsNs.length);
};

describe('per-op timing on plain memory', () => {
  it('takes no room and gives no timer unless asked for', () => {
    const off = computeLayout(kDefaultCapacities);
    expect(off.opTimingWords).toBe(0);
    const memory = SharedMemory.create(kDefaultCapacities);
    expect(OpTimer.forThread(memory, 0)).toBeNull();
    expect(readOpTimes(memory, [0], ['X'])).toBeNull();
    closeOpenOps(memory, [0]); // a no-op
    const on = computeLayout({ ...kDefaultCapacities, opTimingSamples: 100 });
    expect(on.opTimingWords).toBe(kOpTimingHeaderWords + 100 * kOpSampleWords);
    expect(on.totalBytes - off.totalBytes).toBeGreaterThanOrEqual(kDefaultCapacities.threads * on.opTimingWords * 4);
    // Every other region stays where it was.
    expect({ ...on, opTiming: 0, opTimingWords: 0, stringBytesOffset: 0, totalBytes: 0, capacities: null }).toEqual({
      ...off,
      opTiming: 0,
      opTimingWords: 0,
      stringBytesOffset: 0,
      totalBytes: 0,
      capacities: null,
    });
  });

  it(`refuses more than ${kMaxOpTimingSamples} samples per thread`, () => {
    expect(() => computeLayout({ ...kDefaultCapacities, opTimingSamples: kMaxOpTimingSamples + 1 })).toThrow(LimitError);
  });

  it('records each op once, with its index, thread by thread', () => {
    const memory = timed(10);
    const t0 = OpTimer.forThread(memory, 0);
    const t2 = OpTimer.forThread(memory, 2);
    t0?.begin(1);
    t0?.end();
    t2?.begin(0);
    t2?.end();
    t0?.begin(3);
    t0?.end();
    const times = readOpTimes(memory, [0, 1, 2], ['A', 'B', 'C', 'D']);
    expect(times).toMatchObject({ ops: [1, 3, 0], opNames: ['A', 'B', 'C', 'D'], dropped: 0, tornDown: 0, leakedRefs: 0 });
    if (times !== null) wellFormed(times);
  });

  it('counts an op a teardown ended, once, and nothing when no op was open', () => {
    const memory = timed(10);
    const timer = OpTimer.forThread(memory, 0);
    timer?.abandon(); // at a barrier: no op open
    timer?.begin(2);
    timer?.abandon();
    timer?.abandon(); // already closed
    expect(readOpTimes(memory, [0], ['A', 'B', 'C'])).toMatchObject({ ops: [2], tornDown: 1 });
  });

  it('the main thread closes the op of a terminated thread from its published start, once', () => {
    const memory = timed(10);
    OpTimer.forThread(memory, 1)?.begin(4); // then the worker "dies"
    closeOpenOps(memory, [0, 1]);
    closeOpenOps(memory, [1]);
    const times = readOpTimes(memory, [0, 1], ['A', 'B', 'C', 'D', 'E']);
    expect(times).toMatchObject({ ops: [4], tornDown: 1 });
    if (times !== null) wellFormed(times);
  });

  it('counts the ops past a full record as dropped', () => {
    const memory = timed(2);
    const timer = OpTimer.forThread(memory, 0);
    for (let i = 0; i < 5; i++) {
      timer?.begin(0);
      timer?.end();
    }
    expect(readOpTimes(memory, [0], ['A'])).toMatchObject({ dropped: 3 });
    expect(readOpTimes(memory, [0], ['A'])?.durationsNs).toHaveLength(2);
  });

  it('sums the references the refcount-leak findings hold, and nothing else', () => {
    const memory = timed(2);
    const leak = (count: number): Finding => ({
      kind: 'refcount-leak',
      round: 1,
      thread: -1,
      locks: [],
      message: '',
      key: 'k',
      evidence: { refcount: 'kvm->users_count', count, holders: [] },
    });
    const invariant: Finding = { kind: 'invariant', round: 1, thread: -1, locks: [], message: 'x', key: 'x', evidence: { text: 'x' } };
    const timer = OpTimer.forThread(memory, 0);
    timer?.addLeaks([leak(2), invariant]);
    timer?.addLeaks([leak(3)]);
    expect(readOpTimes(memory, [0, 1], ['A'])?.leakedRefs).toBe(5);
  });
});

describe('per-op timing in the engine', () => {
  const abba = compiledPath('test/fixtures/scenarios/forced-abba.js');
  const spinner = compiledPath('test/fixtures/scenarios/abba-and-spinner.js');
  const timedRun = async (scenario: string, threads: number, rounds: number): Promise<Array<{ verdict: VariantVerdict; times: OpTimes }>> => {
    const out: Array<{ verdict: VariantVerdict; times: OpTimes }> = [];
    await runStress(resolveStressOptions({ scenario, threads, rounds, seed: 1, durationMs: 60_000, hangMs: 200 }), {
      opTiming: { samplesPerThread: 64, variantTimed: (verdict, times) => out.push({ verdict, times }) },
    });
    return out;
  };

  it('a deadlocked op is counted with the time until its round was torn down', async () => {
    const [run] = await timedRun(abba, 2, 3);
    expect(run?.verdict.abortedRounds).toBe(3);
    // Every round: both ops were in the cycle, each recorded once, as torn down.
    expect(run?.times.durationsNs).toHaveLength(6);
    expect(run?.times.tornDown).toBe(6);
    expect([...new Set(run?.times.ops.map((i) => run.times.opNames[i]))].sort()).toEqual(['AB', 'BA']);
    if (run !== undefined) wellFormed(run.times);
  }, 60_000);

  it('ops that finish are recorded and none counts as torn down', async () => {
    const [run] = await timedRun(abba, 1, 4);
    expect(run?.verdict.abortedRounds).toBe(0);
    expect(run?.times).toMatchObject({ tornDown: 0, dropped: 0, leakedRefs: 0 });
    expect(run?.times.durationsNs).toHaveLength(8);
  }, 60_000);

  it('the op of a thread that had to be terminated is closed by the main thread', async () => {
    const [run] = await timedRun(spinner, 3, 2);
    expect(run?.verdict.seen).toContain('deadlock');
    expect(run?.times.durationsNs).toHaveLength(6);
    expect(run?.times.tornDown).toBe(6);
    const spins = run?.times.ops.filter((i) => run.times.opNames[i] === 'SPIN');
    expect(spins).toHaveLength(2);
  }, 60_000);

  it('asked for 0 samples per thread, it stays off: no samples are handed out', async () => {
    let called = false;
    const run = await runStress(resolveStressOptions({ scenario: abba, threads: 1, rounds: 2, seed: 1 }), {
      opTiming: { samplesPerThread: 0, variantTimed: () => (called = true) },
    });
    expect(run.variants[0]?.rounds).toBe(2);
    expect(called).toBe(false);
  }, 60_000);
});
