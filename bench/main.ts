/**
 * `npm run bench`: every suite, a table per suite, the headline ratios with their targets, and
 * with `--json` one JSON document on stdout (tables then go to stderr). Targets are printed as
 * met or not met; nothing here is asserted. Bad input: one line naming it, exit 2.
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../src/errors.js';
import type { BenchResult, SuiteOutput, Unavailable } from './bench-result.js';
import { type BenchConfig, benchConfig, kBenchUsage } from './config.js';
import { computeRatios, formatRatios, formatTable, formatUnavailable, toBenchJson } from './report.js';
import { runContended, runHandoff } from './suites/contended.js';
import { runStressThroughput } from './suites/stress.js';
import { runUncontended } from './suites/uncontended.js';
import { runV8Mutex } from './suites/v8-mutex.js';
import { runVfioKvm } from './suites/vfio-kvm.js';

export interface BenchRun {
  suites: Array<{ title: string; output: SuiteOutput }>;
  results: BenchResult[];
  unavailable: Unavailable[];
}

export async function runBench(config: BenchConfig, progress: (line: string) => void = () => undefined): Promise<BenchRun> {
  const suites: BenchRun['suites'] = [];
  const step = async (title: string, run: () => SuiteOutput | Promise<SuiteOutput>): Promise<void> => {
    progress(`bench: ${title}...`);
    suites.push({ title, output: await run() });
  };
  await step('uncontended lock+unlock pair, one thread', () => runUncontended(config.timeMs));
  await step("V8's native Atomics.Mutex, one thread (child node --harmony-struct)", () => runV8Mutex(config.timeMs));
  await step(`contended, ${config.threadCounts.join('/')} threads, tiny critical section`, () => runContended(config.timeMs, config.threadCounts));
  await step('handoff latency between 2 threads', () => runHandoff(config.timeMs));
  await step('vfio/kvm DEV_OPEN + DEV_CLOSE', () => runVfioKvm(config.timeMs, Math.max(...config.threadCounts)));
  await step(`stress throughput, 2b48f52f2bff, ${config.stressThreads} threads`, () =>
    runStressThroughput(Math.max(200, config.timeMs * 3), config.stressThreads),
  );
  return {
    suites,
    results: suites.flatMap((s) => s.output.results),
    unavailable: suites.flatMap((s) => s.output.unavailable),
  };
}

async function main(): Promise<number> {
  const config = benchConfig(process.env, process.argv.slice(2));
  if (config.help) {
    process.stdout.write(`${kBenchUsage}\n`);
    return 0;
  }
  const human = config.json ? process.stderr : process.stdout;
  const run = await runBench(config, process.stderr.isTTY === true ? (line) => process.stderr.write(`${line}\n`) : undefined);
  const ratios = computeRatios(run.results);
  const cpus = availableParallelism();
  human.write(`lockstress bench: node ${process.version}, ${cpus} cpus, ${config.timeMs} ms per task\n\n`);
  for (const { title, output } of run.suites) {
    if (output.results.length > 0) human.write(`${formatTable(title, output.results)}\n\n`);
  }
  if (run.unavailable.length > 0) human.write(`${formatUnavailable(run.unavailable)}\n\n`);
  human.write(`${formatRatios(ratios)}\n`);
  human.write('\nAbsolute times vary between machines; compare ratios from one run.\n');
  if (config.json) process.stdout.write(`${JSON.stringify(toBenchJson(run.results, ratios, run.unavailable, cpus))}\n`);
  return 0;
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

// Only as the entry point (tests import runBench).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await mainOrExit();
}
