/**
 * The bench's output: a table per suite, the headline ratios with their targets, and the JSON.
 * The headline ratios come from interleaved rounds (bench/interleave.ts): each ratio is the
 * median of its per-round ratios, with their min and max and the number of rounds.
 */
import type { BenchResult, Unavailable } from './bench-result.js';
import { round } from './bench-result.js';

export type RatioKey =
  | 'mutexVsRawCas'
  | 'trackingOnVsOff'
  | 'asyncMutexVsMutex'
  | 'mutexVsV8Mutex'
  | 'roundsVsBarrierLimit4'
  | 'roundsVsBarrierLimit2';

export interface RatioSpec {
  key: RatioKey;
  label: string;
  /**
   * How its rounds are measured: `uncontended`, two batched loops of the uncontended suite
   * interleaved in a fresh isolate (bench/headline.ts); `engine`, the stress engine beside the
   * Barrier's limit on `threads` threads (bench/suites/engine-limit.ts).
   */
  measure: 'uncontended' | 'engine';
  threads?: number;
  /** The measured side (numerator) and the reference (denominator), as result names. */
  sides: readonly [string, string];
  /** `<=` or `>=` the target. */
  target: { op: '<=' | '>='; value: number };
}

/** The headline ratios, in the order they are measured and printed. */
export const kRatioSpecs: readonly RatioSpec[] = [
  {
    key: 'mutexVsRawCas',
    measure: 'uncontended',
    label: 'FutexMutex (tracking off) / raw CAS pair',
    sides: ['futex-mutex/uncontended', 'raw-cas/uncontended'],
    target: { op: '<=', value: 1.1 },
  },
  {
    key: 'trackingOnVsOff',
    measure: 'uncontended',
    label: 'FutexMutex tracking on / off',
    sides: ['futex-mutex+tracking/uncontended', 'futex-mutex/uncontended'],
    target: { op: '<=', value: 2 },
  },
  {
    key: 'asyncMutexVsMutex',
    measure: 'uncontended',
    label: 'async-mutex / FutexMutex',
    sides: ['async-mutex/uncontended', 'futex-mutex/uncontended'],
    target: { op: '>=', value: 30 },
  },
  {
    key: 'mutexVsV8Mutex',
    measure: 'uncontended',
    label: 'FutexMutex / V8 Atomics.Mutex',
    sides: ['futex-mutex/uncontended', 'v8-atomics-mutex/uncontended'],
    target: { op: '<=', value: 1.0 },
  },
  {
    key: 'roundsVsBarrierLimit4',
    measure: 'engine',
    threads: 4,
    label: 'stress rounds / barrier limit, 4 threads',
    sides: ['stress-rounds/2b48f52f2bff', 'barrier/limit'],
    target: { op: '>=', value: 0.5 },
  },
  {
    key: 'roundsVsBarrierLimit2',
    measure: 'engine',
    threads: 2,
    label: 'stress rounds / barrier limit, 2 threads',
    sides: ['stress-rounds/2b48f52f2bff', 'barrier/limit'],
    target: { op: '>=', value: 0.3 },
  },
];

/** Summary of one ratio's per-round values (rounded to 2 decimals, as the ratio itself). */
export interface RatioStats {
  median: number;
  min: number;
  max: number;
  rounds: number;
}

export interface Ratio extends RatioSpec {
  /** The median of the per-round ratios; null when no round was measured (e.g. no Atomics.Mutex). */
  value: number | null;
  stats: RatioStats | null;
  /** Rounds whose own ratio met the target. */
  roundsMet: number;
}

/** Per-round ratios of each headline ratio, from one headline measurement. */
export type RoundRatios = Partial<Record<RatioKey, readonly number[]>>;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return ((sorted[(sorted.length - 1) >> 1] ?? 0) + (sorted[sorted.length >> 1] ?? 0)) / 2;
}

export function summarize(values: readonly number[]): RatioStats | null {
  if (values.length === 0) return null;
  return { median: round(median(values), 2), min: round(Math.min(...values), 2), max: round(Math.max(...values), 2), rounds: values.length };
}

const meets = (target: RatioSpec['target'], x: number): boolean => (target.op === '<=' ? x <= target.value : x >= target.value);

/** The ratios over every round of `measurements` (one entry per `--repeat`), pooled. */
export function computeRatios(measurements: readonly RoundRatios[]): Ratio[] {
  return kRatioSpecs.map((spec) => {
    const values = measurements.flatMap((m) => m[spec.key] ?? []);
    const stats = summarize(values);
    return { ...spec, value: stats?.median ?? null, stats, roundsMet: values.filter((x) => meets(spec.target, x)).length };
  });
}

/** Whether the median meets the target; null when the ratio is unavailable. */
export function isMet(r: Ratio): boolean | null {
  return r.value === null ? null : meets(r.target, r.value);
}

/** Whether some rounds met the target and some did not: the range crosses it. */
export function rangeCrossesTarget(r: Ratio): boolean {
  return r.stats !== null && r.roundsMet > 0 && r.roundsMet < r.stats.rounds;
}

/** Each measurement's median of one ratio, and their spread: largest / smallest - 1, in percent. */
export interface RepeatSpread {
  medians: number[];
  min: number;
  max: number;
  spreadPct: number;
}

export function repeatSpread(measurements: readonly RoundRatios[], key: RatioKey): RepeatSpread | null {
  const medians = measurements.map((m) => m[key] ?? []).filter((v) => v.length > 0).map((v) => round(median(v), 2));
  if (medians.length === 0) return null;
  const min = Math.min(...medians);
  const max = Math.max(...medians);
  return { medians, min, max, spreadPct: min > 0 ? round((max / min - 1) * 100, 1) : 0 };
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export function formatTable(title: string, results: readonly BenchResult[]): string {
  const width = Math.max(28, ...results.map((r) => r.name.length + 2));
  const lines = [title, `${'name'.padEnd(width)}${'threads'.padEnd(9)}${'ns/op'.padEnd(10)}${'ops/s'.padEnd(14)}${'±%'.padEnd(8)}${'samples'.padEnd(9)}shares`];
  for (const r of results) {
    lines.push(
      `${r.name.padEnd(width)}${String(r.threads).padEnd(9)}${fmt(r.nsPerOp).padEnd(10)}${r.opsPerSec.toLocaleString('en-US').padEnd(14)}${r.rme.toFixed(1).padEnd(8)}${String(r.samples).padEnd(9)}${r.shares?.map((s) => s.toFixed(2)).join(' ') ?? ''}`,
    );
  }
  return lines.join('\n');
}

/** How the headline was measured, for its title line. */
export interface HeadlineMethod {
  rounds: number;
  roundMs: number;
  repeat: number;
}

function verdict(r: Ratio, interrupted: boolean): string {
  const met = isMet(r);
  if (met === null || r.stats === null) return interrupted ? 'not measured (interrupted)' : 'unavailable';
  const text = met ? 'met' : 'NOT met';
  if (!rangeCrossesTarget(r)) return text;
  const other = met ? r.stats.rounds - r.roundsMet : r.roundsMet;
  return `${text}; range crosses the target (${other} of ${r.stats.rounds} rounds ${met ? 'not met' : 'met'})`;
}

/** `interrupted`: a ratio without rounds was not reached, rather than unavailable. */
export function formatRatios(ratios: readonly Ratio[], method: HeadlineMethod, interrupted = false): string {
  const repeats = method.repeat > 1 ? `, x${method.repeat} repeats pooled` : '';
  const lines = [
    `headline ratios (interleaved: ${method.rounds} rounds of ${fmt(method.roundMs)} ms per side${repeats}; median of the per-round ratios, min-max)`,
    `  ${'ratio'.padEnd(42)}${'median'.padEnd(8)}${'min-max'.padEnd(14)}${'rounds'.padEnd(8)}${'target'.padEnd(9)}`,
  ];
  for (const r of ratios) {
    const s = r.stats;
    const cells = s === null ? `${'n/a'.padEnd(8)}${''.padEnd(14)}${''.padEnd(8)}` : `${fmt(s.median).padEnd(8)}${`${fmt(s.min)}-${fmt(s.max)}`.padEnd(14)}${String(s.rounds).padEnd(8)}`;
    lines.push(`  ${r.label.padEnd(42)}${cells}${`${r.target.op} ${r.target.value}`.padEnd(9)}${verdict(r, interrupted)}`);
  }
  return lines.join('\n');
}

/** `--repeat N`: each measurement's median of every ratio, and how far apart they are. */
export function formatRepeats(measurements: readonly RoundRatios[]): string {
  const lines = [`headline medians of ${measurements.length} repeats (spread: largest / smallest - 1)`];
  for (const spec of kRatioSpecs) {
    const spread = repeatSpread(measurements, spec.key);
    lines.push(
      `  ${spec.label.padEnd(42)}${spread === null ? 'n/a' : `${spread.medians.map(fmt).join(' ')}   spread ${spread.spreadPct.toFixed(1)}%`}`,
    );
  }
  return lines.join('\n');
}

/** µs as a short figure with its unit: `3.31 µs`, `812 µs`, `6.1 ms`. */
export function formatUs(us: number): string {
  return us >= 1000 ? `${fmt(us / 1000)} ms` : `${fmt(us)} µs`;
}

/** The timed mix, the versions side by side. */
export function formatMixTable(title: string, results: readonly BenchResult[]): string {
  const cols: Array<[string, number, (r: BenchResult) => string]> = [
    ['version', 15, (r) => r.name.replace(/^vfio-kvm\/mix\//, '')],
    ['p50', 10, (r) => formatUs(r.p50 ?? 0)],
    ['p99', 10, (r) => formatUs(r.p99 ?? 0)],
    ['p99.9', 10, (r) => formatUs(r.p999 ?? 0)],
    ['max', 10, (r) => formatUs(r.max ?? 0)],
    ['deadlocks', 11, (r) => String(r.deadlocks ?? 0)],
    ['stalls', 8, (r) => String(r.stalls ?? 0)],
    ['leaked refs', 13, (r) => String(r.leakedRefs ?? 0)],
    ['ops', 8, (r) => String(r.samples)],
    ['rounds', 8, (r) => String(r.rounds ?? 0)],
    ['findings', 0, (r) => (r.findings === undefined || r.findings.length === 0 ? 'clean' : r.findings.join(', '))],
  ];
  const row = (cells: string[]): string => cells.map((c, i) => c.padEnd(cols[i]?.[1] ?? 0)).join('').trimEnd();
  return [title, row(cols.map(([h]) => h)), ...results.map((r) => row(cols.map(([, , f]) => f(r))))].join('\n');
}

/** `barrier/limit` and `stress-rounds/*`: median per second over the rounds, with their min-max. */
export function formatLimitTable(title: string, results: readonly BenchResult[]): string {
  const lines = [title, `${'name'.padEnd(28)}${'threads'.padEnd(9)}${'per second'.padEnd(13)}${'min-max'.padEnd(22)}${'rounds'.padEnd(8)}lock acquisitions/s`];
  for (const r of results) {
    const range = r.range === undefined ? '' : `${r.range[0].toLocaleString('en-US')}-${r.range[1].toLocaleString('en-US')}`;
    lines.push(
      `${r.name.padEnd(28)}${String(r.threads).padEnd(9)}${r.opsPerSec.toLocaleString('en-US').padEnd(13)}${range.padEnd(22)}${String(r.samples).padEnd(8)}${r.acquisitionsPerSec?.toLocaleString('en-US') ?? ''}`,
    );
  }
  return lines.join('\n');
}

/** The fix's cost and benefit in the timed mix, one line each, from this run's results. */
export interface MixHeadline {
  cost: string;
  benefit: string;
}

/** The fix against the version it fixed; null when either is missing from `results`. */
export function mixHeadline(results: readonly BenchResult[], fix = '2b48f52f2bff', broken = '51cdc8bc'): MixHeadline | null {
  const find = (v: string): BenchResult | undefined => results.find((r) => r.name === `vfio-kvm/mix/${v}`);
  const f = find(fix);
  const b = find(broken);
  if (f === undefined || b === undefined || f.p50 === undefined || b.p50 === undefined) return null;
  const delta = f.p50 - b.p50;
  const signed = (x: number): string => `${x >= 0 ? '+' : '-'}${formatUs(Math.abs(x))}`;
  // Like for like: the bare DEV_OPEN + DEV_CLOSE path on one thread, from the same run, when it ran.
  const bare = (v: string): BenchResult | undefined => results.find((r) => r.name === `vfio-kvm/open-close/${v}` && r.threads === 1);
  const bf = bare(fix);
  const bb = bare(broken);
  const path =
    bf === undefined || bb === undefined
      ? ''
      : `; the bare open+close path, one thread: ${signed((bf.nsPerOp - bb.nsPerOp) / 1000)} (${formatUs(bf.nsPerOp / 1000)} vs ${formatUs(bb.nsPerOp / 1000)})`;
  const cost = `${fix}: p50 ${signed(delta)} vs ${broken} in the mix (${formatUs(f.p50)} vs ${formatUs(b.p50)}, each on its own plan)${path}`;
  const tail = (r: BenchResult): string => formatUs(r.p999 ?? 0);
  const fixDeadlocks = f.deadlocks ?? 0;
  const brokenDeadlocks = b.deadlocks ?? 0;
  const fixSide =
    fixDeadlocks === 0
      ? `p99.9 ${tail(f)}, bounded (no deadlock in ${f.rounds ?? 0} rounds)`
      : `p99.9 ${tail(f)}, NOT bounded (${fixDeadlocks} deadlocked rounds)`;
  const brokenSide =
    brokenDeadlocks > 0
      ? `${broken}'s ${tail(b)} tail (${brokenDeadlocks} of ${b.rounds ?? 0} rounds deadlocked and torn down, max ${formatUs(b.max ?? 0)})`
      : `${broken}'s p99.9 ${tail(b)} (no deadlock in this run)`;
  return { cost, benefit: `${fix}: ${fixSide} vs ${brokenSide}` };
}

export function formatMixHeadline(h: MixHeadline): string {
  return ['the fix in the timed mix (this run):', `  cost:    ${h.cost}`, `  benefit: ${h.benefit}`].join('\n');
}

export function formatUnavailable(unavailable: readonly Unavailable[]): string {
  return unavailable.map((u) => `unavailable: ${u.name}: ${u.reason}`).join('\n');
}

/**
 * The JSON document. `ratios` keeps its keys and a number (the median) or null per key, as
 * before interleaving; `ratioStats`, `ratioRepeats`, `repeat` and `interrupted` were added
 * beside it, and `targets` gained `rangeCrossesTarget`. `mixHeadline` is the timed mix's cost and
 * benefit lines (null when the mix did not run both versions).
 */
export function toBenchJson(
  results: readonly BenchResult[],
  ratios: readonly Ratio[],
  unavailable: readonly Unavailable[],
  cpus: number,
  headline: { measurements: readonly RoundRatios[]; interrupted: boolean; mix?: MixHeadline | null } = { measurements: [], interrupted: false },
): unknown {
  return {
    tool: 'lockstress',
    node: process.version,
    cpus,
    results,
    ratios: Object.fromEntries(ratios.map((r) => [r.key, r.value])),
    ratioStats: Object.fromEntries(ratios.map((r) => [r.key, r.stats])),
    repeat: headline.measurements.length,
    ratioRepeats: Object.fromEntries(ratios.map((r) => [r.key, repeatSpread(headline.measurements, r.key)])),
    targets: Object.fromEntries(ratios.map((r) => [r.key, { ...r.target, met: isMet(r), rangeCrossesTarget: rangeCrossesTarget(r) }])),
    mixHeadline: headline.mix ?? null,
    unavailable,
    interrupted: headline.interrupted,
  };
}
