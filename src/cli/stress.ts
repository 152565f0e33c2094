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
    const options = resolveStressOptions(mergeOptions(optionsFromEnv(process.env), optionsFromArgs(argv)));
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
  const { scenario, variants } = await loadSelection(options);
  if (variants.length === 0) return kExitPass;
  const width = Math.max(...variants.map((v) => v.name.length)) + 2;
  const lines = [`${scenario.name}: ${scenario.description}`, ''];
  for (const v of variants) lines.push(`${v.name.padEnd(width)}expect ${formatExpectation(v.expect)}\n${''.padEnd(width)}${v.description}`);
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
  try {
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

process.exitCode = await main(process.argv.slice(2));
