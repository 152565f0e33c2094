/**
 * `lockstress merge A.json B.json ... [--junit FILE]`: reads `--json` documents, prints the merged
 * document on stdout and a summary on stderr, optionally writes JUnit XML of the whole, and returns
 * the exit status of the whole. Bad input is a ConfigError (the stress CLI prints it, exit 2).
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { parseDocument } from '../report/document.js';
import { toJunit } from '../report/junit.js';
import { type NamedDocument, mergeDocuments } from '../report/merge.js';
import { formatMergeSummary } from '../report/merge-text.js';
import { writeReportFile } from './write-report.js';

export const kMergeUsage = `usage: lockstress merge A.json B.json ... [--junit FILE]
       (or: npm run -s merge -- A.json B.json ...)

Merges --json documents of one scenario (the shards of a run, or separate runs) into one
document on stdout, with the verdict and exit status of the whole; a summary goes to stderr.

  --junit FILE   also write JUnit XML of the whole

exit status: 0 every variant passed (or was skipped), 1 a variant failed, 2 bad input (a
             missing or unreadable file, not a lockstress document, different scenarios, a
             variant and seed in two documents, a missing or repeated shard), 3 none failed
             but one was inconclusive, 130 a merged run was interrupted`;

export function mergeMain(args: readonly string[]): number {
  const files: string[] = [];
  let junit = '';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${kMergeUsage}\n`);
      return 0;
    }
    if (arg === '--junit' || arg.startsWith('--junit=')) {
      const value = arg === '--junit' ? args[++i] : arg.slice('--junit='.length);
      if (value === undefined || value.trim() === '' || (arg === '--junit' && value.startsWith('--'))) {
        throw new ConfigError('merge --junit: missing file name');
      }
      junit = value;
      continue;
    }
    if (arg.startsWith('--')) throw new ConfigError(`merge: unknown flag ${JSON.stringify(arg)} (see lockstress merge --help)`);
    files.push(arg);
  }
  const inputs: NamedDocument[] = files.map((file) => ({ file, doc: parseDocument(readDocument(file), file) }));
  const merged = mergeDocuments(inputs);
  const sources = inputs.flatMap(({ file, doc }) => doc.variants.map((v) => ({ key: `${v.name}\u0000${v.seed}`, file })));
  const fileOf = new Map(sources.map((s) => [s.key, s.file]));
  process.stderr.write(`${formatMergeSummary(merged, (i) => {
    const v = merged.variants[i];
    return v === undefined ? '' : (fileOf.get(`${v.name}\u0000${v.seed}`) ?? '');
  })}\n`);
  if (junit !== '') writeReportFile('merge --junit', junit, toJunit(merged));
  process.stdout.write(`${JSON.stringify(merged)}\n`);
  return merged.exitCode;
}

function readDocument(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`merge: ${JSON.stringify(file)}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(error)})`}`);
  }
}
