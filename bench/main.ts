/**
 * `npm run bench`: every suite, a table per suite (none with `--headline-only`), the headline ratios (interleaved, see
 * bench/headline.ts; the engine against its barrier's limit among them) with their spread and
 * targets, the timed mix's cost and benefit lines, and with `--json` one JSON document on
 * stdout (tables then go to stderr); `--plot DIR` also draws the timed mix (bench/plot.ts).
 * Targets are printed as met or not met; nothing here is asserted. Bad input: one line naming
 * it, exit 2. Ctrl-C: the current task ends, the part that is done is printed, exit 130; the V8
 * child is killed; a second Ctrl-C leaves at once.
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../src/errors.js';
import type { BenchResult, SuiteOutput, Unavailable } from './bench-result.js';
import { type BenchConfig, benchConfig, kBenchUsage } from './config.js';
import { headlineMethod, measureHeadline } from './headline.js';
import { type PlotSeries, preparePlotDir, writeMixPlot } from './plot.js';
import {
  type RoundRatios,
  computeRatios,
  formatLimitTable,
  formatMixHeadline,
  formatMixTable,
  formatRatios,
  formatRepeats,
  formatTable,
  formatUnavailable,
  mixHeadline,
  toBenchJson,
} from './report.js';
import { runContended, runHandoff } from './suites/contended.js';
import { type EngineRounds, engineMethod, engineResults, kEngineRounds, kEngineVariant } from './suites/engine-limit.js';
import { type MixVersion, kStallFactor, mixBudgetMs, runMix } from './suites/mix.js';
import { runStressThroughput } from './suites/stress.js';
import { runUncontended } from './suites/uncontended.js';
import { killChildren, runV8Mutex } from './suites/v8-mutex.js';
import { runVfioKvm } from './suites/vfio-kvm.js';

export const kExitInterrupted = 130;

/** How a suite's table is printed: the common columns, the timed mix, or the limit beside the engine. */
export type TableKind = 'common' | 'mix' | 'limit';

export interface BenchRun {
  /** `partial`: the run was interrupted while this suite ran; its results are the tasks done. */
  suites: Array<{ title: string; output: SuiteOutput; partial: boolean; table: TableKind }>;
  results: BenchResult[];
  unavailable: Unavailable[];
  /** One entry per headline measurement (`--repeat`); the last may be partial if interrupted. */
  headline: RoundRatios[];
  /** The timed mix's versions, with their samples (for the plot). */
  mix: MixVersion[];
  interrupted: boolean;
}

export async function runBench(
  config: BenchConfig,
  progress: (line: string) => void = () => undefined,
  signal?: AbortSignal,
): Promise<BenchRun> {
  const suites: BenchRun['suites'] = [];
  const unavailable: Unavailable[] = [];
  const headline: RoundRatios[] = [];
  const engine: EngineRounds[] = [];
  const mix: MixVersion[] = [];
  const aborted = (): boolean => signal?.aborted === true;
  const step = async (title: string, run: () => SuiteOutput | Promise<SuiteOutput>, table: TableKind = 'common'): Promise<void> => {
    if (aborted() || config.headlineOnly) return;
    progress(`bench: ${title}...`);
    const output = await run();
    suites.push({ title, output, partial: aborted(), table });
    unavailable.push(...output.unavailable);
  };
  const child = {
    ...(signal === undefined ? {} : { signal }),
    spawned: (pid: number) => progress(`bench: child node --harmony-struct started, pid ${pid}`),
  };
  await step('uncontended lock+unlock pair, one thread', () => runUncontended(config.timeMs, signal));
  await step("V8's native Atomics.Mutex, one thread (child node --harmony-struct)", () => runV8Mutex(config.timeMs, child));
  for (let i = 1; i <= config.repeat && !aborted(); i++) {
    progress(`bench: headline ratios, interleaved${config.repeat > 1 ? ` (repeat ${i} of ${config.repeat})` : ''}...`);
    const measurement = await measureHeadline(config.timeMs, child, config.threadCounts);
    headline.push(measurement.rounds);
    if (measurement.engine !== null) engine.push(measurement.engine);
    for (const u of measurement.unavailable) {
      if (!unavailable.some((seen) => seen.name === u.name && seen.reason === u.reason)) unavailable.push(u);
    }
  }
  const limit = engineMethod(config.timeMs);
  const limitResults = engineResults(engine);
  if (limitResults.length > 0) {
    suites.push({
      title: `the rendezvous limit beside the engine (with the headline, interleaved: ${kEngineRounds} rounds of ${limit.barrierMs} ms of barrier crossings and a ${limit.stressMs} ms stress run of ${kEngineVariant}${engine.length > 1 ? `, x${engine.length} repeats pooled` : ''}; median, min-max)`,
      output: { results: limitResults, unavailable: [] },
      partial: aborted(),
      table: 'limit',
    });
  }
  await step(`contended, ${config.threadCounts.join('/')} threads, tiny critical section`, () =>
    runContended(config.timeMs, config.threadCounts, signal),
  );
  await step('handoff latency between 2 threads', () => runHandoff(config.timeMs, signal));
  await step('vfio/kvm DEV_OPEN + DEV_CLOSE', () => runVfioKvm(config.timeMs, Math.max(...config.threadCounts), signal));
  await step(`stress throughput, 2b48f52f2bff, ${config.stressThreads} threads`, () =>
    runStressThroughput(Math.max(200, config.timeMs * 3), config.stressThreads, signal),
  );
  const mixMs = mixBudgetMs(config.timeMs);
  await step(
    `vfio/kvm timed mix: every op of each version's own plan, ${config.stressThreads} threads, ${mixMs} ms per version (the real engine: tracking and watchdog on, jitter off; stalls: ops over ${kStallFactor}x the median)`,
    async () => {
      const output = await runMix({ durationMs: mixMs, threads: config.stressThreads, ...(signal === undefined ? {} : { signal }) });
      mix.push(...output.versions);
      return output;
    },
    'mix',
  );
  return {
    suites,
    results: suites.flatMap((s) => s.output.results),
    unavailable,
    headline,
    mix,
    interrupted: aborted(),
  };
}

async function main(): Promise<number> {
  const config = benchConfig(process.env, process.argv.slice(2));
  if (config.help) {
    process.stdout.write(`${kBenchUsage}\n`);
    return 0;
  }
  const human = config.json ? process.stderr : process.stdout;
  if (config.plot !== '') preparePlotDir(config.plot);
  const interrupt = new AbortController();
  const onSigint = (): void => {
    // A second ^C: leave now, once a running V8 child is killed and reaped (within 1 s).
    if (interrupt.signal.aborted) {
      void killChildren().then(() => process.exit(kExitInterrupted));
      return;
    }
    process.stderr.write('\nlockstress bench: interrupted, stopping after the current task (Ctrl-C again to leave at once)...\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const run = await runBench(config, (line) => process.stderr.write(`${line}\n`), interrupt.signal);
    const ratios = computeRatios(run.headline);
    const cpus = availableParallelism();
    human.write(`lockstress bench: node ${process.version}, ${cpus} cpus, ${config.timeMs} ms per task\n\n`);
    const formats = { common: formatTable, mix: formatMixTable, limit: formatLimitTable };
    for (const { title, output, partial, table } of run.suites) {
      if (output.results.length > 0) human.write(`${formats[table](partial ? `${title} (interrupted: the tasks done)` : title, output.results)}\n\n`);
    }
    if (run.unavailable.length > 0) human.write(`${formatUnavailable(run.unavailable)}\n\n`);
    human.write(`${formatRatios(ratios, { ...headlineMethod(config.timeMs), repeat: run.headline.length }, run.interrupted)}\n`);
    if (run.headline.length > 1) human.write(`\n${formatRepeats(run.headline)}\n`);
    const fix = mixHeadline(run.results);
    if (fix !== null) human.write(`\n${formatMixHeadline(fix)}\n`);
    human.write('\nAbsolute times vary between machines and moments; the headline ratios are measured interleaved.\n');
    if (run.interrupted) human.write('INTERRUPTED: the tables above are the part that was done.\n');
    if (config.json) {
      const json = toBenchJson(run.results, ratios, run.unavailable, cpus, { measurements: run.headline, interrupted: run.interrupted, mix: fix });
      process.stdout.write(`${JSON.stringify(json)}\n`);
    }
    if (config.plot !== '' && run.mix.length > 0) {
      const series: PlotSeries[] = run.mix.map(({ result, sortedUs }) => ({
        label: result.name.replace(/^vfio-kvm\/mix\//, ''),
        sortedUs,
        detail: `${result.deadlocks ?? 0} deadlocks, ${result.leakedRefs ?? 0} leaked refs, ${result.samples.toLocaleString('en-US')} ops`,
      }));
      const path = writeMixPlot(
        config.plot,
        series,
        'vfio/kvm timed mix: op latency by percentile',
        `${config.stressThreads} threads on ${cpus} cpus, ${mixBudgetMs(config.timeMs)} ms per version, node ${process.version}; a deadlocked op counts until its round was torn down`,
      );
      process.stderr.write(`bench: wrote ${path}\n`);
    }
    return run.interrupted ? kExitInterrupted : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** The one catch that prints: bad input is one line and exit 2, anything else one line and exit 1. */
async function mainOrExit(): Promise<number> {
  try {
    return await main();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`lockstress bench: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`lockstress bench: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

// Only as the entry point.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await mainOrExit();
}
