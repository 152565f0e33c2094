/**
 * `lockstress merge`: several `--json` documents (the shards of one run, or separate runs of one
 * scenario) become one document with the verdict and exit status of the whole. Pure data.
 *
 * Bad input, a ConfigError naming the files: no document; documents of different scenarios; a
 * variant under the same seed in two documents (a shard given twice, or two runs that overlap);
 * shards mixed with whole runs, shards of different splits (`1/2` with `1/4`) or of different
 * seed counts, and a missing shard (the whole cannot be judged without it).
 */
import { ConfigError } from '../errors.js';
import { formatShard } from '../runner/shard.js';
import { type StressDocument, type VariantDocument, finishDocument } from './document.js';

export interface NamedDocument {
  /** Where it came from, for messages. */
  file: string;
  doc: StressDocument;
}

export function mergeDocuments(inputs: readonly NamedDocument[]): StressDocument {
  const first = inputs[0];
  if (first === undefined) throw new ConfigError('merge: no documents given (usage: lockstress merge a.json b.json ...)');
  for (const { file, doc } of inputs) {
    if (doc.scenario !== first.doc.scenario) {
      throw new ConfigError(`merge: ${JSON.stringify(file)} is from scenario ${doc.scenario}, ${JSON.stringify(first.file)} from ${first.doc.scenario}`);
    }
  }
  checkShards(inputs);
  const where = new Map<string, string>();
  for (const { file, doc } of inputs) {
    for (const v of doc.variants) {
      const key = `${v.name}\u0000${v.seed}`;
      const other = where.get(key);
      if (other !== undefined) {
        throw new ConfigError(`merge: variant ${v.name} (seed ${v.seed}) is in both ${JSON.stringify(other)} and ${JSON.stringify(file)}`);
      }
      where.set(key, file);
    }
  }
  const isSharded = first.doc.shard !== null;
  const variants = isSharded ? interleaveShards(inputs) : inputs.flatMap(({ doc }) => doc.variants);
  const perName = new Map<string, number>();
  for (const v of variants) perName.set(v.name, (perName.get(v.name) ?? 0) + 1);
  const same = <T>(pick: (doc: StressDocument) => T): T | null => {
    const values = new Set(inputs.map(({ doc }) => pick(doc)));
    return values.size === 1 ? pick(first.doc) : null;
  };
  const starts = inputs.map(({ doc }) => doc.startedAt).filter((s) => s !== '').sort();
  return {
    ...finishDocument({
      tool: 'lockstress',
      scenario: first.doc.scenario,
      seed: same((doc) => doc.seed),
      seeds: isSharded ? first.doc.seeds : Math.max(1, ...perName.values()),
      threads: same((doc) => doc.threads),
      startedAt: starts[0] ?? '',
      durationMs: inputs.reduce((sum, { doc }) => sum + doc.durationMs, 0),
      interrupted: inputs.some(({ doc }) => doc.interrupted),
      shard: null,
      variants,
    }),
    merged: inputs.map(({ file, doc }) => ({ file, shard: doc.shard, seed: doc.seed, variants: doc.variants.length })),
  };
}

function checkShards(inputs: readonly NamedDocument[]): void {
  const sharded = inputs.filter(({ doc }) => doc.shard !== null);
  if (sharded.length === 0) return;
  const whole = inputs.find(({ doc }) => doc.shard === null);
  const first = sharded[0] as NamedDocument;
  const firstShard = first.doc.shard as NonNullable<StressDocument['shard']>;
  if (whole !== undefined) {
    throw new ConfigError(`merge: ${JSON.stringify(whole.file)} is a whole run but ${JSON.stringify(first.file)} is ${formatShard(firstShard)}`);
  }
  const byIndex = new Map<number, string>();
  for (const { file, doc } of sharded) {
    const shard = doc.shard as NonNullable<StressDocument['shard']>;
    if (shard.count !== firstShard.count) {
      throw new ConfigError(`merge: ${JSON.stringify(file)} is ${formatShard(shard)} but ${JSON.stringify(first.file)} is ${formatShard(firstShard)}`);
    }
    if (doc.seeds !== first.doc.seeds) {
      throw new ConfigError(`merge: ${JSON.stringify(file)} ran ${doc.seeds} seeds per variant but ${JSON.stringify(first.file)} ran ${first.doc.seeds}`);
    }
    const other = byIndex.get(shard.index);
    if (other !== undefined) throw new ConfigError(`merge: ${formatShard(shard)} is given twice (${JSON.stringify(other)} and ${JSON.stringify(file)})`);
    byIndex.set(shard.index, file);
  }
  const missing = Array.from({ length: firstShard.count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    throw new ConfigError(`merge: ${missing.map((i) => formatShard({ index: i, count: firstShard.count })).join(', ')} missing (given: ${[...byIndex.keys()].sort((a, b) => a - b).join(', ')})`);
  }
}

/**
 * Shard i holds units i-1, i-1+n, i-1+2n, ... of the run (shard.ts), so taking one unit from each
 * shard in turn gives back the run's order.
 */
function interleaveShards(inputs: readonly NamedDocument[]): VariantDocument[] {
  const shards = [...inputs].sort((a, b) => (a.doc.shard?.index ?? 0) - (b.doc.shard?.index ?? 0)).map(({ doc }) => doc.variants);
  const out: VariantDocument[] = [];
  const longest = Math.max(0, ...shards.map((s) => s.length));
  for (let k = 0; k < longest; k++) for (const shard of shards) if (k < shard.length) out.push(shard[k] as VariantDocument);
  return out;
}
