/** Shard assignment on plain data: disjoint, covering, round-robin, stable; bad specs named. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseShard, seedList, shardUnits, workUnits } from '../../src/runner/shard.js';

const kVariants = ['pre-51cdc8bc', '51cdc8bc', 'fix-v2', '2b48f52f2bff', 'missing-put'];

describe('shards', () => {
  it('parses i/n', () => {
    expect(parseShard('--shard', '1/4')).toEqual({ index: 1, count: 4 });
    expect(parseShard('--shard', ' 4 / 4 ')).toEqual({ index: 4, count: 4 });
  });

  it.each(['0/2', '3/2', 'x', '1/0', '1', '-1/2', '1.5/2', '1/1001', ''])('refuses %j, naming the flag and the value', (text) => {
    expect(() => parseShard('--shard', text)).toThrow(ConfigError);
    expect(() => parseShard('--shard', text)).toThrow(`--shard=${JSON.stringify(text)}: expected i/n`);
  });

  it('runs every variant under seeds first, first+1, ... (wrapping at 2^32)', () => {
    expect(seedList(7, 3)).toEqual([7, 8, 9]);
    expect(seedList(2 ** 32 - 1, 2)).toEqual([2 ** 32 - 1, 0]);
    expect(workUnits(['a', 'b'], [7, 8])).toEqual([
      { variant: 'a', seed: 7 },
      { variant: 'b', seed: 7 },
      { variant: 'a', seed: 8 },
      { variant: 'b', seed: 8 },
    ]);
  });

  it.each([1, 2, 3, 4, 7, 11])('%i shards are disjoint, cover the run, and differ in size by at most one', (count) => {
    const units = workUnits(kVariants, seedList(100, 2));
    const shards = Array.from({ length: count }, (_, i) => shardUnits(units, { index: i + 1, count }));
    const all = shards.flat().map((u) => `${u.variant}@${u.seed}`);
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(units.map((u) => `${u.variant}@${u.seed}`).sort());
    const sizes = shards.map((s) => s.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('is round-robin over the run order: unit k goes to shard (k mod n) + 1', () => {
    const units = workUnits(kVariants, [1]);
    expect(shardUnits(units, { index: 1, count: 2 }).map((u) => u.variant)).toEqual(['pre-51cdc8bc', 'fix-v2', 'missing-put']);
    expect(shardUnits(units, { index: 2, count: 2 }).map((u) => u.variant)).toEqual(['51cdc8bc', '2b48f52f2bff']);
    expect(shardUnits(units, null)).toEqual(units);
  });
});
