/**
 * The runner: for each variant, rounds on a piscina pool until the time budget, the round limit or
 * (with stop-on-first) the first finding; a watchdog that tears deadlocked rounds down; the arbiter
 * that checks invariants and sweeps refcounts between rounds; and one verdict per variant.
 *
 * Recovery from a deadlock: set the abort word and wake every lock word, so blocked threads leave
 * their bounded waits with RoundAborted; a task that still has not settled after
 * {@link kCooperativeAbortMs} is aborted through piscina, which terminates its worker (and
 * starts a fresh one). Then the world is zeroed and the next round starts.
 */
import { Piscina } from 'piscina';
import { ConfigError } from '../errors.js';
import {
  type Capacities,
  SharedMemory,
  kDefaultCapacities,
  kHeaderAbort,
  kHeaderBarrierPhase,
  kHeaderRound,
  kLockState,
  lockBase,
  overlapIndex,
  wallClockMs,
} from '../layout.js';
import { Barrier } from '../primitives/barrier.js';
import { FindingLog } from '../primitives/finding-log.js';
import { classNameOf, lockClassOf, lockNameOf, readClassStats, LockTable } from '../primitives/lock-table.js';
import { pointerSlot } from '../primitives/object-slots.js';
import { Refcount, kRefSaturated } from '../primitives/refcount.js';
import { StringTable } from '../primitives/string-table.js';
import { type LockOrderCycle, SharedLockOrderGraph } from '../lockdep/lock-order-graph.js';
import { type ReportNames, formatCircularDependency } from '../lockdep/reports.js';
import type { Scenario, Variant } from '../scenarios/contract.js';
import { operationNames } from '../scenarios/contract.js';
import { createRng, deriveSeed } from '../scenarios/rng.js';
import { type WorldIds, assignIds, createWorldView, defineWorld, resetRoundState } from '../scenarios/world.js';
import { compiledUrl } from './compiled-path.js';
import { type Finding, type WorldNames, decodeRawFinding } from './findings.js';
import { loadScenarioModule, resolveScenarioUrl } from './load-scenario.js';
import type { RoundTask, RoundTaskResult } from './messages.js';
import type { ResolvedStressOptions } from './options.js';
import { type StopReason, type VariantVerdict, FindingCollector, decideStatus, expectationMet } from './verdict.js';
import { Watchdog, alarmToFinding } from './watchdog.js';

/** How often the watchdog reads the wait-for state while a round runs. */
export const kWatchdogPollMs = 2;
/** How long blocked threads get to leave on their own after the abort word is set. */
export const kCooperativeAbortMs = 300;

export interface StressRun {
  tool: 'lockstress';
  scenario: string;
  seed: number;
  threads: number;
  variants: VariantVerdict[];
  ok: boolean;
  interrupted: boolean;
  durationMs: number;
}

export interface RunHooks {
  /** A short progress line (the CLI prints it on a terminal). */
  progress?: (text: string) => void;
  /** Called for each variant's verdict as soon as it is ready. */
  variantDone?: (verdict: VariantVerdict) => void;
  /** Aborting it stops the run (SIGINT): the current round is torn down and the run reports. */
  interrupt?: AbortSignal;
  /** Piscina pool size override for tests (defaults to the thread count). */
  pool?: Piscina;
}

/** Loads the scenario named by the options and checks the variant selection. */
export async function loadSelection(options: ResolvedStressOptions): Promise<{ url: string; scenario: Scenario; variants: Variant[] }> {
  const url = resolveScenarioUrl(options.scenario);
  const scenario = await loadScenarioModule(url);
  const known = scenario.variants.map((v) => v.name);
  for (const name of options.variants) {
    if (!known.includes(name)) {
      const origin = options.origins.variants;
      const named = origin.startsWith('--') ? `${origin} ${JSON.stringify(name)}` : `${origin} names ${JSON.stringify(name)}`;
      throw new ConfigError(`${named}: not a variant of ${scenario.name} (known: ${known.join(', ')})`);
    }
  }
  const variants = options.variants.length === 0 ? [...scenario.variants] : scenario.variants.filter((v) => options.variants.includes(v.name));
  return { url, scenario, variants };
}

export async function runStress(options: ResolvedStressOptions, hooks: RunHooks = {}): Promise<StressRun> {
  const started = wallClockMs();
  const { url, scenario, variants } = await loadSelection(options);
  const pool =
    hooks.pool ??
    new Piscina({
      filename: compiledUrl('workers/round-worker.js').href,
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: 60_000,
      atomics: 'sync',
    });
  const verdicts: VariantVerdict[] = [];
  const runId = `${process.pid}-${Math.floor(started)}`;
  // Every run ends: past this, remaining variants are skipped and the run reports what it has.
  const deadline = started + variants.length * (options.durationMs + 4 * roundTimeoutMs(options)) + 30_000;
  let interrupted = false;
  try {
    for (const [index, variant] of variants.entries()) {
      if (hooks.interrupt?.aborted === true) {
        interrupted = true;
        break;
      }
      const verdict = await runVariant({
        options,
        scenario,
        scenarioUrl: url,
        variant,
        pool,
        worldKey: `${runId}/${index}`,
        deadline,
        hooks,
      });
      verdicts.push(verdict);
      hooks.variantDone?.(verdict);
      if (verdict.stoppedBy === 'interrupted') {
        interrupted = true;
        break;
      }
    }
  } finally {
    if (hooks.pool === undefined) await pool.destroy();
  }
  return {
    tool: 'lockstress',
    scenario: scenario.name,
    seed: options.seed,
    threads: options.threads,
    variants: verdicts,
    ok: !interrupted && verdicts.length === variants.length && verdicts.every((v) => v.status === 'pass' || v.status === 'skipped'),
    interrupted,
    durationMs: Math.round(wallClockMs() - started),
  };
}

function roundTimeoutMs(options: ResolvedStressOptions): number {
  return Math.max(3000, options.hangMs * 4);
}

interface VariantRun {
  options: ResolvedStressOptions;
  scenario: Scenario;
  scenarioUrl: string;
  variant: Variant;
  pool: Piscina;
  worldKey: string;
  deadline: number;
  hooks: RunHooks;
}

async function runVariant(run: VariantRun): Promise<VariantVerdict> {
  const { options, scenario, variant, pool } = run;
  const opNames = operationNames(scenario, variant);
  const capacities: Capacities = { ...kDefaultCapacities, threads: Math.max(kDefaultCapacities.threads, options.threads + 1) };
  if (opNames.length > capacities.ops) throw new ConfigError(`scenario ${scenario.name}: more than ${capacities.ops} operations`);
  const memory = SharedMemory.create(capacities);
  const strings = new StringTable(memory);
  const ids = assignIds(scenario);
  defineWorld(memory, strings, ids);
  new LockTable(memory, strings).resetStats();
  const names = worldNames(memory, strings, ids);
  const reportNames: ReportNames = {
    className: (classId) => classNameOf(memory, strings, classId),
    lockName: (lockId) => lockNameOf(memory, strings, lockId),
    lockClass: (lockId) => lockClassOf(memory, lockId),
    opName: (op) => opNames[op] ?? `op#${op}`,
  };
  const log = new FindingLog(memory);
  const orderGraph = new SharedLockOrderGraph(memory, strings);
  const watchdog = new Watchdog(memory, strings, options.threads, options.hangMs);
  const barrier = new Barrier(memory);
  const collector = new FindingCollector();
  const errors: string[] = [];
  const threads = Array.from({ length: options.threads }, (_, t) => t);
  const started = wallClockMs();
  let rounds = 0;
  let abortedRounds = 0;
  let firstDeadlockMs: number | null = null;
  let stoppedBy: StopReason = 'duration';
  const plannedOps = new Set<string>();

  const record = (finding: Finding): void => {
    collector.add(finding);
  };

  for (;;) {
    if (run.hooks.interrupt?.aborted === true) {
      stoppedBy = 'interrupted';
      break;
    }
    if (options.rounds > 0 && rounds >= options.rounds) {
      stoppedBy = 'rounds';
      break;
    }
    if (wallClockMs() - started >= options.durationMs) {
      stoppedBy = 'duration';
      break;
    }
    if (wallClockMs() > run.deadline) {
      stoppedBy = 'deadline';
      break;
    }
    const round = ++rounds;
    resetRoundState(memory, strings, ids, threads);
    Atomics.store(memory.i32, memory.layout.header + kHeaderRound, round);
    Atomics.store(memory.i32, memory.layout.header + kHeaderAbort, 0);
    barrier.reset(options.threads);
    watchdog.reset();

    const plan = (variant.plan ?? scenario.plan)(createRng(deriveSeed(options.seed, round)), options.threads, round);
    for (const ops of plan) for (const op of ops) plannedOps.add(op);
    const controller = new AbortController();
    const tasks = threads.map((thread) => {
      const task: RoundTask = {
        worldKey: run.worldKey,
        buffer: memory.buffer,
        capacities,
        scenarioUrl: run.scenarioUrl,
        variant: variant.name,
        thread,
        round,
        ops: plan[thread] ?? [],
        opNames,
        seed: options.seed,
        jitter: options.jitter,
      };
      return pool.run(task, { signal: controller.signal }) as Promise<RoundTaskResult>;
    });
    const outcome = await superviseRound(tasks, watchdog, memory, ids, controller, run.hooks.interrupt, roundTimeoutMs(options));

    // Findings the workers logged (also those of a torn-down round: they were made before it hung).
    for (const raw of log.drain().records) record(decodeRawFinding(raw, names));
    // Every task has settled, so no thread can be mid-record: empty the log for the next round.
    log.reset();
    for (const cycle of orderGraph.poll()) record(cycleToFinding(cycle, reportNames));

    if (outcome.alarm !== null) {
      const finding = alarmToFinding(outcome.alarm, round, names, opNames, reportNames);
      record(finding);
      if (finding.kind === 'deadlock' && firstDeadlockMs === null) firstDeadlockMs = Math.round(wallClockMs() - started);
    }
    for (const message of outcome.errors) {
      if (errors.length < 5 && !errors.includes(message)) errors.push(message);
    }
    if (outcome.tornDown) {
      abortedRounds++;
    } else {
      // The arbiter: only a round that ran to its end has a world worth checking.
      const view = createWorldView(memory, strings, ids, variant.name, round);
      for (const text of scenario.invariants?.(view) ?? []) {
        record({ kind: 'invariant', round, thread: -1, locks: [], message: text, key: text, evidence: { text } });
      }
      for (const leak of sweepRefcounts(memory, strings, ids, round)) record(leak);
    }
    if (run.hooks.progress !== undefined && round % 50 === 0) {
      run.hooks.progress(`${variant.name}: round ${round}, ${collector.size} distinct findings`);
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
  const minThreads = variant.minThreads ?? 1;
  const status = decideStatus({
    expect: variant.expect,
    seen,
    rounds,
    minRounds,
    stoppedBy,
    errors: errors.length,
    threads: options.threads,
    minThreads,
  });
  return {
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
          ? `needs ${minThreads} threads`
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
}

interface RoundOutcome {
  alarm: ReturnType<Watchdog['poll']>;
  tornDown: boolean;
  interrupted: boolean;
  errors: string[];
}

/** Waits for the round's tasks while the watchdog polls; tears the round down on an alarm. */
async function superviseRound(
  tasks: Array<Promise<RoundTaskResult>>,
  watchdog: Watchdog,
  memory: SharedMemory,
  ids: WorldIds,
  controller: AbortController,
  interrupt: AbortSignal | undefined,
  timeoutMs: number,
): Promise<RoundOutcome> {
  const settled = Promise.allSettled(tasks);
  let alarm: RoundOutcome['alarm'] = null;
  let interrupted = false;
  let timedOut = false;
  const startedAt = wallClockMs();
  const done = await new Promise<boolean>((resolve) => {
    let finished = false;
    const timer = setInterval(() => {
      if (finished) return;
      if (interrupt?.aborted === true) interrupted = true;
      else if (wallClockMs() - startedAt > timeoutMs) timedOut = true;
      else alarm = watchdog.poll();
      if (alarm !== null || interrupted || timedOut) {
        finished = true;
        clearInterval(timer);
        resolve(false);
      }
    }, kWatchdogPollMs);
    void settled.then(() => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      resolve(true);
    });
  });
  const errors: string[] = [];
  if (!done) {
    await tearDown(settled, memory, ids, controller);
    if (timedOut) errors.push(`a round did not finish within ${timeoutMs} ms and no thread was blocked on a lock`);
  }
  for (const result of await settled) {
    if (result.status === 'fulfilled' && result.value.status === 'error') {
      errors.push(`thread ${result.value.thread}: ${result.value.message}`);
    }
  }
  Atomics.store(memory.i32, memory.layout.header + kHeaderAbort, 0);
  return { alarm, tornDown: !done, interrupted, errors };
}

async function tearDown(
  settled: Promise<unknown>,
  memory: SharedMemory,
  ids: WorldIds,
  controller: AbortController,
): Promise<void> {
  const { i32, layout } = memory;
  Atomics.store(i32, layout.header + kHeaderAbort, 1);
  // Wake every sleeper now rather than at the end of its wait slice.
  for (const { id } of ids.locks.values()) Atomics.notify(i32, lockBase(layout, id) + kLockState);
  Atomics.notify(i32, layout.header + kHeaderBarrierPhase);
  const cooperative = await Promise.race([
    settled.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), kCooperativeAbortMs).unref()),
  ]);
  if (!cooperative) {
    // Last resort: piscina terminates the workers still running (and replaces them).
    controller.abort();
    await settled;
  }
}

function worldNames(memory: SharedMemory, strings: StringTable, ids: WorldIds): WorldNames {
  const refNames = new Map([...ids.refcounts].map(([name, { id }]) => [id, name]));
  const slotNames = new Map([...ids.slots].map(([name, slot]) => [slot, name]));
  return {
    lock: (lockId) => ({
      lock: lockNameOf(memory, strings, lockId),
      class: classNameOf(memory, strings, lockClassOf(memory, lockId)),
    }),
    refcount: (refId) => refNames.get(refId) ?? `refcount#${refId}`,
    string: (id) => strings.lookup(id),
    object: (pointer, type) => `${strings.lookup(type) || slotNames.get(pointerSlot(pointer)) || 'object'} (slot ${slotNames.get(pointerSlot(pointer)) ?? pointerSlot(pointer)}, generation ${pointer >>> 8})`,
  };
}

function cycleToFinding(cycle: LockOrderCycle, reportNames: ReportNames): Finding {
  const className = (c: number): string => reportNames.className(c);
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
    report: formatCircularDependency(cycle, reportNames),
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

/** Refcounts that must end at zero and did not: leaks, named by who still holds references. */
function sweepRefcounts(memory: SharedMemory, strings: StringTable, ids: WorldIds, round: number): Finding[] {
  const log = new FindingLog(memory);
  const leaks: Finding[] = [];
  for (const [name, { id, mustEndAtZero }] of ids.refcounts) {
    if (!mustEndAtZero) continue;
    const ref = new Refcount(memory, id, 0, log, strings);
    const count = ref.read();
    // A saturated count was already reported as underflow or inc-on-zero.
    if (count === 0 || count === kRefSaturated) continue;
    const holders = ref
      .ledger()
      .filter((row) => row.net > 0)
      .map((row) => ({ holder: strings.lookup(row.tag), refs: row.net, lastGetSite: strings.lookup(row.lastGetSite) }));
    const who = holders.map((h) => `${h.refs} by ${h.holder} (last get at ${h.lastGetSite})`).join(', ');
    leaks.push({
      kind: 'refcount-leak',
      round,
      thread: -1,
      locks: [],
      message: `${name} is ${count} after everything was closed: ${who || 'no holder recorded'}`,
      key: `${name}:${holders.map((h) => `${h.holder}@${h.lastGetSite}`).join(',')}`,
      evidence: { refcount: name, count, holders },
    });
  }
  return leaks;
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
