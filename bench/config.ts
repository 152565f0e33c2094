/**
 * Bench options: `LOCKSTRESS_BENCH_THREADS` (thread counts of the contended suites) and
 * `LOCKSTRESS_BENCH_TIME_MS` (time per task), parsed here and nowhere else. `LOCKSTRESS_THREADS`
 * sets the stress-throughput thread count, as for `npm run stress`.
 */
import { ConfigError } from '../src/errors.js';
import { kMaxThreads, parseInteger } from '../src/runner/options.js';

export interface BenchConfig {
  /** Thread counts for contended suites. `LOCKSTRESS_BENCH_THREADS`, default `1,2,4`. */
  threadCounts: number[];
  /** Time per tinybench task, ms. `LOCKSTRESS_BENCH_TIME_MS`, default 1000. */
  timeMs: number;
  /** Threads of the stress-throughput suite. `LOCKSTRESS_THREADS`, default 4. */
  stressThreads: number;
  /** One JSON document on stdout. `--json`. */
  json: boolean;
  help: boolean;
}

export const kDefaultBenchConfig: BenchConfig = { threadCounts: [1, 2, 4], timeMs: 1000, stressThreads: 4, json: false, help: false };

export const kBenchUsage = `usage: npm run bench -- [--json] [--help]

Measures what each lock costs: uncontended, contended and handoff, against raw Atomics,
async-mutex and V8's Atomics.Mutex, plus the vfio/kvm open+close path and stress throughput.

environment:
  LOCKSTRESS_BENCH_THREADS   thread counts of the contended suites   (default 1,2,4)
  LOCKSTRESS_BENCH_TIME_MS   time per measured task, ms               (default 1000)
  LOCKSTRESS_THREADS         threads of the stress-throughput suite   (default 4)
flags:
  --json                     one JSON document on stdout, tables on stderr
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
  const stress = env.LOCKSTRESS_THREADS;
  if (stress !== undefined && stress !== '') config.stressThreads = parseInteger('LOCKSTRESS_THREADS', stress, 1, kMaxThreads);
  for (const arg of args) {
    if (arg === '--json') config.json = true;
    else if (arg === '--help' || arg === '-h') config.help = true;
    else throw new ConfigError(`unknown flag ${JSON.stringify(arg)} (see --help)`);
  }
  return config;
}
