/**
 * The round driver: one variant, round after round on the pool, until its time budget, its round
 * limit, the global deadline, SIGINT, or (as asked) its first finding or its expected findings.
 * Each round: zero the world, start one task per thread, supervise it (supervisor.ts), then drain
 * the findings the threads logged, poll the lock-order graph, and take thread 0's end-of-round
 * checks. A scenario failure ends the variant at once with that failure.
 */
import { setMaxListeners } from 'node:events';
import type { Piscina } from 'piscina';
import { type Capacities, SharedMemory, kHeaderRound, kHeaderAbort, overlapIndex, wallClockMs } from '../layout.js';
import { type LockOrderCycle, SharedLockOrderGraph } from '../lockdep/lock-order-graph.js';
import { formatCircularDependency } from '../lockdep/reports.js';
import { Barrier } from '../primitives/barrier.js';
import { FindingLog } from '../primitives/finding-log.js';
import { LockTable, readClassStats } from '../primitives/lock-table.js';
import { StringTable } from '../primitives/string-table.js';
import { assignIds, defineWorld, resetRoundState } from '../scenarios/world.js';
import { type Finding, decodeRawFinding } from './findings.js';
import type { RoundTask, RoundTaskResult, ScenarioDescription, ScenarioFailure } from './messages.js';
import { type Names, createNames } from './names.js';
import type { ResolvedStressOptions } from './options.js';
import { superviseRound } from './supervisor.js';
import { type StopReason, type VariantVerdict, FindingCollector, decideStatus, expectationMet } from './verdict.js';
import { RunawayCheck, Watchdog, alarmToFinding } from './watchdog.js';

export interface VariantRun {
  options: ResolvedStressOptions;
  scenario: ScenarioDescription;
  scenarioUrl: string;
  variant: ScenarioDescription['variants'][number];
  capacities: Capacities;
  pool: Piscina;
  worldKey: string;
  /** Wall-clock ms past which the run stops starting rounds. */
  deadline: number;
  interrupt: AbortSignal | undefined;
  progress: ((text: string) => void) | undefined;
}

/** A variant's verdict, or the scenario failure that stopped it. */
export type VariantResult =
  | { verdict: VariantVerdict; failure: null }
  | { verdict: VariantVerdict; failure: { thread: number; failure: ScenarioFailure } };

/** A thread looping this long in scenario code without any scheduling point is a runaway. */
export function runawayBoundMs(options: ResolvedStressOptions): number {
  return Math.max(3000, options.hangMs * 4);
}

/** Last resort for a round that neither finishes nor shows a deadlock, a hang or a runaway. */
export function roundTimeoutMs(options: ResolvedStressOptions): number {
  return runawayBoundMs(options) + 5000 + options.threads * 100;
}

export async function runVariant(run: VariantRun): Promise<VariantResult> {
  const { options, variant, pool, capacities } = run;
  const opNames = variant.opNames;
  const memory = SharedMemory.create(capacities);
  const strings = new StringTable(memory);
  const ids = assignIds(run.scenario);
  defineWorld(memory, strings, ids);
  new LockTable(memory, strings).resetStats();
  const names = createNames(memory, strings, ids, opNames);
  const log = new FindingLog(memory);
  const orderGraph = new SharedLockOrderGraph(memory, strings);
  const watchdog = new Watchdog(memory, strings, options.threads, options.hangMs);
  const runaway = new RunawayCheck(memory, options.threads, runawayBoundMs(options));
  const barrier = new Barrier(memory);
  const collector = new FindingCollector();
  const errors: string[] = [];
  const threads = Array.from({ length: options.threads }, (_, t) => t);
  const started = wallClockMs();
  let rounds = 0;
  let abortedRounds = 0;
  let firstDeadlockMs: number | null = null;
  let stoppedBy: StopReason = 'duration';
  let failure: VariantResult['failure'] = null;
  const plannedOps = new Set<string>();

  /** Why no further round should start, or null to go on. */
  const budgetSpent = (): StopReason | null => {
    if (run.interrupt?.aborted === true) return 'interrupted';
    if (options.rounds > 0 && rounds >= options.rounds) return 'rounds';
    if (wallClockMs() - started >= options.durationMs) return 'duration';
    if (wallClockMs() > run.deadline) return 'deadline';
    return null;
  };
  for (;;) {
    const spent = budgetSpent();
    if (spent !== null) {
      stoppedBy = spent;
      break;
    }

    const round = ++rounds;
    resetRoundState(memory, strings, ids, threads);
    Atomics.store(memory.i32, memory.layout.header + kHeaderRound, round);
    Atomics.store(memory.i32, memory.layout.header + kHeaderAbort, 0);
    barrier.reset(options.threads);
    watchdog.reset();
    runaway.reset();

    const controller = new AbortController();
    // One listener per task on one signal: more than Node's default of 10 is expected here.
    setMaxListeners(options.threads + 1, controller.signal);
    const tasks = threads.map((thread) => {
      const task: RoundTask = {
        type: 'round',
        worldKey: run.worldKey,
        buffer: memory.buffer,
        capacities,
        scenarioUrl: run.scenarioUrl,
        variant: variant.name,
        thread,
        threads: options.threads,
        round,
        opNames,
        seed: options.seed,
        jitter: options.jitter,
      };
      return pool.run(task, { signal: controller.signal }) as Promise<RoundTaskResult>;
    });
    const outcome = await superviseRound(tasks, {
      memory,
      ids,
      names,
      watchdog,
      runaway,
      controller,
      interrupt: run.interrupt,
      timeoutMs: roundTimeoutMs(options),
    });

    // Findings the workers logged (also those of a torn-down round: they were made before it hung).
    for (const raw of log.drain().records) collector.add(decodeRawFinding(raw, names));
    // Every task has settled, so no thread can be mid-record: empty the log for the next round.
    log.reset();
    for (const cycle of orderGraph.poll()) collector.add(cycleToFinding(cycle, names));
    for (const result of outcome.results) {
      if (result.status !== 'done') continue;
      for (const op of result.ops) plannedOps.add(op);
      for (const check of result.checks) collector.add(check);
    }
    if (outcome.alarm !== null) {
      const finding = alarmToFinding(outcome.alarm, round, names);
      collector.add(finding);
      if (finding.kind === 'deadlock' && firstDeadlockMs === null) firstDeadlockMs = Math.round(wallClockMs() - started);
    }
    for (const message of outcome.errors) {
      if (errors.length < 5 && !errors.includes(message)) errors.push(message);
    }
    if (outcome.tornDown) abortedRounds++;
    if (run.progress !== undefined && round % 50 === 0) {
      run.progress(`${variant.name}: round ${round}, ${collector.size} distinct findings`);
    }
    if (outcome.failure !== null) {
      failure = outcome.failure;
      stoppedBy = 'error';
      break;
    }
    if (outcome.interrupted) {
      stoppedBy = 'interrupted';
      break;
    }
    if (errors.length > 0) {
      stoppedBy = 'error';
      break;
    }
    if (options.stopOnFirst && collector.size > 0) {
      stoppedBy = 'first-finding';
      break;
    }
    if (options.untilExpected && variant.expect !== 'clean' && expectationMet(variant.expect, collector.kinds())) {
      stoppedBy = 'expected-seen';
      break;
    }
  }

  const seen = collector.kinds();
  const minRounds = options.rounds > 0 ? Math.min(options.minRounds, options.rounds) : options.minRounds;
  const status = decideStatus({
    expect: variant.expect,
    seen,
    rounds,
    minRounds,
    stoppedBy,
    errors: errors.length + (failure === null ? 0 : 1),
    threads: options.threads,
    minThreads: variant.minThreads,
  });
  const verdict: VariantVerdict = {
    name: variant.name,
    description: variant.description,
    expect: variant.expect,
    seen: [...seen].sort(),
    pass: status === 'pass',
    status,
    note:
      status === 'inconclusive'
        ? `${rounds} rounds, fewer than ${minRounds}`
        : status === 'skipped'
          ? `needs ${variant.minThreads} threads`
          : '',
    rounds,
    durationMs: Math.round(wallClockMs() - started),
    findings: collector.summaries(),
    lockStats: readClassStats(memory, strings).filter((s) => s.acquisitions > 0),
    coverage: readCoverage(memory, opNames, plannedOps),
    abortedRounds,
    firstDeadlockMs,
    stoppedBy,
    errors,
  };
  return failure === null ? { verdict, failure: null } : { verdict, failure };
}

function cycleToFinding(cycle: LockOrderCycle, names: Names): Finding {
  const className = (c: number): string => names.className(c);
  const classes = cycle.classes.map(className);
  // The site where each class was taken when the edge into it was learned (#0 is the new lock).
  const chain = cycle.classes.map((c, i) => {
    const into = cycle.edges[(i + cycle.edges.length - 1) % cycle.edges.length];
    return { class: className(c), site: into?.toSite ?? '' };
  });
  const closing = cycle.closing;
  return {
    kind: 'lock-order-cycle',
    round: closing.round,
    thread: closing.thread,
    locks: classes,
    message: `possible circular locking dependency: ${[...classes, classes[0]].join(' -> ')} (closed by thread ${closing.thread} taking ${className(closing.to)} at ${closing.toSite} while holding ${className(closing.from)})`,
    key: canonicalCycleKey(classes),
    report: formatCircularDependency(cycle, names),
    evidence: {
      chain,
      closing: {
        thread: closing.thread,
        held: className(closing.from),
        heldSite: closing.fromSite,
        wanted: className(closing.to),
        wantedSite: closing.toSite,
      },
    },
  };
}

/** A cycle's classes rotated to start at the smallest name, so one cycle has one key. */
export function canonicalCycleKey(classes: readonly string[]): string {
  let best = [...classes];
  for (let i = 1; i < classes.length; i++) {
    const rotated = [...classes.slice(i), ...classes.slice(0, i)];
    if (rotated.join('\u0000') < best.join('\u0000')) best = rotated;
  }
  return best.join(' -> ');
}

/** Overlap pairs among the operations that were planned (setup/finish steps are not operations). */
function readCoverage(memory: SharedMemory, opNames: readonly string[], planned: ReadonlySet<string>): VariantVerdict['coverage'] {
  const overlapped: string[] = [];
  for (let a = 0; a < opNames.length; a++) {
    for (let b = a; b < opNames.length; b++) {
      if (Atomics.load(memory.i32, overlapIndex(memory.layout, a, b)) !== 0) overlapped.push(`${opNames[a]} || ${opNames[b]}`);
    }
  }
  const n = opNames.filter((name) => planned.has(name)).length;
  return { pairsOverlapped: overlapped.length, pairsPossible: (n * (n + 1)) / 2, overlapped };
}
