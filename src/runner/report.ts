/**
 * Printing, kept apart from the data: the human report (summary lines, one splat or dump per
 * distinct finding, lock statistics) and the JSON document.
 */
import { formatLastEvents } from '../lockdep/event-timeline.js';
import {
  formatBadUnlock,
  formatHeldAtReturn,
  formatInconsistentLockState,
  formatIrqLockInversion,
  formatLockNotHeld,
  formatRecursiveLocking,
  formatSleepInAtomic,
} from '../lockdep/reports.js';
import type { Finding } from './findings.js';
import type { StressRun } from './run-stress.js';
import type { ExplorationStatus } from './messages.js';
import { formatReproducer } from '../schedule/reproducer.js';
import { type VariantVerdict, formatExpectation } from './verdict.js';

export function formatRunHeader(run: Pick<StressRun, 'scenario' | 'threads' | 'seed'>, durationMs: number): string {
  return `lockstress: scenario ${run.scenario}, ${run.threads} threads, seed ${run.seed} (replay with LOCKSTRESS_SEED=${run.seed}), ${durationMs} ms per variant`;
}

const pad = (text: string, width: number): string => (text.length >= width ? `${text} ` : text.padEnd(width));

/** One line per variant: name, expected, seen, pass, rounds, time. */
export function formatSummaryTable(verdicts: readonly VariantVerdict[]): string {
  const nameWidth = Math.max(8, ...verdicts.map((v) => v.name.length + 2));
  const expectWidth = Math.max(9, ...verdicts.map((v) => formatExpectation(v.expect).length + 2));
  const seenWidth = Math.max(5, ...verdicts.map((v) => seenText(v).length + 2));
  const lines = [
    `${pad('variant', nameWidth)}${pad('expected', expectWidth)}${pad('seen', seenWidth)}${pad('pass', 6)}${pad('rounds', 8)}${pad('rounds/s', 10)}time`,
  ];
  for (const v of verdicts) {
    lines.push(
      `${pad(v.name, nameWidth)}${pad(formatExpectation(v.expect), expectWidth)}${pad(seenText(v), seenWidth)}${pad(statusWord(v), 6)}${pad(String(v.rounds), 8)}${pad(String(v.roundsPerSec), 10)}${v.durationMs} ms${v.note === '' ? '' : `  (${v.note})`}`,
    );
  }
  return lines.join('\n');
}

function seenText(v: VariantVerdict): string {
  if (v.status === 'interrupted' && v.seen.length === 0) return '-';
  return v.seen.length === 0 ? 'clean' : v.seen.join(', ');
}

/** PASS, FAIL, SKIP, INCONCLUSIVE, INTERRUPTED: the status in one word for the table. */
export function statusWord(v: Pick<VariantVerdict, 'status'>): string {
  return v.status === 'skipped' ? 'SKIP' : v.status.toUpperCase();
}

/** The details of one variant: each distinct finding's report, coverage and lock_stat. */
export function formatVariantDetails(v: VariantVerdict): string {
  const out: string[] = [];
  out.push(`== ${v.name}: ${v.description}`);
  out.push(
    `   expected ${formatExpectation(v.expect)}; seen ${seenText(v)}; ${statusWord(v)}${v.note === '' ? '' : ` (${v.note})`}; ${v.rounds} rounds in ${v.durationMs} ms (stopped by ${v.stoppedBy}); ${v.abortedRounds} rounds torn down${v.firstDeadlockMs === null ? '' : `; first deadlock after ${v.firstDeadlockMs} ms`}`,
  );
  out.push(`   overlap coverage: ${v.coverage.pairsOverlapped}/${v.coverage.pairsPossible} operation pairs seen running together`);
  if (v.exploration !== null) out.push(...formatExploration(v.exploration, v.durationMs, v.seen.length === 0));
  if (v.reproducer !== null) out.push('', indent(formatReproducer(v.reproducer)));
  for (const error of v.errors) out.push(`   ERROR: ${error}`);
  for (const summary of v.findings) {
    out.push('');
    out.push(`-- ${summary.kind} (${summary.count} round${summary.count === 1 ? '' : 's'}, first in round ${summary.firstRound}): ${summary.message}`);
    out.push(indent(formatFindingReport(summary.first)));
    out.push(`   ${replayLine(summary.first)}`);
  }
  if (v.lockStats.length > 0) {
    out.push('');
    out.push(indent(formatLockStats(v)));
  }
  return out.join('\n');
}

/** The bounded exhaustive exploration of a variant: how many schedules, of which plans, complete or not. */
export function formatExploration(e: ExplorationStatus, durationMs: number, clean: boolean): string[] {
  const what = `${e.schedules} schedules with at most ${e.preemptions} preemption${e.preemptions === 1 ? '' : 's'} of ${e.plans.length} plan${e.plans.length === 1 ? '' : 's'}, in ${(durationMs / 1000).toFixed(1)} s`;
  const verdict = !e.complete ? 'INCOMPLETE (the time budget ended first: raise --duration-ms)' : clean ? 'complete: all explored, clean' : 'complete';
  return [`   exhaustive: ${what}; ${verdict}`, ...e.plans.map((p, i) => `     plan ${i + 1}: ${p}`)];
}

/** How to see a finding again: its replay command, or why there is none. */
export function replayLine(finding: Finding): string {
  if (finding.replay !== undefined) return `replay: npm run stress -- --replay ${finding.replay}`;
  return 'replay: none (found under the OS schedule, which cannot be replayed exactly; --schedule pct hunts it under a replayable one)';
}

/** lock_stat-style table. */
export function formatLockStats(v: Pick<VariantVerdict, 'lockStats'>): string {
  const width = Math.max(12, ...v.lockStats.map((s) => s.name.length + 2));
  const lines = [`${pad('lock class', width)}${pad('acquisitions', 14)}${pad('contentions', 13)}${pad('max wait µs', 13)}max hold µs`];
  for (const s of v.lockStats) {
    lines.push(`${pad(s.name, width)}${pad(String(s.acquisitions), 14)}${pad(String(s.contentions), 13)}${pad(String(s.maxWaitUs), 13)}${s.maxHoldUs}`);
  }
  return lines.join('\n');
}

/** The kernel-flavoured report of one finding, then the last events of the threads involved. */
export function formatFindingReport(finding: Finding): string {
  const report = formatKernelReport(finding);
  // A finding with a replay token came from a controlled round: its events are printed in order,
  // untimed, so that its replay prints the same text.
  return finding.timeline === undefined ? report : `${report}\n\n${formatLastEvents(finding.timeline, undefined, finding.replay === undefined)}`;
}

/** The kernel-flavoured report of one finding alone. */
export function formatKernelReport(finding: Finding): string {
  if (finding.report !== undefined) return finding.report;
  switch (finding.kind) {
    case 'deadlock':
    case 'stuck':
    case 'lock-order-cycle':
      return finding.message;
    case 'recursive-lock':
      return formatRecursiveLocking({ thread: finding.thread, ...finding.evidence });
    case 'bad-unlock':
      return formatBadUnlock({ thread: finding.thread, ...finding.evidence });
    case 'lock-not-held':
      return formatLockNotHeld({ thread: finding.thread, ...finding.evidence });
    case 'sleep-in-atomic':
      return formatSleepInAtomic({ thread: finding.thread, ...finding.evidence });
    case 'inconsistent-lock-state':
      return formatInconsistentLockState({ thread: finding.thread, ...finding.evidence });
    case 'irq-lock-inversion':
      return formatIrqLockInversion(finding.evidence);
    case 'held-at-return':
      return formatHeldAtReturn({ thread: finding.thread, ...finding.evidence });
    case 'refcount-leak':
      return [
        `refcount leak: ${finding.evidence.refcount} = ${finding.evidence.count} after every fd was closed`,
        ...finding.evidence.holders.map((h) => `  ${h.refs} reference(s) held by ${h.holder}, last taken at ${h.lastGetSite}`),
      ].join('\n');
    case 'refcount-underflow':
    case 'inc-on-zero':
      return [
        '------------[ cut here ]------------',
        `refcount_t: ${finding.kind === 'inc-on-zero' ? 'addition on 0; use-after-free.' : 'underflow; use-after-free.'}`,
        `WARNING: thread ${finding.thread} at ${finding.evidence.site}: ${finding.evidence.refcount} (holder: ${finding.evidence.holder || '?'}, count was ${finding.evidence.countSeen})`,
      ].join('\n');
    case 'use-after-free':
      return [
        '==================================================================',
        `BUG: KASAN: ${finding.evidence.doubleFree ? 'double-free' : 'slab-use-after-free'} in ${finding.evidence.site}`,
        `thread ${finding.thread} accessed ${finding.evidence.object}`,
        `Freed by: ${finding.evidence.freedAt || '?'}`,
        '==================================================================',
      ].join('\n');
    case 'invariant':
      return `invariant broken: ${finding.evidence.text}`;
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? '' : `   ${line}`))
    .join('\n');
}

/** The whole human report. */
export function formatRunReport(run: StressRun, durationMs: number): string {
  const out = [formatRunHeader(run, durationMs), '', formatSummaryTable(run.variants), ''];
  for (const v of run.variants) out.push(formatVariantDetails(v), '');
  const passed = run.variants.filter((v) => v.pass).length;
  const count = (status: VariantVerdict['status']): number => run.variants.filter((v) => v.status === status).length;
  const others = (['fail', 'inconclusive', 'skipped'] as const)
    .filter((s) => count(s) > 0)
    .map((s) => `, ${count(s)} ${s === 'fail' ? 'failed' : s}`)
    .join('');
  out.push(
    `${run.interrupted ? 'INTERRUPTED: ' : ''}${passed}/${run.variants.length} variants passed${others} in ${(run.durationMs / 1000).toFixed(1)} s; seed ${run.seed}`,
  );
  return out.join('\n');
}

/** The JSON document of `--json`. */
export function toJson(run: StressRun): unknown {
  return {
    tool: run.tool,
    scenario: run.scenario,
    seed: run.seed,
    threads: run.threads,
    durationMs: run.durationMs,
    interrupted: run.interrupted,
    variants: run.variants.map((v) => ({
      name: v.name,
      description: v.description,
      expect: v.expect === 'clean' ? ['clean'] : v.expect,
      seen: v.seen,
      pass: v.pass,
      status: v.status,
      note: v.note,
      rounds: v.rounds,
      stride: v.stride,
      durationMs: v.durationMs,
      roundsPerSec: v.roundsPerSec,
      acquisitionsPerSec: v.acquisitionsPerSec,
      abortedRounds: v.abortedRounds,
      firstDeadlockMs: v.firstDeadlockMs,
      stoppedBy: v.stoppedBy,
      errors: v.errors,
      findings: v.findings.map((f) => ({
        kind: f.kind,
        count: f.count,
        firstRound: f.firstRound,
        locks: f.locks,
        message: f.message,
        evidence: f.first.evidence,
        report: formatFindingReport(f.first),
        replay: f.first.replay ?? null,
        ...(f.first.timeline === undefined ? {} : { timeline: f.first.timeline }),
      })),
      lockStats: v.lockStats.map((s) => ({
        lock: s.name,
        acquisitions: s.acquisitions,
        contentions: s.contentions,
        maxWaitUs: s.maxWaitUs,
        maxHoldUs: s.maxHoldUs,
      })),
      lockOrder: v.lockOrder,
      coverage: v.coverage,
      exploration: v.exploration,
      reproducer: v.reproducer,
    })),
    ok: run.ok,
  };
}
