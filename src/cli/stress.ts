#!/usr/bin/env node
/**
 * `npm run stress`: parse, run, print, exit. The only catch in lockstress that prints and exits:
 * bad input is one line naming the input, exit 2; anything else is a bug, exit 70.
 */
import { ConfigError, LimitError, ScenarioError } from '../errors.js';
import { formatExpectation } from '../runner/verdict.js';
import {
  type ResolvedStressOptions,
  kStressUsage,
  mergeOptions,
  optionsFromArgs,
  optionsFromEnv,
  resolveStressOptions,
} from '../runner/options.js';
import { toDocument } from '../report/document.js';
import { toJunit } from '../report/junit.js';
import { formatShardedReport } from '../report/sharded-text.js';
import { statusWord } from '../runner/report.js';
import { loadSelection } from '../runner/run-stress.js';
import { runSharded } from '../runner/run-sharded.js';
import { type StressRun, withReplay } from '../runner/run-stress.js';
import { shrink, shrinkKind } from '../runner/shrink.js';
import { formatReproducer } from '../schedule/reproducer.js';
import type { StressDocument } from '../report/document-types.js';
import { mergeMain } from './merge.js';
import { checkReportPath, writeReportFile } from './write-report.js';

export const kExitPass = 0;
export const kExitFail = 1;
export const kExitBadInput = 2;
/** No variant failed, but at least one ran too few rounds to say (see `--min-rounds`). */
export const kExitInconclusive = 3;
export const kExitInterrupted = 130;
const kExitInternal = 70;

async function main(argv: readonly string[]): Promise<number> {
  try {
    if (argv[0] === 'merge') return mergeMain(argv.slice(1));
    const options = withReplay(resolveStressOptions(mergeOptions(optionsFromEnv(process.env), optionsFromArgs(argv))));
    if (options.help) {
      process.stdout.write(`${kStressUsage}\n`);
      return kExitPass;
    }
    if (options.list) return await list(options);
    return await stress(options);
  } catch (error) {
    // Bad input, a capacity passed, or a mistake in scenario code: one line, exit 2.
    if (error instanceof ConfigError || error instanceof LimitError || error instanceof ScenarioError) {
      process.stderr.write(`lockstress: ${error.message}\n`);
      return kExitBadInput;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`lockstress: internal error (please report): ${message}\n`);
    return kExitInternal;
  }
}

async function list(options: ResolvedStressOptions): Promise<number> {
  // Every variant, the extended ones too, each marked with the run that includes it.
  const { scenario, variants } = await loadSelection({ ...options, full: true });
  if (variants.length === 0) return kExitPass;
  const width = Math.max(...variants.map((v) => v.name.length)) + 2;
  const extended = variants.filter((v) => v.extended).length;
  const lines = [`${scenario.name}: ${scenario.description}`];
  if (extended > 0) lines.push(`${variants.length - extended} variants run by default (--quick); --full adds the ${extended} marked [full]`);
  lines.push('');
  for (const v of variants) {
    const tier = v.extended ? ' [full]' : '';
    lines.push(`${v.name.padEnd(width)}expect ${formatExpectation(v.expect)}${tier}\n${''.padEnd(width)}${v.description}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return kExitPass;
}

async function stress(options: ResolvedStressOptions): Promise<number> {
  const human = options.json ? process.stderr : process.stdout;
  const interrupt = new AbortController();
  const onSigint = (): void => {
    if (interrupt.signal.aborted) process.exit(kExitInterrupted); // a second ^C: leave now
    process.stderr.write('\nlockstress: interrupted, tearing down the current round...\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  const showProgress = process.stderr.isTTY === true;
  if (options.junit !== '') checkReportPath(options.origins.junit, options.junit);
  if (options.html !== '') checkReportPath(options.origins.html, options.html);
  const startedAt = new Date();
  if (options.shrink && options.replay === '' && options.schedule === 'os') {
    throw new ConfigError('--shrink needs a round it can replay: give --replay TOKEN, or --schedule random, pct or exhaustive');
  }
  try {
    if (options.shrink && options.replay !== '') return await shrinkOne(options, human, startedAt);
    const run = await runSharded(options, {
      interrupt: interrupt.signal,
      // One line on stderr as the run starts: what runs, and the seed that replays it.
      started: (info) =>
        process.stderr.write(
          `lockstress: running ${info.variants} variant${info.variants === 1 ? '' : 's'} of ${info.scenario} on ${info.threads} thread${info.threads === 1 ? '' : 's'}, seed ${info.seed}\n`,
        ),
      progress: showProgress ? (text) => process.stderr.write(`\r\x1b[K${text}`) : undefined,
      variantDone: showProgress
        ? (v) => process.stderr.write(`\r\x1b[K${v.name}: ${statusWord(v)} (${v.rounds} rounds)\n`)
        : undefined,
    });
    if (showProgress) process.stderr.write('\r\x1b[K');
    const doc = toDocument({ ...run, startedAt });
    human.write(`${formatShardedReport(run, doc, options.durationMs)}\n`);
    if (options.shrink) await shrinkEach(options, run.runs, doc, human);
    if (options.junit !== '') writeReportFile(options.origins.junit, options.junit, toJunit(doc));
    if (options.html !== '') {
      // Loaded only when asked for: it brings the graph layout library.
      const { toHtml } = await import('../report/html.js');
      writeReportFile(options.origins.html, options.html, toHtml(doc));
    }
    if (options.json) process.stdout.write(`${JSON.stringify(doc)}\n`);
    return doc.exitCode;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** `--replay TOKEN --shrink`: the shrunk round's report (its variant carries the reproducer). */
async function shrinkOne(options: ResolvedStressOptions, human: NodeJS.WritableStream, startedAt: Date): Promise<number> {
  const result = await shrink(options, options.replay, (line) => process.stderr.write(`lockstress: ${line}\n`));
  const run = result.run;
  const sharded = {
    scenario: run.scenario,
    runs: [run],
    units: run.variants.map((v) => ({ variant: v.name, seed: run.seed })),
    totalUnits: run.variants.length,
    shard: null,
    seed: run.seed,
    seeds: 1,
    threads: run.threads,
    interrupted: run.interrupted,
    durationMs: run.durationMs,
  };
  const doc = toDocument({ ...sharded, startedAt });
  human.write(
    `lockstress: shrunk the ${result.kind} of the replayed round to ${result.reproducer.threads} threads, ${result.reproducer.ops} ops, ${result.reproducer.preemptions} preemptions (${result.tries} exploration runs)\n\n`,
  );
  human.write(`${formatShardedReport(sharded, doc, options.durationMs)}\n`);
  if (options.json) process.stdout.write(`${JSON.stringify(doc)}\n`);
  return doc.exitCode;
}

/** `--shrink` after a controlled run: each variant's first finding, shrunk, into the report and the JSON. */
async function shrinkEach(options: ResolvedStressOptions, runs: readonly StressRun[], doc: StressDocument, human: NodeJS.WritableStream): Promise<void> {
  for (const run of runs) {
    for (const v of run.variants) {
      const kind = shrinkKind(v.seen);
      const token = v.findings.find((f) => f.kind === kind)?.first.replay;
      if (kind === null || token === undefined) continue;
      const result = await shrink(options, token, (line) => process.stderr.write(`lockstress: ${v.name}: ${line}\n`));
      human.write(`\n== shrunk ${v.name} (${result.kind}): ${formatReproducer(result.reproducer)}\n`);
      const entry = doc.variants.find((d) => d.name === v.name && d.seed === run.seed);
      if (entry !== undefined) entry.reproducer = result.reproducer;
    }
  }
}

process.exitCode = await main(process.argv.slice(2));
