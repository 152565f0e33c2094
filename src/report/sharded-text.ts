/**
 * The human report of a run over several seeds or of one shard: a line saying which slice of the
 * run this is, then the usual report of each seed's run (runner/report.ts), then a total. A plain
 * run prints exactly the usual report.
 */
import { formatRunReport } from '../runner/report.js';
import type { ShardedRun } from '../runner/run-sharded.js';
import { formatShard } from '../runner/shard.js';
import type { StressDocument } from './document.js';

export function formatShardedReport(sharded: ShardedRun, doc: StressDocument, durationMs: number): string {
  const only = sharded.runs[0];
  if (sharded.shard === null && sharded.seeds === 1 && sharded.runs.length === 1 && only !== undefined) {
    return formatRunReport(only, durationMs);
  }
  const variantsPerSeed = sharded.totalUnits / sharded.seeds;
  const shape = `${variantsPerSeed} variant${variantsPerSeed === 1 ? '' : 's'} x ${sharded.seeds} seed${sharded.seeds === 1 ? '' : 's'}`;
  const slice = sharded.shard === null ? 'all' : `${formatShard(sharded.shard)}:`;
  const out = [`lockstress: ${sharded.scenario}, ${slice} ${sharded.units.length} of ${sharded.totalUnits} units (${shape}), seeds from ${sharded.seed}`];
  if (sharded.units.length === 0) {
    out.push('nothing to run in this shard');
    return out.join('\n');
  }
  for (const run of sharded.runs) out.push('', formatRunReport(run, durationMs));
  if (sharded.runs.length > 1 || sharded.shard !== null) {
    const count = (status: string): number => doc.variants.filter((v) => v.status === status).length;
    const others = (['fail', 'inconclusive', 'skipped'] as const)
      .filter((s) => count(s) > 0)
      .map((s) => `, ${count(s)} ${s === 'fail' ? 'failed' : s}`)
      .join('');
    out.push(
      '',
      `${doc.interrupted ? 'INTERRUPTED: ' : ''}${sharded.shard === null ? 'whole run' : formatShard(sharded.shard)}: ${count('pass')}/${doc.variants.length} units passed${others} in ${(sharded.durationMs / 1000).toFixed(1)} s; verdict ${doc.verdict}`,
    );
  }
  return out.join('\n');
}
