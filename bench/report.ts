/** The bench's output: a table per suite, the headline ratios with their targets, and the JSON. */
import type { BenchResult, Unavailable } from './bench-result.js';
import { round } from './bench-result.js';

export interface Ratio {
  key: 'mutexVsRawCas' | 'trackingOnVsOff' | 'asyncMutexVsMutex' | 'mutexVsV8Mutex';
  label: string;
  value: number | null;
  /** `<=` or `>=` the target. */
  target: { op: '<=' | '>='; value: number };
}

function ns(results: readonly BenchResult[], name: string): number | null {
  return results.find((r) => r.name === name && r.threads === 1)?.nsPerOp ?? null;
}

export function computeRatios(results: readonly BenchResult[]): Ratio[] {
  const ratio = (a: string, b: string): number | null => {
    const x = ns(results, a);
    const y = ns(results, b);
    return x === null || y === null || y === 0 ? null : round(x / y, 2);
  };
  return [
    { key: 'mutexVsRawCas', label: 'FutexMutex (tracking off) / raw CAS pair', value: ratio('futex-mutex/uncontended', 'raw-cas/uncontended'), target: { op: '<=', value: 1.2 } },
    { key: 'trackingOnVsOff', label: 'FutexMutex tracking on / off', value: ratio('futex-mutex+tracking/uncontended', 'futex-mutex/uncontended'), target: { op: '<=', value: 3 } },
    { key: 'asyncMutexVsMutex', label: 'async-mutex / FutexMutex', value: ratio('async-mutex/uncontended', 'futex-mutex/uncontended'), target: { op: '>=', value: 30 } },
    { key: 'mutexVsV8Mutex', label: 'FutexMutex / V8 Atomics.Mutex', value: ratio('futex-mutex/uncontended', 'v8-atomics-mutex/uncontended'), target: { op: '<=', value: 1.0 } },
  ];
}

export function isMet(r: Ratio): boolean | null {
  if (r.value === null) return null;
  return r.target.op === '<=' ? r.value <= r.target.value : r.value >= r.target.value;
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

export function formatRatios(ratios: readonly Ratio[]): string {
  const lines = ['headline ratios (from this run)'];
  for (const r of ratios) {
    const met = isMet(r);
    lines.push(
      `  ${r.label.padEnd(42)}${r.value === null ? 'n/a' : r.value.toFixed(2).padEnd(8)}  target ${r.target.op} ${r.target.value}: ${met === null ? 'unavailable' : met ? 'met' : 'NOT met'}`,
    );
  }
  return lines.join('\n');
}

export function formatUnavailable(unavailable: readonly Unavailable[]): string {
  return unavailable.map((u) => `unavailable: ${u.name}: ${u.reason}`).join('\n');
}

export function toBenchJson(results: readonly BenchResult[], ratios: readonly Ratio[], unavailable: readonly Unavailable[], cpus: number): unknown {
  return {
    tool: 'lockstress',
    node: process.version,
    cpus,
    results,
    ratios: Object.fromEntries(ratios.map((r) => [r.key, r.value])),
    targets: Object.fromEntries(ratios.map((r) => [r.key, { ...r.target, met: isMet(r) }])),
    unavailable,
  };
}
