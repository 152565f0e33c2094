/**
 * A run as the CLI asks for it: the selected variants under `--seeds K` seeds, restricted to one
 * `--shard i/n` (see shard.ts for the assignment). Each seed that has units in this shard is one
 * {@link runStress} over those variants, in seed order; a plain run (one seed, no shard) is exactly
 * one runStress over the selection.
 */
import { wallClockMs } from '../layout.js';
import type { ResolvedStressOptions } from './options.js';
import { type RunHooks, type StressRun, loadSelection, runStress } from './run-stress.js';
import { type ShardSpec, type WorkUnit, seedList, shardUnits, workUnits } from './shard.js';

export interface ShardedRun {
  /** Scenario name. */
  scenario: string;
  /** One run per seed that had units in this shard, in seed order. */
  runs: StressRun[];
  /** This shard's units (all units for a whole run). */
  units: WorkUnit[];
  /** Units of the whole run, over every shard. */
  totalUnits: number;
  shard: ShardSpec | null;
  /** The first seed and how many seeds. */
  seed: number;
  seeds: number;
  threads: number;
  /** Stopped by SIGINT: some units may not have run. */
  interrupted: boolean;
  durationMs: number;
}

export async function runSharded(options: ResolvedStressOptions, hooks: RunHooks = {}): Promise<ShardedRun> {
  const started = wallClockMs();
  const { scenario, variants } = await loadSelection(options);
  const seeds = seedList(options.seed, options.seeds);
  const all = workUnits(
    variants.map((v) => v.name),
    seeds,
  );
  const units = shardUnits(all, options.shard);
  const runs: StressRun[] = [];
  let interrupted = false;
  for (const seed of seeds) {
    const names = units.filter((u) => u.seed === seed).map((u) => u.variant);
    if (names.length === 0) continue;
    if (hooks.interrupt?.aborted === true) {
      interrupted = true;
      break;
    }
    const run = await runStress({ ...options, seed, variants: names }, hooks);
    runs.push(run);
    if (run.interrupted) {
      interrupted = true;
      break;
    }
  }
  return {
    scenario: scenario.name,
    runs,
    units,
    totalUnits: all.length,
    shard: options.shard,
    seed: options.seed,
    seeds: options.seeds,
    threads: options.threads,
    interrupted,
    durationMs: Math.round(wallClockMs() - started),
  };
}
