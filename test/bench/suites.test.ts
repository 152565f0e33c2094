/**
 * Every bench suite, run with a tiny time budget: it finishes and yields well-formed results
 * under the names the README and the JSON promise. Behaviour only: no timing is asserted.
 * The suites start workers and a child process, which load compiled JavaScript, so the tests
 * import the compiled suites from dist/ (`npm test` builds first).
 */
import { describe, expect, it } from 'vitest';
import type { BenchResult, SuiteOutput } from '../../bench/bench-result.js';
import { compiledPath } from '../helpers/compiled.js';

type Contended = typeof import('../../bench/suites/contended.js');
type Uncontended = typeof import('../../bench/suites/uncontended.js');
type V8Mutex = typeof import('../../bench/suites/v8-mutex.js');
type VfioKvm = typeof import('../../bench/suites/vfio-kvm.js');
type Stress = typeof import('../../bench/suites/stress.js');
type Headline = typeof import('../../bench/headline.js');
type EngineLimit = typeof import('../../bench/suites/engine-limit.js');

const load = async <T>(path: string): Promise<T> => (await import(compiledPath(path))) as T;
const kTinyMs = 10;

function expectWellFormed(result: BenchResult): void {
  expect(result.name).toMatch(/^[a-z0-9+-]+\/[a-z0-9-]+(\/[a-z0-9-]+)?$/);
  expect(Number.isInteger(result.threads) && result.threads >= 1).toBe(true);
  for (const x of [result.nsPerOp, result.opsPerSec, result.rme, result.samples]) {
    expect(Number.isFinite(x) && x >= 0).toBe(true);
  }
  expect(result.nsPerOp).toBeGreaterThan(0);
  expect(result.samples).toBeGreaterThanOrEqual(1);
  if (result.shares !== undefined) {
    expect(result.shares).toHaveLength(result.threads);
    expect(result.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 1);
  }
}

const names = (output: SuiteOutput): string[] => output.results.map((r) => r.name);

describe('bench suites with a tiny budget', () => {
  it('uncontended gives one result per lock, async-mutex included', async () => {
    const { runUncontended } = await load<Uncontended>('bench/suites/uncontended.js');
    const output = await runUncontended(kTinyMs);
    expect(names(output)).toEqual([
      'raw-cas/uncontended',
      'futex-mutex/uncontended',
      'futex-mutex+tracking/uncontended',
      'spinlock/uncontended',
      'ticket-spinlock/uncontended',
      'async-mutex/uncontended',
      'async-mutex/run-exclusive',
    ]);
    output.results.forEach(expectWellFormed);
    expect(output.results.every((r) => r.threads === 1)).toBe(true);
  });

  it('V8 Atomics.Mutex gives its result or says it is unavailable, never an error', async () => {
    const { runV8Mutex } = await load<V8Mutex>('bench/suites/v8-mutex.js');
    const output = await runV8Mutex(kTinyMs);
    expect(output.results.length + output.unavailable.length).toBe(1);
    for (const r of output.results) {
      expect(r.name).toBe('v8-atomics-mutex/uncontended');
      expectWellFormed(r);
    }
    for (const u of output.unavailable) expect(u.name).toBe('v8-atomics-mutex/uncontended');
  }, 30_000);

  it('contended gives one entry per lock and thread count, with each thread\'s share', async () => {
    const { runContended } = await load<Contended>('bench/suites/contended.js');
    const output = await runContended(kTinyMs, [1, 2]);
    expect(output.results.map((r) => `${r.name}@${r.threads}`)).toEqual([
      'futex-mutex/contended@1',
      'futex-mutex/contended@2',
      'spinlock/contended@1',
      'spinlock/contended@2',
      'ticket-spinlock/contended@1',
      'ticket-spinlock/contended@2',
    ]);
    output.results.forEach(expectWellFormed);
    expect(output.results.every((r) => r.shares?.length === r.threads)).toBe(true);
  }, 30_000);

  it('handoff gives the futex and the spin ping-pong between 2 threads', async () => {
    const { runHandoff } = await load<Contended>('bench/suites/contended.js');
    const output = await runHandoff(kTinyMs);
    expect(names(output)).toEqual(['handoff/futex', 'handoff/spin']);
    output.results.forEach(expectWellFormed);
    expect(output.results.every((r) => r.threads === 2)).toBe(true);
  }, 30_000);

  it('vfio/kvm gives open+close for both variants, on one thread and contended', async () => {
    const { runVfioKvm } = await load<VfioKvm>('bench/suites/vfio-kvm.js');
    const output = await runVfioKvm(kTinyMs, 2);
    expect(output.results.map((r) => `${r.name}@${r.threads}`)).toEqual([
      'vfio-kvm/open-close/51cdc8bc@1',
      'vfio-kvm/open-close/51cdc8bc@2',
      'vfio-kvm/open-close/2b48f52f2bff@1',
      'vfio-kvm/open-close/2b48f52f2bff@2',
    ]);
    output.results.forEach(expectWellFormed);
  }, 30_000);

  it('stress throughput sums the runner\'s lock acquisitions', async () => {
    const { runStressThroughput } = await load<Stress>('bench/suites/stress.js');
    const output = await runStressThroughput(100, 2);
    expect(names(output)).toEqual(['stress/2b48f52f2bff']);
    const [result] = output.results;
    expect(result?.threads).toBe(2);
    expect(result?.acquisitions).toBeGreaterThan(0);
    output.results.forEach(expectWellFormed);
  }, 30_000);

  it('the headline gives every ratio its rounds, or says why the V8 one is unavailable', async () => {
    const { measureHeadline, kHeadlineRounds } = await load<Headline>('bench/headline.js');
    const { kEngineRounds, engineResults } = await load<EngineLimit>('bench/suites/engine-limit.js');
    const { rounds, unavailable, engine } = await measureHeadline(kTinyMs, {}, [1]);
    for (const key of ['mutexVsRawCas', 'trackingOnVsOff', 'asyncMutexVsMutex'] as const) {
      expect(rounds[key], key).toHaveLength(kHeadlineRounds);
      expect(rounds[key]?.every((x) => Number.isFinite(x) && x > 0)).toBe(true);
    }
    // The engine against its barrier's limit: one ratio per round at 2 and at 4 threads.
    for (const key of ['roundsVsBarrierLimit2', 'roundsVsBarrierLimit4'] as const) {
      expect(rounds[key], key).toHaveLength(kEngineRounds);
      expect(rounds[key]?.every((x) => Number.isFinite(x) && x > 0)).toBe(true);
    }
    const limits = engineResults(engine === null ? [] : [engine]);
    expect(limits.map((r) => `${r.name}@${r.threads}`)).toEqual([
      'barrier/limit@1',
      'barrier/limit@2',
      'barrier/limit@4',
      'stress-rounds/2b48f52f2bff@2',
      'stress-rounds/2b48f52f2bff@4',
    ]);
    limits.forEach(expectWellFormed);
    for (const r of limits.filter((x) => x.name.startsWith('stress-rounds'))) expect(r.acquisitionsPerSec).toBeGreaterThan(0);
    if (rounds.mutexVsV8Mutex === undefined) {
      expect(unavailable.map((u) => u.name)).toEqual(['mutexVsV8Mutex (headline)']);
    } else {
      expect(rounds.mutexVsV8Mutex).toHaveLength(kHeadlineRounds);
      expect(unavailable).toEqual([]);
    }
  }, 60_000);

  it('an aborted headline measures nothing and starts no thread', async () => {
    const { measureHeadline } = await load<Headline>('bench/headline.js');
    const { rounds, unavailable, engine } = await measureHeadline(kTinyMs, { signal: AbortSignal.abort() });
    expect(rounds).toEqual({});
    expect(unavailable).toEqual([]);
    expect(engine).toBeNull();
  });
});
