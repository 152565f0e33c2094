/**
 * `--shrink`: makes a failing controlled round as small as it goes while the same finding kind
 * persists: fewest threads, then fewest ops, then fewest preemptions.
 *
 * The oracle for a candidate plan (ops per thread, not drawn from any seed) is a bounded
 * exhaustive exploration of that plan with 0, then 1, 2 and 3 preemptions, stopped at the first
 * finding of the kind: so "still fails" means "some schedule with at most K preemptions shows
 * it", and the preemption count of the result is the least that shows it. Candidates: each
 * thread dropped whole, then each op dropped, repeated until nothing more can go (a greedy
 * one-at-a-time delta debugging, which for these plans of a dozen ops is as small as ddmin's
 * result and simpler to follow). Every run goes through `runStress`, on one shared pool.
 */
import { Piscina } from 'piscina';
import { type FindingKind, kFindingKinds } from '../finding-kinds.js';
import { ConfigError } from '../errors.js';
import { type ReplayToken, decodeReplayToken } from '../schedule/replay-token.js';
import type { Reproducer } from '../schedule/reproducer.js';
import { compiledUrl } from './compiled-path.js';
import type { ResolvedStressOptions } from './options.js';
import { type StressRun, runStress, withReplay } from './run-stress.js';
import type { VariantVerdict } from './verdict.js';

/** The most preemptions the oracle tries. */
export const kShrinkMaxPreemptions = 3;
/** One oracle run's time cap (an exploration that is cut short counts as "not shown"). */
export const kShrinkRunMs = 15_000;

export interface ShrinkResult {
  kind: FindingKind;
  /** The token of the original round, and of the shrunk one. */
  from: string;
  to: string;
  /** The shrunk round replayed: its report, with `reproducer`. */
  run: StressRun;
  reproducer: Reproducer;
  /** Oracle runs it took. */
  tries: number;
}

/** The kind a shrink keeps: the first, in the order kinds are listed (deadlock first). */
export function shrinkKind(seen: readonly FindingKind[]): FindingKind | null {
  return kFindingKinds.find((k) => seen.includes(k)) ?? null;
}

export async function shrink(options: ResolvedStressOptions, tokenText: string, progress: (line: string) => void = () => undefined): Promise<ShrinkResult> {
  const token = decodeReplayToken(options.origins.replay, tokenText);
  const pool = new Piscina({
    filename: compiledUrl('workers/round-worker.js').href,
    minThreads: 1,
    maxThreads: token.threads,
    idleTimeout: 60_000,
    atomics: 'sync',
  });
  let tries = 0;
  try {
    const original = only(await runStress(withReplay({ ...options, replay: tokenText }), { pool }));
    const kind = shrinkKind(original.seen);
    const plan = original.reproducer?.plan;
    if (kind === null || plan === undefined) throw new ConfigError(`${options.origins.replay}: the replayed round shows no finding, so there is nothing to shrink`);
    progress(`shrink: keeping ${kind}; plan of ${plan.filter((ops) => ops.length > 0).length} threads, ${count(plan)} ops`);

    /** The token of a schedule of `candidate` that shows `kind`, with the fewest preemptions; or null. */
    const oracle = async (candidate: string[][]): Promise<string | null> => {
      for (let k = 0; k <= kShrinkMaxPreemptions; k++) {
        tries++;
        const run = await runStress(
          {
            ...options,
            replay: '',
            scenario: token.scenario,
            variants: [token.variant],
            threads: candidate.length,
            seed: token.seed,
            schedule: 'exhaustive',
            preemptions: k,
            plans: 1,
            rounds: 0,
            durationMs: kShrinkRunMs,
            seeds: 1,
            shard: null,
          },
          { pool, control: { plan: candidate, stopOnKind: kind } },
        );
        const found = only(run).findings.find((f) => f.kind === kind)?.first.replay;
        if (found !== undefined) return found;
      }
      return null;
    };

    let best = plan.filter((ops) => ops.length > 0);
    let bestToken = (await oracle(best)) ?? tokenText;
    for (let changed = true; changed; ) {
      changed = false;
      for (const candidate of smaller(best)) {
        const found = await oracle(candidate);
        if (found === null) continue;
        best = candidate;
        bestToken = found;
        changed = true;
        progress(`shrink: ${best.length} threads, ${count(best)} ops still show ${kind}`);
        break;
      }
    }
    const final = await runStress(withReplay({ ...options, replay: bestToken }), { pool });
    const reproducer = only(final).reproducer;
    if (reproducer === null) throw new Error('the shrunk round has no reproducer');
    return { kind, from: tokenText, to: bestToken, run: final, reproducer, tries };
  } finally {
    await pool.destroy();
  }
}

/** Candidates one step smaller: each thread dropped whole, then each single op dropped. */
function* smaller(plan: string[][]): Generator<string[][]> {
  if (plan.length > 1) for (let t = 0; t < plan.length; t++) yield plan.filter((_, i) => i !== t);
  for (let t = 0; t < plan.length; t++) {
    const ops = plan[t] ?? [];
    for (let i = 0; i < ops.length; i++) {
      const fewer = plan.map((list, u) => (u === t ? list.filter((_, j) => j !== i) : list)).filter((list) => list.length > 0);
      if (fewer.length > 0) yield fewer;
    }
  }
}

function count(plan: readonly string[][]): number {
  return plan.reduce((n, ops) => n + ops.length, 0);
}

function only(run: StressRun): VariantVerdict {
  const v = run.variants[0];
  if (v === undefined) throw new Error('a shrink run gave no verdict');
  return v;
}

export type { ReplayToken };
