/**
 * The runner: describe the scenario (in a worker: describe.ts), start and warm the pool, then run
 * each variant with the round driver (round-driver.ts) and collect one verdict per variant. A
 * failure of scenario code stops the run with a {@link ScenarioError} that locates it.
 */
import { Piscina } from 'piscina';
import { ConfigError, LimitError, ScenarioError } from '../errors.js';
import { type Capacities, kDefaultCapacities, kMaxEdgesLimit, kMaxLockClassesLimit, wallClockMs } from '../layout.js';
import { compiledUrl } from './compiled-path.js';
import { describeInWorker } from './describe.js';
import { resolveScenarioUrl } from './load-scenario.js';
import type { ScenarioDescription, ScenarioFailure, WarmUpTask } from './messages.js';
import { type ResolvedStressOptions, namedInput } from './options.js';
import { decodeReplayToken } from '../schedule/replay-token.js';
import type { FindingKind } from '../finding-kinds.js';
import { roundTimeoutMs, runVariant } from './round-driver.js';
import type { VariantVerdict } from './verdict.js';
import type { OpTimes } from './op-timing.js';
import { lockCapacitiesFor } from '../scenarios/world.js';

export { canonicalCycleKey } from './round-driver.js';

export interface StressRun {
  tool: 'lockstress';
  scenario: string;
  seed: number;
  threads: number;
  variants: VariantVerdict[];
  ok: boolean;
  interrupted: boolean;
  durationMs: number;
}

export interface RunHooks {
  /** A short progress line (the CLI prints it on a terminal). */
  progress?: (text: string) => void;
  /** Called for each variant's verdict as soon as it is ready. */
  variantDone?: (verdict: VariantVerdict) => void;
  /** Aborting it stops the run (SIGINT): the current round is torn down and the run reports. */
  interrupt?: AbortSignal;
  /** Called once the workers are up, just before the first variant starts. */
  started?: (info: { scenario: string; variants: number; threads: number; seed: number }) => void;
  /** Piscina pool override for tests (defaults to a pool of the thread count). */
  pool?: Piscina;
  /**
   * Per-op timing (the bench's timed mix, op-timing.ts): every thread records each op's duration,
   * up to `samplesPerThread` per variant, and `variantTimed` gets them with the variant's verdict.
   */
  opTiming?: { samplesPerThread: number; variantTimed: (verdict: VariantVerdict, times: OpTimes) => void };
  /** What the shrinker asks of a run (not a flag): see {@link RunControl}. */
  control?: RunControl;
}

/** A run as the shrinker drives it. */
export interface RunControl {
  /** Ops per thread instead of the plan function's. */
  plan?: string[][];
  /** Stop a variant as soon as a finding of this kind is seen. */
  stopOnKind?: FindingKind;
}

/** Object slots a scenario may declare: a pointer keeps the slot in 8 bits (object-slots.ts). */
export const kMaxObjectSlots = 255;

export interface Selection {
  url: string;
  scenario: ScenarioDescription;
  variants: ScenarioDescription['variants'];
}

/** Describes the scenario named by the options (in a worker) and checks the variant selection. */
export async function loadSelection(options: ResolvedStressOptions): Promise<Selection> {
  const url = resolveScenarioUrl(options.scenario, options.origins.scenario);
  const label = namedInput(options.origins.scenario, options.scenario);
  const scenario = await describeInWorker(url, label, options.threads, options.seed);
  const known = scenario.variants.map((v) => v.name);
  for (const name of options.variants) {
    if (!known.includes(name)) {
      throw new ConfigError(`${namedInput(options.origins.variants, name)}: not a variant of ${scenario.name} (known: ${known.join(', ')})`);
    }
  }
  const variants =
    options.variants.length === 0
      ? scenario.variants.filter((v) => options.full || !v.extended)
      : scenario.variants.filter((v) => options.variants.includes(v.name));
  return { url, scenario, variants };
}

/**
 * The copies of the world a round rendezvous covers (`--stride`): the option under the `os`
 * schedule, one under a controlled schedule or a replay (each of their rounds is one world, run
 * one step at a time), and never more than the object-slot limit allows (each copy has its own
 * slots).
 */
export function effectiveStride(options: Pick<ResolvedStressOptions, 'stride' | 'schedule' | 'replay'>, scenario: ScenarioDescription): number {
  if (options.schedule !== 'os' || options.replay !== '') return 1;
  const slots = scenario.objects.slots?.length ?? 0;
  return Math.max(1, Math.min(options.stride, slots === 0 ? options.stride : Math.floor(kMaxObjectSlots / slots)));
}

/**
 * The shared memory a scenario needs, sized from its declarations, for `stride` copies of the world
 * (see {@link effectiveStride}; each copy has its own locks, words, refcounts, slots and
 * completions). Past a real limit: a LimitError naming it (exit 2).
 */
export function capacitiesFor(scenario: ScenarioDescription, threads: number, stride = 1): Capacities {
  const { objects } = scenario;
  const slots = objects.slots?.length ?? 0;
  if (slots > kMaxObjectSlots) {
    throw new LimitError(`scenario ${scenario.name} declares ${slots} object slots; the limit is ${kMaxObjectSlots}`);
  }
  const classes = new Set(Object.values(objects.locks ?? {}).map((l) => l.class)).size;
  if (classes > kMaxLockClassesLimit) {
    throw new LimitError(`scenario ${scenario.name} declares ${classes} lock classes; the limit is ${kMaxLockClassesLimit} (lockdep's MAX_LOCKDEP_KEYS)`);
  }
  // Locks, completions, and classes with room for the subclasses lockNested defines (world.ts).
  const lockdep = lockCapacitiesFor(objects);
  return {
    ...kDefaultCapacities,
    threads: threads + 1,
    classes: lockdep.classes,
    completions: lockdep.completions * stride,
    // Room for many edges per class (open addressing wants a half-empty table), and for the names.
    edges: Math.min(kMaxEdgesLimit, Math.max(kDefaultCapacities.edges, classes * 32)),
    strings: Math.max(kDefaultCapacities.strings, 2 * classes + 1024),
    locks: lockdep.locks * stride,
    refcounts: Math.max(1, Object.keys(objects.refcounts ?? {}).length) * stride,
    objects: Math.max(1, slots) * stride,
    words: Math.max(1, objects.words?.length ?? 0) * stride,
    ops: Math.max(1, ...scenario.variants.map((v) => v.opNames.length)),
  };
}

export async function runStress(options: ResolvedStressOptions, hooks: RunHooks = {}): Promise<StressRun> {
  const started = wallClockMs();
  const { url, scenario, variants } = await loadSelection(options);
  const stride = effectiveStride(options, scenario);
  const capacities = { ...capacitiesFor(scenario, options.threads, stride), opTimingSamples: hooks.opTiming?.samplesPerThread ?? 0 };
  const replay = options.replay === '' ? null : decodeReplayToken(options.origins.replay, options.replay);
  const pool =
    hooks.pool ??
    new Piscina({
      filename: compiledUrl('workers/round-worker.js').href,
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: 60_000,
      atomics: 'sync',
    });
  const verdicts: VariantVerdict[] = [];
  const runId = `${process.pid}-${Math.floor(started)}`;
  let interrupted = false;
  let failure: ScenarioError | null = null;
  try {
    // Workers start and load the scenario before any budget counts (64 threads on 2 cores take seconds).
    await warmUp(pool, url, options.threads);
    hooks.started?.({ scenario: scenario.name, variants: variants.length, threads: options.threads, seed: options.seed });
    // Every run ends: past this, remaining variants are skipped and the run reports what it has.
    const deadline = wallClockMs() + variants.length * (options.durationMs + 4 * roundTimeoutMs(options)) + 30_000;
    for (const [index, variant] of variants.entries()) {
      if (hooks.interrupt?.aborted === true) {
        interrupted = true;
        break;
      }
      const result = await runVariant({
        options,
        scenario,
        scenarioUrl: url,
        variant,
        capacities,
        stride,
        pool,
        worldKey: `${runId}/${index}`,
        deadline,
        interrupt: hooks.interrupt,
        progress: hooks.progress,
        replay,
        scenarioInput: options.scenario,
        control: hooks.control ?? {},
      });
      if (result.failure !== null) {
        failure = scenarioFailureError(scenario.name, variant.name, result.failure.thread, result.failure.failure);
        break;
      }
      verdicts.push(result.verdict);
      hooks.variantDone?.(result.verdict);
      if (result.opTimes !== null) hooks.opTiming?.variantTimed(result.verdict, result.opTimes);
      if (result.verdict.stoppedBy === 'interrupted') {
        interrupted = true;
        break;
      }
    }
  } finally {
    if (hooks.pool === undefined) await pool.destroy();
  }
  if (failure !== null) throw failure;
  return {
    tool: 'lockstress',
    scenario: scenario.name,
    seed: options.seed,
    threads: options.threads,
    variants: verdicts,
    ok: !interrupted && verdicts.length === variants.length && verdicts.every((v) => v.status === 'pass' || v.status === 'skipped'),
    interrupted,
    durationMs: Math.round(wallClockMs() - started),
  };
}

/** How long all workers may take to start and load the scenario. */
function warmUpTimeoutMs(threads: number): number {
  return Math.max(30_000, threads * 1000);
}

/** One task per worker, each waiting for all the others: every worker is up and has the module. */
async function warmUp(pool: Piscina, scenarioUrl: string, threads: number): Promise<void> {
  const rendezvous = new SharedArrayBuffer(4);
  const timeoutMs = warmUpTimeoutMs(threads);
  const task: WarmUpTask = { type: 'warm-up', scenarioUrl, rendezvous, parties: threads, timeoutMs };
  await Promise.all(Array.from({ length: threads }, () => pool.run(task)));
  const arrived = Atomics.load(new Int32Array(rendezvous), 0);
  if (arrived < threads) throw new LimitError(`only ${arrived} of ${threads} worker threads started within ${timeoutMs} ms`);
}

/**
 * `--replay TOKEN`: the options of the round the token names (its scenario, variant, threads and
 * seed), one round, and the token's decisions for the schedule.
 */
export function withReplay(options: ResolvedStressOptions): ResolvedStressOptions {
  if (options.replay === '') return options;
  const token = decodeReplayToken(options.origins.replay, options.replay);
  return {
    ...options,
    scenario: token.scenario,
    variants: [token.variant],
    threads: token.threads,
    seed: token.seed,
    rounds: 1,
    minRounds: 1,
    seeds: 1,
    shard: null,
  };
}

/** The first error line of a run stopped by scenario code: scenario, variant, thread, step, message, location. */
export function scenarioFailureError(scenario: string, variant: string, thread: number, f: ScenarioFailure): ScenarioError {
  const where = `scenario ${scenario}, variant ${variant}, thread ${thread}, ${f.step}`;
  return new ScenarioError(`${where}: ${f.message}${f.location === '' ? '' : ` (at ${f.location})`}`);
}
