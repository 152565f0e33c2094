import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { kStressUsage, mergeOptions, optionsFromArgs, optionsFromEnv, resolveStressOptions } from '../../src/runner/options.js';

describe('stress options', () => {
  it('defaults fill every option and pick a seed', () => {
    const options = resolveStressOptions({});
    expect(options.threads).toBe(4);
    expect(options.durationMs).toBe(1500);
    expect(options.hangMs).toBe(500);
    expect(Number.isInteger(options.seed)).toBe(true);
  });

  it('flags win over the environment', () => {
    const options = resolveStressOptions({
      ...optionsFromEnv({ LOCKSTRESS_THREADS: '2', LOCKSTRESS_SEED: '7' }),
      ...optionsFromArgs(['--threads', '3']),
    });
    expect(options.threads).toBe(3);
    expect(options.seed).toBe(7);
  });

  it('reads every LOCKSTRESS_* variable', () => {
    const options = optionsFromEnv({
      LOCKSTRESS_THREADS: '8',
      LOCKSTRESS_SEED: '42',
      LOCKSTRESS_DURATION_MS: '250',
      LOCKSTRESS_ROUNDS: '10',
      LOCKSTRESS_HANG_MS: '100',
      LOCKSTRESS_MIN_ROUNDS: '7',
      LOCKSTRESS_VARIANT: 'a, b',
      LOCKSTRESS_SCENARIO: './x.js',
      LOCKSTRESS_STOP_ON_FIRST: '1',
      LOCKSTRESS_UNTIL_EXPECTED: '1',
      LOCKSTRESS_JSON: '1',
      LOCKSTRESS_JITTER: '0',
      LOCKSTRESS_SEEDS: '3',
      LOCKSTRESS_SHARD: '2/4',
      LOCKSTRESS_JUNIT: 'out.xml',
      LOCKSTRESS_SCHEDULE: 'pct',
      LOCKSTRESS_PCT_DEPTH: '2',
      LOCKSTRESS_REPLAY: 'lsr1.x',
      LOCKSTRESS_FULL: '1',
      LOCKSTRESS_STRIDE: '8',
    });
    expect(options).toEqual({
      threads: 8,
      seed: 42,
      durationMs: 250,
      rounds: 10,
      hangMs: 100,
      minRounds: 7,
      variants: ['a', 'b'],
      scenario: './x.js',
      origins: { variants: 'LOCKSTRESS_VARIANT', scenario: 'LOCKSTRESS_SCENARIO', junit: 'LOCKSTRESS_JUNIT', replay: 'LOCKSTRESS_REPLAY', html: '--html' },
      schedule: 'pct',
      pctDepth: 2,
      replay: 'lsr1.x',
      stopOnFirst: true,
      untilExpected: true,
      json: true,
      jitter: false,
      seeds: 3,
      shard: { index: 2, count: 4 },
      junit: 'out.xml',
      full: true,
      stride: 8,
    });
  });

  it('--stride N and LOCKSTRESS_STRIDE set the rounds per rendezvous (1..64); a bad value names its input', () => {
    expect(resolveStressOptions({}).stride).toBe(8);
    expect(optionsFromArgs(['--stride', '16']).stride).toBe(16);
    expect(mergeOptions(optionsFromEnv({ LOCKSTRESS_STRIDE: '4' }), optionsFromArgs(['--stride=2'])).stride).toBe(2);
    expect(() => optionsFromArgs(['--stride', 'abc'])).toThrow(ConfigError);
    expect(() => optionsFromArgs(['--stride', 'abc'])).toThrow(/--stride/);
    expect(() => optionsFromArgs(['--stride', '0'])).toThrow(/--stride/);
    expect(() => optionsFromEnv({ LOCKSTRESS_STRIDE: '65' })).toThrow(/LOCKSTRESS_STRIDE/);
  });

  it('--full runs the extended variants too, --quick (the default) does not; a bad LOCKSTRESS_FULL is an error', () => {
    expect(resolveStressOptions({}).full).toBe(false);
    expect(optionsFromArgs(['--full']).full).toBe(true);
    expect(mergeOptions(optionsFromEnv({ LOCKSTRESS_FULL: '1' }), optionsFromArgs(['--quick'])).full).toBe(false);
    expect(() => optionsFromEnv({ LOCKSTRESS_FULL: 'abc' })).toThrow(/LOCKSTRESS_FULL/);
  });

  it('--shard, --seeds and --junit take their values', () => {
    expect(optionsFromArgs(['--shard', '3/4', '--seeds', '2', '--junit=r.xml'])).toEqual({ shard: { index: 3, count: 4 }, seeds: 2, junit: 'r.xml' });
    const defaults = resolveStressOptions({});
    expect([defaults.shard, defaults.seeds, defaults.junit]).toEqual([null, 1, '']);
  });

  it('collects repeated --variant flags and --name=value forms', () => {
    expect(optionsFromArgs(['--variant', 'a', '--variant=b', '--seed=5']).variants).toEqual(['a', 'b']);
    expect(optionsFromArgs(['--seed=5']).seed).toBe(5);
  });

  it.each([
    [{ LOCKSTRESS_THREADS: 'abc' }, 'LOCKSTRESS_THREADS="abc"'],
    [{ LOCKSTRESS_THREADS: '0' }, 'LOCKSTRESS_THREADS="0"'],
    [{ LOCKSTRESS_THREADS: '1e9' }, 'LOCKSTRESS_THREADS="1e9"'],
    [{ LOCKSTRESS_SEED: '-1' }, 'LOCKSTRESS_SEED="-1"'],
    [{ LOCKSTRESS_DURATION_MS: '1.5' }, 'LOCKSTRESS_DURATION_MS="1.5"'],
    [{ LOCKSTRESS_JSON: 'yes' }, 'LOCKSTRESS_JSON="yes"'],
    [{ LOCKSTRESS_VARIANT: ',,' }, 'LOCKSTRESS_VARIANT=",,": names no variant'],
    [{ LOCKSTRESS_MIN_ROUNDS: 'x' }, 'LOCKSTRESS_MIN_ROUNDS="x"'],
    [{ LOCKSTRESS_SCHEDULE: 'fair' }, 'LOCKSTRESS_SCHEDULE="fair": expected one of os, random, pct'],
    [{ LOCKSTRESS_PCT_DEPTH: '0' }, 'LOCKSTRESS_PCT_DEPTH="0"'],
    [{ LOCKSTRESS_SHARD: '0/2' }, 'LOCKSTRESS_SHARD="0/2"'],
    [{ LOCKSTRESS_SHARD: '3/2' }, 'LOCKSTRESS_SHARD="3/2"'],
    [{ LOCKSTRESS_SHARD: 'x' }, 'LOCKSTRESS_SHARD="x"'],
    [{ LOCKSTRESS_SEEDS: '0' }, 'LOCKSTRESS_SEEDS="0"'],
  ])('a bad variable %o is a ConfigError naming it and its value', (env, named) => {
    expect(() => optionsFromEnv(env)).toThrow(ConfigError);
    expect(() => optionsFromEnv(env)).toThrow(named);
  });

  it.each([
    [['--threads', 'abc'], '--threads="abc"'],
    [['--threads', '65'], '--threads="65"'],
    [['--seed', 'x'], '--seed="x"'],
    [['--frobnicate'], 'unknown flag "--frobnicate"'],
    [['--variant'], '--variant: missing value'],
    [['--variant', ''], '--variant "": names no variant'],
    [['--shard', '0/2'], '--shard="0/2"'],
    [['--shard', '3/2'], '--shard="3/2"'],
    [['--shard', 'x'], '--shard="x"'],
    [['--shard', '1/0'], '--shard="1/0"'],
    [['--shard'], '--shard: missing value'],
    [['--seeds', '0'], '--seeds="0"'],
    [['--junit', ''], '--junit "": names no file'],
    [['--html', ''], '--html "": names no file'],
    [['--html'], '--html: missing value'],
  ])('bad flags %o are a ConfigError naming them', (args, named) => {
    expect(() => optionsFromArgs(args)).toThrow(ConfigError);
    expect(() => optionsFromArgs(args)).toThrow(named);
  });

  it('a flag replaces the variable it mirrors, and errors then name the flag', () => {
    const env = optionsFromEnv({ LOCKSTRESS_VARIANT: 'a', LOCKSTRESS_SCENARIO: './x.js' });
    expect(resolveStressOptions(mergeOptions(env, {})).origins).toEqual({ variants: 'LOCKSTRESS_VARIANT', scenario: 'LOCKSTRESS_SCENARIO', junit: '--junit', replay: '--replay', html: '--html' });
    const merged = resolveStressOptions(mergeOptions(env, optionsFromArgs(['--variant', 'b'])));
    expect(merged.variants).toEqual(['b']);
    expect(merged.origins).toEqual({ variants: '--variant', scenario: 'LOCKSTRESS_SCENARIO', junit: '--junit', replay: '--replay', html: '--html' });
    const junit = mergeOptions(optionsFromEnv({ LOCKSTRESS_JUNIT: 'a.xml' }), optionsFromArgs(['--junit', 'b.xml']));
    expect([junit.junit, junit.origins?.junit]).toEqual(['b.xml', '--junit']);
  });

  it('--help lists every flag with the variable it mirrors', () => {
    const pairs = [
      ['--threads N', 'LOCKSTRESS_THREADS'],
      ['--seed N', 'LOCKSTRESS_SEED'],
      ['--duration-ms N', 'LOCKSTRESS_DURATION_MS'],
      ['--rounds N', 'LOCKSTRESS_ROUNDS'],
      ['--hang-ms N', 'LOCKSTRESS_HANG_MS'],
      ['--min-rounds N', 'LOCKSTRESS_MIN_ROUNDS'],
      ['--variant NAME', 'LOCKSTRESS_VARIANT'],
      ['--scenario PATH', 'LOCKSTRESS_SCENARIO'],
      ['--seeds K', 'LOCKSTRESS_SEEDS'],
      ['--shard I/N', 'LOCKSTRESS_SHARD'],
      ['--junit FILE', 'LOCKSTRESS_JUNIT'],
      ['--html FILE', 'LOCKSTRESS_HTML'],
      ['--json', 'LOCKSTRESS_JSON=1'],
      ['--no-jitter', 'LOCKSTRESS_JITTER=0'],
      ['--full', 'LOCKSTRESS_FULL=1'],
      ['--stride N', 'LOCKSTRESS_STRIDE'],
    ];
    for (const [flag, variable] of pairs) {
      const line = kStressUsage.split('\n').find((l) => l.trimStart().startsWith(`${flag} `));
      expect(line, flag).toContain(variable);
    }
  });

  it('--html FILE and LOCKSTRESS_HTML name the HTML report; the flag wins and is named in errors', () => {
    expect(optionsFromArgs(['--html', 'r.html'])).toEqual({ html: 'r.html' });
    expect(optionsFromArgs(['--html=r.html'])).toEqual({ html: 'r.html' });
    expect(resolveStressOptions({}).html).toBe('');
    const env = optionsFromEnv({ LOCKSTRESS_HTML: 'env.html' });
    expect([env.html, env.origins?.html]).toEqual(['env.html', 'LOCKSTRESS_HTML']);
    const merged = mergeOptions(env, optionsFromArgs(['--html', 'flag.html']));
    expect([merged.html, merged.origins?.html]).toEqual(['flag.html', '--html']);
  });
});
