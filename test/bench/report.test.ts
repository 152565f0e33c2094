/** The bench's report and options on plain data: ratios, their spread, targets, the JSON shape, bad input. */
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../bench/bench-result.js';
import { benchConfig, parseThreadCounts } from '../../bench/config.js';
import {
  type RoundRatios,
  computeRatios,
  formatRatios,
  formatRepeats,
  isMet,
  rangeCrossesTarget,
  repeatSpread,
  summarize,
  toBenchJson,
} from '../../bench/report.js';
import { ConfigError } from '../../src/errors.js';

const result = (name: string, nsPerOp: number, threads = 1): BenchResult => ({
  name,
  threads,
  nsPerOp,
  opsPerSec: Math.round((1e9 / nsPerOp) * threads),
  rme: 1,
  samples: 10,
});

const results = [result('raw-cas/uncontended', 10), result('futex-mutex/uncontended', 11), result('futex-mutex/contended', 999, 2)];

/** One measurement: per-round ratios of every headline ratio. */
const rounds: RoundRatios = {
  mutexVsRawCas: [1.1, 1.05, 1.3, 1.08, 1.12],
  trackingOnVsOff: [4, 3.5, 4.5],
  asyncMutexVsMutex: [50, 60, 40, 20],
  mutexVsV8Mutex: [0.5, 0.6],
  roundsVsBarrierLimit4: [0.13, 0.05, 0.6],
  roundsVsBarrierLimit2: [0.35, 0.31],
};
const method = { rounds: 20, roundMs: 50, warmupMs: 250, repeat: 1 };
const byKey = <T>(values: Array<{ key: string } & T>): Record<string, T> => Object.fromEntries(values.map((v) => [v.key, v]));

describe('headline ratios', () => {
  it('are the median of the per-round ratios, with min, max and the number of rounds', () => {
    const ratios = byKey(computeRatios([rounds]));
    expect(ratios.mutexVsRawCas?.stats).toEqual({ median: 1.1, min: 1.05, max: 1.3, rounds: 5 });
    expect(ratios.asyncMutexVsMutex?.stats).toEqual({ median: 45, min: 20, max: 60, rounds: 4 });
    expect(ratios.mutexVsV8Mutex?.value).toBe(0.55);
  });

  it('pool the rounds of every repeat', () => {
    const ratios = byKey(computeRatios([{ mutexVsRawCas: [1, 2] }, { mutexVsRawCas: [3, 4, 5] }]));
    expect(ratios.mutexVsRawCas?.stats).toEqual({ median: 3, min: 1, max: 5, rounds: 5 });
  });

  it('are met or not met by their median, and say when their range crosses the target', () => {
    const ratios = computeRatios([rounds]);
    expect(Object.fromEntries(ratios.map((r) => [r.key, isMet(r)]))).toEqual({
      mutexVsRawCas: true,
      trackingOnVsOff: false,
      asyncMutexVsMutex: true,
      mutexVsV8Mutex: true,
      roundsVsBarrierLimit4: false,
      roundsVsBarrierLimit2: true,
    });
    expect(Object.fromEntries(ratios.map((r) => [r.key, rangeCrossesTarget(r)]))).toEqual({
      mutexVsRawCas: true,
      trackingOnVsOff: false,
      asyncMutexVsMutex: true,
      mutexVsV8Mutex: false,
      roundsVsBarrierLimit4: true,
      roundsVsBarrierLimit2: false,
    });
    const text = formatRatios(ratios, method);
    expect(text).toMatch(/raw CAS pair +1\.10 +1\.05-1\.30 +5 +<= 1\.1 +met; range crosses the target \(2 of 5 rounds not met\)/);
    expect(text).toMatch(/tracking on \/ off +4\.00 +3\.50-4\.50 +3 +<= 2 +NOT met$/m);
    expect(text).toMatch(/async-mutex \/ FutexMutex .*>= 30 +met; range crosses the target \(1 of 4 rounds not met\)/);
    expect(text).toMatch(/V8 Atomics\.Mutex .*<= 1 +met$/m);
    expect(text).toMatch(/stress rounds \/ barrier limit, 4 threads +0\.13 +0\.05-0\.60 +3 +>= 0\.5 +NOT met; range crosses the target \(1 of 3 rounds met\)/);
    expect(text).toMatch(/stress rounds \/ barrier limit, 2 threads +0\.33 .*>= 0\.3 +met$/m);
    expect(text).toContain('20 rounds of 50.0 ms per side');
  });

  it('a ratio with no rounds is unavailable: null in the JSON, "unavailable" in the text', () => {
    const { mutexVsV8Mutex: _, ...withoutV8 } = rounds;
    const ratios = computeRatios([withoutV8]);
    expect(byKey(ratios).mutexVsV8Mutex).toMatchObject({ value: null, stats: null });
    const json = toBenchJson(results, ratios, [{ name: 'v8-atomics-mutex/uncontended', reason: 'no flag' }], 2, {
      measurements: [withoutV8],
      interrupted: false,
    }) as { ratios: Record<string, number | null>; ratioStats: Record<string, unknown>; targets: Record<string, { met: boolean | null }> };
    expect(json.ratios.mutexVsV8Mutex).toBeNull();
    expect(json.ratioStats.mutexVsV8Mutex).toBeNull();
    expect(json.targets.mutexVsV8Mutex?.met).toBeNull();
    expect(formatRatios(ratios, method)).toMatch(/V8 Atomics.Mutex +n\/a .*unavailable/);
  });

  it('the JSON keeps `ratios` as one number per key (the median) and adds ratioStats beside it', () => {
    const measurements = [rounds, { ...rounds, mutexVsRawCas: [1.2, 1.2, 1.2] }];
    const ratios = computeRatios(measurements);
    const json = JSON.parse(JSON.stringify(toBenchJson(results, ratios, [], 2, { measurements, interrupted: true }))) as {
      ratios: Record<string, number>;
      ratioStats: Record<string, { median: number; min: number; max: number; rounds: number }>;
      ratioRepeats: Record<string, { medians: number[]; min: number; max: number; spreadPct: number }>;
      targets: Record<string, { op: string; value: number; met: boolean; rangeCrossesTarget: boolean }>;
      repeat: number;
      interrupted: boolean;
    } & Record<string, unknown>;
    expect(json).toMatchObject({ tool: 'lockstress', node: process.version, cpus: 2, repeat: 2, interrupted: true });
    expect(json.results).toEqual(results);
    const keys = ['asyncMutexVsMutex', 'mutexVsRawCas', 'mutexVsV8Mutex', 'roundsVsBarrierLimit2', 'roundsVsBarrierLimit4', 'trackingOnVsOff'];
    expect(Object.keys(json.ratios).sort()).toEqual(keys);
    expect(Object.keys(json.ratioStats).sort()).toEqual(keys);
    for (const key of keys) {
      expect(typeof json.ratios[key]).toBe('number');
      expect(json.ratioStats[key]?.median).toBe(json.ratios[key]);
    }
    expect(json.ratioStats.mutexVsRawCas).toEqual({ median: 1.16, min: 1.05, max: 1.3, rounds: 8 });
    expect(json.ratioRepeats.mutexVsRawCas).toEqual({ medians: [1.1, 1.2], min: 1.1, max: 1.2, spreadPct: 9.1 });
    expect(json.targets.mutexVsRawCas).toEqual({ op: '<=', value: 1.1, met: false, rangeCrossesTarget: true });
  });
});

describe('summaries', () => {
  it('the median of an even count is the mean of the middle two', () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, rounds: 4 });
    expect(summarize([])).toBeNull();
  });

  it('--repeat prints each repeat\'s median and their spread, largest / smallest - 1', () => {
    const measurements: RoundRatios[] = [{ mutexVsRawCas: [1.0] }, { mutexVsRawCas: [1.15] }, { mutexVsRawCas: [1.1] }];
    expect(repeatSpread(measurements, 'mutexVsRawCas')).toEqual({ medians: [1, 1.15, 1.1], min: 1, max: 1.15, spreadPct: 15 });
    expect(repeatSpread(measurements, 'mutexVsV8Mutex')).toBeNull();
    const text = formatRepeats(measurements);
    expect(text).toContain('headline medians of 3 repeats');
    expect(text).toMatch(/raw CAS pair +1\.00 1\.15 1\.10 +spread 15\.0%/);
    expect(text).toMatch(/V8 Atomics\.Mutex +n\/a/);
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
    expect(config).toMatchObject({ timeMs: 25, stressThreads: 2, json: true, help: false, repeat: 1 });
    expect(() => benchConfig({ LOCKSTRESS_BENCH_TIME_MS: '0' }, [])).toThrow('LOCKSTRESS_BENCH_TIME_MS="0"');
    expect(() => benchConfig({}, ['--fast'])).toThrow(ConfigError);
  });

  it('--plot DIR names the chart\'s folder; none by default', () => {
    expect(benchConfig({}, []).plot).toBe('');
    expect(benchConfig({}, ['--plot', 'out/charts']).plot).toBe('out/charts');
    expect(benchConfig({}, ['--plot=x', '--json'])).toMatchObject({ plot: 'x', json: true });
    expect(() => benchConfig({}, ['--plot'])).toThrow('--plot: missing folder');
    expect(() => benchConfig({}, ['--plot', '--json'])).toThrow('--plot: missing folder');
    expect(() => benchConfig({}, ['--plot='])).toThrow('--plot="": expected a folder');
  });

  it('--headline-only skips the suites; off by default', () => {
    expect(benchConfig({}, []).headlineOnly).toBe(false);
    expect(benchConfig({}, ['--headline-only', '--repeat', '5'])).toMatchObject({ headlineOnly: true, repeat: 5 });
  });

  it('--repeat N and LOCKSTRESS_BENCH_REPEAT set the repeats; the flag wins', () => {
    expect(benchConfig({}, ['--repeat', '5']).repeat).toBe(5);
    expect(benchConfig({}, ['--repeat=3', '--json'])).toMatchObject({ repeat: 3, json: true });
    expect(benchConfig({ LOCKSTRESS_BENCH_REPEAT: '4' }, []).repeat).toBe(4);
    expect(benchConfig({ LOCKSTRESS_BENCH_REPEAT: '4' }, ['--repeat', '2']).repeat).toBe(2);
  });

  it.each([
    [{ LOCKSTRESS_BENCH_REPEAT: '0' }, [], 'LOCKSTRESS_BENCH_REPEAT="0"'],
    [{ LOCKSTRESS_BENCH_REPEAT: 'two' }, [], 'LOCKSTRESS_BENCH_REPEAT="two"'],
    [{}, ['--repeat', '101'], '--repeat="101"'],
    [{}, ['--repeat=1.5'], '--repeat="1.5"'],
    [{}, ['--repeat'], '--repeat: missing value'],
    [{}, ['--repeat', '--json'], '--repeat: missing value'],
  ] as const)('bad repeat %j %j is refused, naming it: %s', (env, args, message) => {
    expect(() => benchConfig(env, args)).toThrow(ConfigError);
    expect(() => benchConfig(env, args)).toThrow(message);
  });
});
