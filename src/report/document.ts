/**
 * The JSON document of `--json`, as a type: what `toJson` (runner/report.ts) prints for one run,
 * with what a run over several seeds or a shard adds (each variant's seed, the shard, the verdict of
 * the whole), and what `lockstress merge` reads back. JUnit is rendered from this document, so a
 * run and a merge of shards give the same XML.
 */
import { ConfigError } from '../errors.js';
import { toJson } from '../runner/report.js';
import type { StressRun } from '../runner/run-stress.js';
import type { ShardSpec } from '../runner/shard.js';
import type { VerdictStatus } from '../runner/verdict.js';
import type { FindingDocument, RunVerdict, StressDocument, VariantDocument, VariantStatus } from './document-types.js';

export type { FindingDocument, RunVerdict, StressDocument, VariantDocument, VariantStatus } from './document-types.js';

// The document's status union and the runner's must stay one and the same.
const kSameStatuses: [VariantStatus, VerdictStatus] extends [VerdictStatus, VariantStatus] ? true : never = true;
void kSameStatuses;

export const kRunExitCodes: Readonly<Record<RunVerdict, number>> = { pass: 0, fail: 1, inconclusive: 3, interrupted: 130 };

/**
 * The rule for a whole run, the same for a run and a merge: interrupted; else `fail` if a variant
 * failed; else `inconclusive` if one is neither passed nor skipped; else `pass`.
 */
export function runVerdict(statuses: readonly VerdictStatus[], interrupted: boolean): RunVerdict {
  if (interrupted) return 'interrupted';
  if (statuses.includes('fail')) return 'fail';
  if (statuses.some((s) => s !== 'pass' && s !== 'skipped')) return 'inconclusive';
  return 'pass';
}

export interface DocumentInputs {
  /** One run per seed, in seed order (a run over one seed is one run). */
  runs: readonly StressRun[];
  scenario: string;
  seed: number;
  seeds: number;
  threads: number;
  startedAt: Date;
  durationMs: number;
  interrupted: boolean;
  shard: ShardSpec | null;
}

/** The document of a run: `toJson` of each seed's run, each variant stamped with its seed. */
export function toDocument(inputs: DocumentInputs): StressDocument {
  const variants = inputs.runs.flatMap((run) => {
    const json = toJson(run) as { variants: Array<Omit<VariantDocument, 'seed'>> };
    return json.variants.map((v) => ({ ...v, seed: run.seed }));
  });
  return finishDocument({
    tool: 'lockstress',
    scenario: inputs.scenario,
    seed: inputs.seed,
    seeds: inputs.seeds,
    threads: inputs.threads,
    startedAt: inputs.startedAt.toISOString(),
    durationMs: inputs.durationMs,
    interrupted: inputs.interrupted,
    shard: inputs.shard,
    variants,
  });
}

/** Adds `ok`, `verdict` and `exitCode`, computed from the variants. */
export function finishDocument(doc: Omit<StressDocument, 'ok' | 'verdict' | 'exitCode'>): StressDocument {
  const verdict = runVerdict(
    doc.variants.map((v) => v.status),
    doc.interrupted,
  );
  return { ...doc, ok: verdict === 'pass', verdict, exitCode: kRunExitCodes[verdict] };
}

const kStatuses: readonly VerdictStatus[] = ['pass', 'fail', 'inconclusive', 'skipped', 'interrupted'];

/**
 * Reads a `--json` document back (for `lockstress merge`). Anything that is not one is a
 * ConfigError naming the file. Documents written before per-variant seeds existed get the run's
 * seed; before statuses existed, `pass` decides between pass and fail.
 */
export function parseDocument(text: string, file: string): StressDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`merge: ${JSON.stringify(file)}: not JSON (${reason})`);
  }
  const bad = (why: string): ConfigError => new ConfigError(`merge: ${JSON.stringify(file)}: not a lockstress --json document (${why})`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not an object');
  const doc = value as Record<string, unknown>;
  if (doc.tool !== 'lockstress') throw bad('no "tool": "lockstress"');
  if (typeof doc.scenario !== 'string') throw bad('no "scenario"');
  if (!Array.isArray(doc.variants)) throw bad('no "variants" list');
  const runSeed = typeof doc.seed === 'number' ? doc.seed : null;
  const variants = doc.variants.map((raw: unknown, index): VariantDocument => {
    if (typeof raw !== 'object' || raw === null) throw bad(`variants[${index}] is not an object`);
    const v = raw as Record<string, unknown>;
    if (typeof v.name !== 'string' || v.name === '') throw bad(`variants[${index}] has no name`);
    const status = typeof v.status === 'string' ? v.status : typeof v.pass === 'boolean' ? (v.pass ? 'pass' : 'fail') : undefined;
    if (!kStatuses.includes(status as VerdictStatus)) throw bad(`variant ${v.name} has no valid status`);
    const seed = typeof v.seed === 'number' ? v.seed : runSeed;
    if (seed === null) throw bad(`variant ${v.name} has no seed`);
    return {
      ...(v as unknown as VariantDocument),
      status: status as VerdictStatus,
      pass: status === 'pass',
      note: typeof v.note === 'string' ? v.note : '',
      expect: Array.isArray(v.expect) ? (v.expect as VariantDocument['expect']) : ['clean'],
      seen: Array.isArray(v.seen) ? (v.seen as string[]) : [],
      rounds: typeof v.rounds === 'number' ? v.rounds : 0,
      durationMs: typeof v.durationMs === 'number' ? v.durationMs : 0,
      errors: Array.isArray(v.errors) ? (v.errors as string[]) : [],
      findings: Array.isArray(v.findings) ? (v.findings as FindingDocument[]) : [],
      seed,
    };
  });
  const shard = parseShardField(doc.shard);
  return finishDocument({
    tool: 'lockstress',
    scenario: doc.scenario,
    seed: runSeed,
    seeds: typeof doc.seeds === 'number' ? doc.seeds : 1,
    threads: typeof doc.threads === 'number' ? doc.threads : null,
    startedAt: typeof doc.startedAt === 'string' ? doc.startedAt : '',
    durationMs: typeof doc.durationMs === 'number' ? doc.durationMs : 0,
    interrupted: doc.interrupted === true,
    shard,
    variants,
  });
}

function parseShardField(value: unknown): ShardSpec | null {
  if (typeof value !== 'object' || value === null) return null;
  const { index, count } = value as Record<string, unknown>;
  return typeof index === 'number' && typeof count === 'number' ? { index, count } : null;
}

/** `deadlock + lock-order-cycle`, `refcount-underflow|use-after-free`, `clean`. */
export function formatDocumentExpectation(expect: VariantDocument['expect']): string {
  if (expect.length === 0 || (expect.length === 1 && expect[0] === 'clean')) return 'clean';
  return expect.map((entry) => (typeof entry === 'string' ? entry : entry.join('|'))).join(' + ');
}
