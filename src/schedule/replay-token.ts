/**
 * Replay tokens: a compact string that names one round under a controlled schedule exactly: the
 * scenario (as it was given to `--scenario`), the variant, the thread count, the plan seed, the
 * round (the plan is derived from seed and round), the policy and every scheduling decision.
 * `--replay TOKEN` runs that round again with those decisions (a replay chooser), so it shows the
 * same finding with the same report.
 *
 * Format: `lsr1.` + base64url of a JSON object. The decisions are run-length coded: runs of one
 * thread (base 36) and a length (base 36, left out when 1), `0x1f.1xc.0` for 31 steps of thread 0,
 * 12 of thread 1, one of thread 0: a schedule has few preemptions, so few runs.
 */
import { ConfigError } from '../errors.js';

export interface ReplayToken {
  scenario: string;
  variant: string;
  threads: number;
  seed: number;
  round: number;
  /** The policy that found it (for the report); the replay follows `decisions`. */
  policy: string;
  /** The thread chosen at each step (step 0: who ran first). */
  decisions: number[];
  /** The ops of each thread when they are not the plan of `round` (a shrunk reproducer). */
  plan?: string[][];
}

const kPrefix = 'lsr1.';

export function encodeReplayToken(token: ReplayToken): string {
  const body = {
    s: token.scenario,
    v: token.variant,
    t: token.threads,
    e: token.seed,
    r: token.round,
    p: token.policy,
    d: runLengths(token.decisions),
    ...(token.plan === undefined ? {} : { o: token.plan }),
  };
  return kPrefix + Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** Parses a token; a malformed one is a ConfigError naming `what` (the flag or variable). */
export function decodeReplayToken(what: string, text: string): ReplayToken {
  const bad = (why: string): ConfigError => new ConfigError(`${what}=${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}: ${why}`);
  const trimmed = text.trim();
  if (!trimmed.startsWith(kPrefix)) throw bad('not a lockstress replay token (they start with lsr1.)');
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(Buffer.from(trimmed.slice(kPrefix.length), 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw bad('the token is damaged (copy it whole from the report)');
  }
  const { s, v, t, e, r, p, d, o } = body;
  const plan = o === undefined ? undefined : o;
  if (plan !== undefined && !(Array.isArray(plan) && plan.every((ops) => Array.isArray(ops) && ops.every((op) => typeof op === 'string')))) {
    throw bad('the token is damaged');
  }
  if (typeof s !== 'string' || typeof v !== 'string' || typeof p !== 'string' || typeof d !== 'string') throw bad('the token is damaged');
  if (![t, e, r].every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) throw bad('the token is damaged');
  const decisions = expandRuns(d);
  if (decisions === null) throw bad('the token is damaged');
  return {
    scenario: s,
    variant: v,
    threads: t as number,
    seed: e as number,
    round: r as number,
    policy: p,
    decisions,
    ...(plan === undefined ? {} : { plan: plan as string[][] }),
  };
}

function runLengths(decisions: readonly number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < decisions.length; ) {
    let j = i;
    while (j < decisions.length && decisions[j] === decisions[i]) j++;
    const thread = (decisions[i] ?? 0).toString(36);
    runs.push(j - i === 1 ? thread : `${thread}x${(j - i).toString(36)}`);
    i = j;
  }
  return runs.join('.');
}

function expandRuns(text: string): number[] | null {
  if (text === '') return [];
  const decisions: number[] = [];
  for (const run of text.split('.')) {
    const match = /^([0-9a-u])(?:x([0-9a-z]+))?$/.exec(run);
    if (match === null) return null;
    const thread = Number.parseInt(match[1] ?? '', 36);
    const length = match[2] === undefined ? 1 : Number.parseInt(match[2], 36);
    if (!Number.isSafeInteger(length) || length < 1 || decisions.length + length > 1_000_000) return null;
    for (let k = 0; k < length; k++) decisions.push(thread);
  }
  return decisions;
}
