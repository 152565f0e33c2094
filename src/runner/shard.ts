/**
 * Shards: `--shard i/n` runs the i-th of n disjoint slices of a run's work, so that n CI jobs
 * together do what one run does, and `lockstress merge` puts their JSON documents back together.
 *
 * The work of a run is a list of units, one per (seed, variant): the selected variants in the
 * scenario's order under the first seed, then under the second, and so on (`--seeds K` runs every
 * variant under the seeds S, S+1, ..., S+K-1). Unit k (from 0) belongs to shard (k mod n) + 1:
 * round-robin, so each shard gets every n-th unit and shards differ by at most one unit. The
 * assignment depends only on the variant list, K and n, never on timing or on the seed's value,
 * so the slices are disjoint and together cover the run. Pure logic, no threads.
 */
import { ConfigError } from '../errors.js';

/** Shard `index` (from 1) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

export const kMaxShards = 1000;

/** One variant under one seed. */
export interface WorkUnit {
  variant: string;
  seed: number;
}

/** Parses `i/n` with 1 <= i <= n <= {@link kMaxShards}; `what` names the flag or variable. */
export function parseShard(what: string, text: string): ShardSpec {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || !(count >= 1 && count <= kMaxShards && index >= 1 && index <= count)) {
    throw new ConfigError(`${what}=${JSON.stringify(text)}: expected i/n with 1 <= i <= n <= ${kMaxShards} (1/4 is the first of 4 shards)`);
  }
  return { index, count };
}

/** The seeds of a run: `first`, `first + 1`, ... (`count` of them, wrapping at 2^32). */
export function seedList(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => (first + k) >>> 0);
}

/** Every unit of a run, seed-major: all variants under the first seed, then under the next. */
export function workUnits(variants: readonly string[], seeds: readonly number[]): WorkUnit[] {
  return seeds.flatMap((seed) => variants.map((variant) => ({ variant, seed })));
}

/** The units of one shard (all of them when `shard` is null), in run order. */
export function shardUnits<T>(units: readonly T[], shard: ShardSpec | null): T[] {
  if (shard === null) return [...units];
  return units.filter((_, k) => k % shard.count === shard.index - 1);
}

/** `shard 2/4`. */
export function formatShard(shard: ShardSpec): string {
  return `shard ${shard.index}/${shard.count}`;
}
