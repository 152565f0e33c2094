/**
 * Stress options: all-optional {@link StressOptions}, the filled {@link ResolvedStressOptions}, one
 * {@link kDefaultStressOptions}, merged once by {@link resolveStressOptions}. Environment variables
 * (`LOCKSTRESS_*`) and flags are parsed here and nowhere else; a bad value is a ConfigError naming
 * the variable (or flag) and the value.
 */
import { ConfigError } from '../errors.js';
import { type ShardSpec, parseShard } from './shard.js';

/** Values of `--schedule`. */
export const kScheduleModes = ['os', 'random', 'pct', 'exhaustive'] as const;
export type ScheduleMode = (typeof kScheduleModes)[number];

function parseScheduleMode(what: string, text: string): ScheduleMode {
  const mode = kScheduleModes.find((m) => m === text.trim());
  if (mode === undefined) throw new ConfigError(`${what}=${JSON.stringify(text)}: expected one of ${kScheduleModes.join(', ')}`);
  return mode;
}

export interface ResolvedStressOptions {
  /** Worker threads. `LOCKSTRESS_THREADS`, `--threads`. */
  threads: number;
  /** Seed of plans and jitter; printed so a run can be replayed. `LOCKSTRESS_SEED`, `--seed`. */
  seed: number;
  /** Time budget per variant, ms. `LOCKSTRESS_DURATION_MS`, `--duration-ms`. */
  durationMs: number;
  /** Round limit per variant (0 = none). `LOCKSTRESS_ROUNDS`, `--rounds`. */
  rounds: number;
  /**
   * Rounds a verdict needs unless its evidence is decisive: a clean variant that ran fewer is
   * `inconclusive`, and so is a broken one that has not shown its bug yet. Stated for 4 threads:
   * with more, it scales by 4/threads (never below 5), since each round runs more ops; capped by
   * `rounds` when that is set. `LOCKSTRESS_MIN_ROUNDS`, `--min-rounds`.
   */
  minRounds: number;
  /** A wait longer than this with no wait-for cycle is `stuck`. `LOCKSTRESS_HANG_MS`, `--hang-ms`. */
  hangMs: number;
  /** Variants to run (empty = all). `LOCKSTRESS_VARIANT` (comma-separated), `--variant` (repeatable). */
  variants: string[];
  /** Scenario: `vfio-kvm` or a path to a scenario module. `LOCKSTRESS_SCENARIO`, `--scenario`. */
  scenario: string;
  /** Stop a variant at its first finding. `LOCKSTRESS_STOP_ON_FIRST=1`, `--stop-on-first`. */
  stopOnFirst: boolean;
  /**
   * Stop a variant as soon as it has shown every kind it expects (clean variants use their whole
   * budget). `LOCKSTRESS_UNTIL_EXPECTED=1`, `--until-expected`.
   */
  untilExpected: boolean;
  /** One JSON document on stdout; human text to stderr. `LOCKSTRESS_JSON=1`, `--json`. */
  json: boolean;
  /** Seeded pauses before locks to widen race windows. `LOCKSTRESS_JITTER=0` turns them off. */
  jitter: boolean;
  /**
   * Rounds per rendezvous under the `os` schedule (jcstress's strides): every thread runs its ops
   * in this many independent copies of the world, one after the other, between two barrier
   * crossings. Controlled schedules run one. `LOCKSTRESS_STRIDE`, `--stride`.
   */
  stride: number;
  /**
   * Who interleaves the threads: `os` (the operating system, with seeded jitter), or a controlled
   * schedule where one thread runs between scheduling points and a seeded policy picks it:
   * `random` or `pct`. `LOCKSTRESS_SCHEDULE`, `--schedule`.
   */
  schedule: ScheduleMode;
  /** PCT's bug depth d (d-1 priority change points per round). `LOCKSTRESS_PCT_DEPTH`, `--pct-depth`. */
  pctDepth: number;
  /** A replay token from a report: run exactly that round again. `LOCKSTRESS_REPLAY`, `--replay`. */
  replay: string;
  /**
   * Make a failing controlled round minimal (threads, ops, preemptions) and print it as a
   * numbered interleaving: the round of `--replay`, or each variant's first finding.
   * `LOCKSTRESS_SHRINK=1`, `--shrink`.
   */
  shrink: boolean;
  /** Exhaustive: the preemption bound K. `LOCKSTRESS_PREEMPTIONS`, `--preemptions`. */
  preemptions: number;
  /** Exhaustive: how many rounds' plans are explored (distinct ones). `LOCKSTRESS_PLANS`, `--plans`. */
  plans: number;
  /** Also write a JUnit XML report to this file ('' = none). `LOCKSTRESS_JUNIT`, `--junit`. */
  junit: string;
  /**
   * Also write one self-contained HTML report (graphs, timelines, lock_stat) to this file ('' =
   * none). `LOCKSTRESS_HTML`, `--html`.
   */
  html: string;
  /**
   * Run only this slice of the (seed, variant) units, round-robin (see runner/shard.ts); null =
   * all. `LOCKSTRESS_SHARD`, `--shard i/n`.
   */
  shard: ShardSpec | null;
  /** Run every variant under this many seeds: seed, seed+1, ... `LOCKSTRESS_SEEDS`, `--seeds`. */
  seeds: number;
  /** List the variants and exit. `--list`. */
  list: boolean;
  /**
   * Run every variant, the extended ones too (a variant with `extended: true` runs only with this,
   * or when named by `--variant`). `LOCKSTRESS_FULL=1`, `--full`; `--quick` is the default.
   */
  full: boolean;
  /** Print usage and exit. `--help`. */
  help: boolean;
  /**
   * Where `variants`, `scenario`, `junit` and `html` came from (`--variant` or `LOCKSTRESS_VARIANT`), so
   * that an error about them names what the user typed.
   */
  origins: { variants: string; scenario: string; junit: string; replay: string; html: string };
}

export type StressOptions = Partial<ResolvedStressOptions>;

export const kMaxThreads = 64;

export const kDefaultStressOptions: Readonly<Omit<ResolvedStressOptions, 'seed'>> = {
  threads: 4,
  durationMs: 1500,
  rounds: 0,
  minRounds: 20,
  hangMs: 500,
  variants: [],
  scenario: 'vfio-kvm',
  stopOnFirst: false,
  untilExpected: false,
  json: false,
  jitter: true,
  stride: 8,
  schedule: 'os',
  pctDepth: 5,
  replay: '',
  shrink: false,
  preemptions: 2,
  plans: 16,
  junit: '',
  html: '',
  shard: null,
  seeds: 1,
  list: false,
  full: false,
  help: false,
  origins: { variants: '--variant', scenario: '--scenario', junit: '--junit', replay: '--replay', html: '--html' },
};

/**
 * An exhaustive exploration runs until it is complete; its time budget (unless one is given) is
 * this cap, not the 1.5 s of a stress variant.
 */
export const kExhaustiveDurationMs = 120_000;

export function resolveStressOptions(options: StressOptions): ResolvedStressOptions {
  const resolved = {
    ...kDefaultStressOptions,
    seed: (Math.random() * 2 ** 32) >>> 0,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as ResolvedStressOptions;
  if (resolved.schedule === 'exhaustive' && options.durationMs === undefined) resolved.durationMs = kExhaustiveDurationMs;
  return resolved;
}

/** Parses a whole number in [min, max]; `what` names the variable or flag in the error. */
export function parseInteger(what: string, text: string, min: number, max: number): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) {
    throw new ConfigError(`${what}=${JSON.stringify(text)}: expected a whole number from ${min} to ${max}`);
  }
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${what}=${JSON.stringify(text)}: expected a whole number from ${min} to ${max}`);
  }
  return value;
}

function parseFlag(what: string, text: string): boolean {
  if (text === '1' || text === 'true') return true;
  if (text === '0' || text === 'false' || text === '') return false;
  throw new ConfigError(`${what}=${JSON.stringify(text)}: expected 1 or 0`);
}

const kLimits = {
  threads: [1, kMaxThreads],
  seed: [0, 2 ** 32 - 1],
  durationMs: [1, 3_600_000],
  rounds: [0, 1_000_000_000],
  minRounds: [0, 1_000_000_000],
  hangMs: [10, 600_000],
  seeds: [1, 10_000],
  pctDepth: [1, 64],
  preemptions: [0, 64],
  plans: [1, 100_000],
  stride: [1, 64],
} as const;

/** Reads the `LOCKSTRESS_*` variables. Unset or empty variables are left out. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): StressOptions {
  const out: StressOptions = {};
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const int = (name: string, key: keyof typeof kLimits): void => {
    const value = get(name);
    if (value !== undefined) out[key] = parseInteger(name, value, kLimits[key][0], kLimits[key][1]);
  };
  int('LOCKSTRESS_THREADS', 'threads');
  int('LOCKSTRESS_SEED', 'seed');
  int('LOCKSTRESS_DURATION_MS', 'durationMs');
  int('LOCKSTRESS_ROUNDS', 'rounds');
  int('LOCKSTRESS_HANG_MS', 'hangMs');
  int('LOCKSTRESS_MIN_ROUNDS', 'minRounds');
  int('LOCKSTRESS_SEEDS', 'seeds');
  int('LOCKSTRESS_PCT_DEPTH', 'pctDepth');
  int('LOCKSTRESS_PREEMPTIONS', 'preemptions');
  int('LOCKSTRESS_PLANS', 'plans');
  int('LOCKSTRESS_STRIDE', 'stride');
  const schedule = get('LOCKSTRESS_SCHEDULE');
  if (schedule !== undefined) out.schedule = parseScheduleMode('LOCKSTRESS_SCHEDULE', schedule);
  const replay = get('LOCKSTRESS_REPLAY');
  if (replay !== undefined) out.replay = replay;
  const shard = get('LOCKSTRESS_SHARD');
  if (shard !== undefined) out.shard = parseShard('LOCKSTRESS_SHARD', shard);
  const origins = { ...kDefaultStressOptions.origins };
  const variants = get('LOCKSTRESS_VARIANT');
  if (variants !== undefined) {
    out.variants = variants.split(',').map((v) => v.trim()).filter((v) => v !== '');
    // Like `--variant ''`: a list that names nothing is a mistake, not "all variants".
    if (out.variants.length === 0) throw new ConfigError(`LOCKSTRESS_VARIANT=${JSON.stringify(variants)}: names no variant`);
    origins.variants = 'LOCKSTRESS_VARIANT';
  }
  const scenario = get('LOCKSTRESS_SCENARIO');
  if (scenario !== undefined) {
    out.scenario = scenario;
    origins.scenario = 'LOCKSTRESS_SCENARIO';
  }
  const junit = get('LOCKSTRESS_JUNIT');
  if (junit !== undefined) {
    out.junit = junit;
    origins.junit = 'LOCKSTRESS_JUNIT';
  }
  if (replay !== undefined) origins.replay = 'LOCKSTRESS_REPLAY';
  const html = get('LOCKSTRESS_HTML');
  if (html !== undefined) {
    out.html = html;
    origins.html = 'LOCKSTRESS_HTML';
  }
  if (variants !== undefined || scenario !== undefined || junit !== undefined || replay !== undefined || html !== undefined) out.origins = origins;
  const stop = get('LOCKSTRESS_STOP_ON_FIRST');
  if (stop !== undefined) out.stopOnFirst = parseFlag('LOCKSTRESS_STOP_ON_FIRST', stop);
  const until = get('LOCKSTRESS_UNTIL_EXPECTED');
  if (until !== undefined) out.untilExpected = parseFlag('LOCKSTRESS_UNTIL_EXPECTED', until);
  const json = get('LOCKSTRESS_JSON');
  if (json !== undefined) out.json = parseFlag('LOCKSTRESS_JSON', json);
  const shrink = get('LOCKSTRESS_SHRINK');
  if (shrink !== undefined) out.shrink = parseFlag('LOCKSTRESS_SHRINK', shrink);
  const jitter = get('LOCKSTRESS_JITTER');
  if (jitter !== undefined) out.jitter = parseFlag('LOCKSTRESS_JITTER', jitter);
  const full = get('LOCKSTRESS_FULL');
  if (full !== undefined) out.full = parseFlag('LOCKSTRESS_FULL', full);
  return out;
}

/** Reads the command line (after `node script`). Flags win over the environment. */
export function optionsFromArgs(args: readonly string[]): StressOptions {
  const out: StressOptions = {};
  const variants: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ConfigError(`${name}: missing value`);
      i++;
      return next;
    };
    switch (name) {
      case '--threads':
        out.threads = parseInteger(name, value(), ...kLimits.threads);
        break;
      case '--seed':
        out.seed = parseInteger(name, value(), ...kLimits.seed);
        break;
      case '--duration-ms':
        out.durationMs = parseInteger(name, value(), ...kLimits.durationMs);
        break;
      case '--rounds':
        out.rounds = parseInteger(name, value(), ...kLimits.rounds);
        break;
      case '--hang-ms':
        out.hangMs = parseInteger(name, value(), ...kLimits.hangMs);
        break;
      case '--min-rounds':
        out.minRounds = parseInteger(name, value(), ...kLimits.minRounds);
        break;
      case '--variant': {
        const text = value();
        if (text.trim() === '') throw new ConfigError(`--variant ${JSON.stringify(text)}: names no variant`);
        variants.push(text);
        break;
      }
      case '--scenario':
        out.scenario = value();
        break;
      case '--seeds':
        out.seeds = parseInteger(name, value(), ...kLimits.seeds);
        break;
      case '--schedule':
        out.schedule = parseScheduleMode(name, value());
        break;
      case '--pct-depth':
        out.pctDepth = parseInteger(name, value(), ...kLimits.pctDepth);
        break;
      case '--preemptions':
        out.preemptions = parseInteger(name, value(), ...kLimits.preemptions);
        break;
      case '--plans':
        out.plans = parseInteger(name, value(), ...kLimits.plans);
        break;
      case '--stride':
        out.stride = parseInteger(name, value(), ...kLimits.stride);
        break;
      case '--shrink':
        out.shrink = true;
        break;
      case '--replay':
        out.replay = value();
        break;
      case '--shard':
        out.shard = parseShard(name, value());
        break;
      case '--junit': {
        const file = value();
        if (file.trim() === '') throw new ConfigError(`--junit ${JSON.stringify(file)}: names no file`);
        out.junit = file;
        break;
      }
      case '--html': {
        const file = value();
        if (file.trim() === '') throw new ConfigError(`--html ${JSON.stringify(file)}: names no file`);
        out.html = file;
        break;
      }
      case '--stop-on-first':
        out.stopOnFirst = true;
        break;
      case '--until-expected':
        out.untilExpected = true;
        break;
      case '--json':
        out.json = true;
        break;
      case '--no-jitter':
        out.jitter = false;
        break;
      case '--list':
        out.list = true;
        break;
      case '--full':
        out.full = true;
        break;
      case '--quick':
        out.full = false;
        break;
      case '--help':
      case '-h':
        out.help = true;
        break;
      default:
        throw new ConfigError(`unknown flag ${JSON.stringify(arg)} (see --help)`);
    }
  }
  if (variants.length > 0) out.variants = variants;
  return out;
}

/** How an error names an input: `--scenario "x"` for a flag, `LOCKSTRESS_SCENARIO="x"` for a variable. */
export function namedInput(origin: string, value: string): string {
  return origin.startsWith('--') ? `${origin} ${JSON.stringify(value)}` : `${origin}=${JSON.stringify(value)}`;
}

/** Merges environment and flags (flags win), keeping the origin of each merged field. */
export function mergeOptions(fromEnv: StressOptions, fromArgs: StressOptions): StressOptions {
  const origins = { ...kDefaultStressOptions.origins, ...fromEnv.origins };
  if (fromArgs.variants !== undefined) origins.variants = '--variant';
  if (fromArgs.scenario !== undefined) origins.scenario = '--scenario';
  if (fromArgs.junit !== undefined) origins.junit = '--junit';
  if (fromArgs.replay !== undefined) origins.replay = '--replay';
  if (fromArgs.html !== undefined) origins.html = '--html';
  return { ...fromEnv, ...fromArgs, origins };
}

export const kStressUsage = `usage: npm run stress -- [flags]     (or: node dist/src/cli/stress.js [flags])

Runs every variant of a scenario on real threads and gives each a verdict.

flags (each mirrors an environment variable; flags win):
  --threads N         worker threads, 1..${kMaxThreads}                 LOCKSTRESS_THREADS    (default 4)
  --seed N            seed of plans and jitter, 0..2^32-1        LOCKSTRESS_SEED       (default random, printed)
  --duration-ms N     time budget per variant                    LOCKSTRESS_DURATION_MS (default 1500)
  --rounds N          round limit per variant, 0 = none          LOCKSTRESS_ROUNDS     (default 0)
  --hang-ms N         a lock wait this long with no cycle=stuck  LOCKSTRESS_HANG_MS    (default 500)
  --min-rounds N      fewer rounds than this and no decisive     LOCKSTRESS_MIN_ROUNDS (default 20)
                      evidence: the verdict is inconclusive
  --variant NAME      run only this variant (repeatable)         LOCKSTRESS_VARIANT    (comma-separated)
  --scenario PATH     vfio-kvm, or a scenario module (.js, .ts)  LOCKSTRESS_SCENARIO   (default vfio-kvm)
  --seeds K           run every variant under K seeds: seed,     LOCKSTRESS_SEEDS      (default 1)
                      seed+1, ..., seed+K-1
  --shard I/N         run only the I-th of N round-robin slices  LOCKSTRESS_SHARD      (default: all)
                      of the (seed, variant) units
  --stop-on-first     stop a variant at its first finding        LOCKSTRESS_STOP_ON_FIRST=1
  --until-expected    stop a variant once it showed what it expects LOCKSTRESS_UNTIL_EXPECTED=1
  --json              one JSON document on stdout                LOCKSTRESS_JSON=1
  --schedule MODE     os: the OS interleaves (jitter widens      LOCKSTRESS_SCHEDULE   (default os)
                      races); random, pct or exhaustive: one thread
                      runs at a time and the policy picks it (replayable)
  --pct-depth D       PCT's bug depth (D-1 change points)         LOCKSTRESS_PCT_DEPTH  (default 5)
                      exhaustive: every schedule with at most K
                      preemptions of the plans of P rounds
  --preemptions K     exhaustive: the preemption bound           LOCKSTRESS_PREEMPTIONS (default 2)
  --plans P           exhaustive: plans of rounds 1..P (distinct) LOCKSTRESS_PLANS     (default 16)
  --replay TOKEN      run exactly the round a report's replay     LOCKSTRESS_REPLAY
                      token names, with its scheduling decisions
  --shrink            make a failing controlled round minimal     LOCKSTRESS_SHRINK=1
                      (threads, ops, preemptions) and print it as
                      a numbered interleaving
  --junit FILE        also write JUnit XML, one testcase/variant  LOCKSTRESS_JUNIT
  --html FILE         also write one self-contained HTML report  LOCKSTRESS_HTML
                      (graphs, timelines, lock_stat, coverage)
  --no-jitter         no seeded pauses before locks              LOCKSTRESS_JITTER=0
  --stride N          os schedule: rounds per barrier rendezvous, LOCKSTRESS_STRIDE    (default 8)
                      each in its own copy of the world, 1..64
  --full              also run the extended variants (see --list) LOCKSTRESS_FULL=1
  --quick             only the variants not marked extended       (the default)
  --list              list the variants with their descriptions
  --help              this text

  merge A.json B.json ... [--junit FILE]
                      merge --json documents (shards) into one on stdout, with the
                      verdict and exit status of the whole

exit status: 0 every variant passed (or was skipped), 1 a variant failed, 2 bad input,
             3 none failed but one was inconclusive, 130 interrupted`;
