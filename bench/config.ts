/**
 * Bench options: `LOCKSTRESS_BENCH_THREADS` (thread counts of the contended suites),
 * `LOCKSTRESS_BENCH_TIME_MS` (time per task) and `LOCKSTRESS_BENCH_REPEAT` (how many times the
 * headline ratios are measured), parsed here and nowhere else. `LOCKSTRESS_THREADS` sets the
 * stress-throughput thread count, as for `npm run stress`. A flag overrides its variable.
 */
import { ConfigError } from '../src/errors.js';
import { kMaxThreads, parseInteger } from '../src/runner/options.js';

export interface BenchConfig {
  /** Thread counts for contended suites. `LOCKSTRESS_BENCH_THREADS`, default `1,2,4`. */
  threadCounts: number[];
  /** Time per tinybench task, ms. `LOCKSTRESS_BENCH_TIME_MS`, default 1000. */
  timeMs: number;
  /** Threads of the stress-throughput suite and the timed mix. `LOCKSTRESS_THREADS`, default 4. */
  stressThreads: number;
  /** Times the whole headline measurement runs. `LOCKSTRESS_BENCH_REPEAT` or `--repeat N`, default 1. */
  repeat: number;
  /** One JSON document on stdout. `--json`. */
  json: boolean;
  /** Folder for the timed mix's latency chart (mix-latency.svg), '' = none. `--plot DIR`. */
  plot: string;
  /** Only the headline ratios (and the engine's limit table measured with them). `--headline-only`. */
  headlineOnly: boolean;
  help: boolean;
}

export const kDefaultBenchConfig: BenchConfig = { threadCounts: [1, 2, 4], timeMs: 1000, stressThreads: 4, repeat: 1, json: false, plot: '', headlineOnly: false, help: false };

/** Bounds of `--repeat` / `LOCKSTRESS_BENCH_REPEAT`. */
export const kRepeatLimits = [1, 100] as const;

export const kBenchUsage = `usage: npm run bench -- [--repeat N] [--headline-only] [--json] [--plot DIR] [--help]

Measures what each lock costs: uncontended, contended and handoff, against raw Atomics,
async-mutex and V8's Atomics.Mutex, plus the vfio/kvm open+close path, stress throughput, the
stress engine beside its barrier's rendezvous limit, and the timed open/release mix of every
kernel version (op latencies, deadlocks, stalls, leaked references).
The headline ratios are measured in alternating rounds (see the README, "Benchmarks").
Ctrl-C stops the run, prints the part that is done and exits 130.

environment:
  LOCKSTRESS_BENCH_THREADS   thread counts of the contended suites   (default 1,2,4)
  LOCKSTRESS_BENCH_TIME_MS   time per measured task, ms               (default 1000)
  LOCKSTRESS_BENCH_REPEAT    times the headline ratios are measured   (default 1)
  LOCKSTRESS_THREADS         threads of the stress-throughput suite and the timed mix (default 4)
flags:
  --repeat N                 as LOCKSTRESS_BENCH_REPEAT; prints the spread of the N medians
  --headline-only            only the headline ratios (and the rendezvous limit beside the
                             engine, measured with them): no suite tables, no timed mix
  --json                     one JSON document on stdout, tables on stderr
  --plot DIR                 write DIR/mix-latency.svg: the timed mix's latency by percentile
  --help                     this text`;

export function parseThreadCounts(text: string): number[] {
  const bad = (): ConfigError =>
    new ConfigError(`LOCKSTRESS_BENCH_THREADS=${JSON.stringify(text)}: expected a comma-separated list of thread counts from 1 to ${kMaxThreads}`);
  return text.split(',').map((part) => {
    if (part.trim() === '') throw bad();
    try {
      return parseInteger('LOCKSTRESS_BENCH_THREADS', part, 1, kMaxThreads);
    } catch {
      throw bad();
    }
  });
}

export function benchConfig(env: NodeJS.ProcessEnv, args: readonly string[]): BenchConfig {
  const config: BenchConfig = { ...kDefaultBenchConfig };
  const threads = env.LOCKSTRESS_BENCH_THREADS;
  if (threads !== undefined && threads !== '') config.threadCounts = parseThreadCounts(threads);
  const time = env.LOCKSTRESS_BENCH_TIME_MS;
  if (time !== undefined && time !== '') config.timeMs = parseInteger('LOCKSTRESS_BENCH_TIME_MS', time, 1, 600_000);
  const repeat = env.LOCKSTRESS_BENCH_REPEAT;
  if (repeat !== undefined && repeat !== '') config.repeat = parseInteger('LOCKSTRESS_BENCH_REPEAT', repeat, ...kRepeatLimits);
  const stress = env.LOCKSTRESS_THREADS;
  if (stress !== undefined && stress !== '') config.stressThreads = parseInteger('LOCKSTRESS_THREADS', stress, 1, kMaxThreads);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--json') config.json = true;
    else if (arg === '--headline-only') config.headlineOnly = true;
    else if (arg === '--help' || arg === '-h') config.help = true;
    else if (arg === '--repeat' || arg.startsWith('--repeat=')) {
      const inline = arg.startsWith('--repeat=') ? arg.slice('--repeat='.length) : undefined;
      const next = args[i + 1];
      if (inline === undefined && (next === undefined || next.startsWith('--'))) throw new ConfigError('--repeat: missing value');
      const value = inline ?? next ?? '';
      if (inline === undefined) i++;
      config.repeat = parseInteger('--repeat', value, ...kRepeatLimits);
    } else if (arg === '--plot' || arg.startsWith('--plot=')) {
      const inline = arg.startsWith('--plot=') ? arg.slice('--plot='.length) : undefined;
      const next = args[i + 1];
      if (inline === undefined && (next === undefined || next.startsWith('--'))) throw new ConfigError('--plot: missing folder');
      const value = inline ?? next ?? '';
      if (inline === undefined) i++;
      if (value.trim() === '') throw new ConfigError('--plot="": expected a folder');
      config.plot = value;
    } else throw new ConfigError(`unknown flag ${JSON.stringify(arg)} (see --help)`);
  }
  return config;
}
