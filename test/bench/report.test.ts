/** The bench's report and options on plain data: ratios, targets, the JSON shape, bad input. */
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../bench/bench-result.js';
import { benchConfig, parseThreadCounts } from '../../bench/config.js';
import { computeRatios, formatRatios, isMet, toBenchJson } from '../../bench/report.js';
import { ConfigError } from '../../src/errors.js';

const result = (name: string, nsPerOp: number, threads = 1): BenchResult => ({
  name,
  threads,
  nsPerOp,
  opsPerSec: Math.round((1e9 / nsPerOp) * threads),
  rme: 1,
  samples: 10,
});

const all = [
  result('raw-cas/uncontended', 10),
  result('futex-mutex/uncontended', 11),
  result('futex-mutex+tracking/uncontended', 44),
  result('async-mutex/uncontended', 550),
  result('v8-atomics-mutex/uncontended', 22),
  result('futex-mutex/contended', 999, 2),
];

describe('headline ratios', () => {
  it('divide the single-thread results named in the issue', () => {
    const ratios = Object.fromEntries(computeRatios(all).map((r) => [r.key, r.value]));
    expect(ratios).toEqual({ mutexVsRawCas: 1.1, trackingOnVsOff: 4, asyncMutexVsMutex: 50, mutexVsV8Mutex: 0.5 });
  });

  it('are met or not met against their targets', () => {
    const met = Object.fromEntries(computeRatios(all).map((r) => [r.key, isMet(r)]));
    expect(met).toEqual({ mutexVsRawCas: true, trackingOnVsOff: false, asyncMutexVsMutex: true, mutexVsV8Mutex: true });
    const text = formatRatios(computeRatios(all));
    expect(text).toMatch(/tracking on \/ off .*NOT met/);
    expect(text).toMatch(/raw CAS pair .*: met/);
  });

  it('a ratio whose input is unavailable is null, in the text and the JSON', () => {
    const withoutV8 = all.filter((r) => !r.name.startsWith('v8-'));
    const ratios = computeRatios(withoutV8);
    expect(ratios.find((r) => r.key === 'mutexVsV8Mutex')?.value).toBeNull();
    const json = toBenchJson(withoutV8, ratios, [{ name: 'v8-atomics-mutex/uncontended', reason: 'no flag' }], 2) as {
      ratios: Record<string, number | null>;
    };
    expect(json.ratios.mutexVsV8Mutex).toBeNull();
    expect(formatRatios(ratios)).toMatch(/V8 Atomics.Mutex .*unavailable/);
  });

  it('the JSON document has the issue\'s shape', () => {
    const json = JSON.parse(JSON.stringify(toBenchJson(all, computeRatios(all), [], 2))) as Record<string, unknown>;
    expect(json).toMatchObject({ tool: 'lockstress', node: process.version, cpus: 2 });
    expect(json.results).toEqual(all);
    expect(Object.keys(json.ratios as object).sort()).toEqual(['asyncMutexVsMutex', 'mutexVsRawCas', 'mutexVsV8Mutex', 'trackingOnVsOff']);
  });
});

describe('bench options', () => {
  it('LOCKSTRESS_BENCH_THREADS defaults to 1,2,4 and takes a list', () => {
    expect(benchConfig({}, []).threadCounts).toEqual([1, 2, 4]);
    expect(benchConfig({ LOCKSTRESS_BENCH_THREADS: '3, 1' }, []).threadCounts).toEqual([3, 1]);
  });

  it.each(['0', 'abc', '2,,4', '2,', '65', '1.5'])('LOCKSTRESS_BENCH_THREADS=%j is refused, naming the variable and value', (text) => {
    expect(() => parseThreadCounts(text)).toThrow(ConfigError);
    expect(() => parseThreadCounts(text)).toThrow(`LOCKSTRESS_BENCH_THREADS=${JSON.stringify(text)}`);
  });

  it('LOCKSTRESS_BENCH_TIME_MS and the flags are read', () => {
    const config = benchConfig({ LOCKSTRESS_BENCH_TIME_MS: '25', LOCKSTRESS_THREADS: '2' }, ['--json']);
    expect(config).toMatchObject({ timeMs: 25, stressThreads: 2, json: true, help: false });
    expect(() => benchConfig({ LOCKSTRESS_BENCH_TIME_MS: '0' }, [])).toThrow('LOCKSTRESS_BENCH_TIME_MS="0"');
    expect(() => benchConfig({}, ['--fast'])).toThrow(ConfigError);
  });
});
