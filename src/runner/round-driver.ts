/**
 * The main thread's side of one variant. The rounds run in the workers (variant-task.ts); here
 * the main thread only does what it must, every {@link kWatchdogPollMs}:
 * - watch: the watchdog (deadlock, stuck) and the runaway check read the threads' records;
 * - drain: findings the threads logged, thread 0's end-of-round checks, new lock-order cycles;
 * - decide: the budget, the global deadline, SIGINT, stop-on-first, until-expected (a stop word
 *   that thread 0 obeys at the next round boundary, or a teardown that ends the variant);
 * - tear down a round that cannot finish (supervisor.ts), replacing any worker it had to
 *   terminate, so the variant goes on with its next round.
 */
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import {
  type Capacities,
  SharedMemory,
  kHeaderBatch,
  kHeaderDone,
  kHeaderRound,
  kHeaderStop,
  kSchedPlanRound,
  kSchedStall,
  overlapIndex,
  wallClockMs,
} from '../layout.js';
import { droppedEdgeCount } from '../lockdep/edge-table.js';
import type { IrqInversion } from '../lockdep/irq-usage.js';
import { type LockOrderCycle, SharedLockOrderGraph } from '../lockdep/lock-order-graph.js';
import { captureTimeline, loggedFindingTimeline } from '../lockdep/event-timeline.js';
import { formatCircularDependency } from '../lockdep/reports.js';
import { Barrier, defaultBarrierSpins } from '../primitives/barrier.js';
import { FindingLog } from '../primitives/finding-log.js';
import { LockTable, lockKindOf, readClassStats } from '../primitives/lock-table.js';
import { lockKindByCode } from '../primitives/lock-kinds.js';
import { StringTable } from '../primitives/string-table.js';
import { type WorldIds, assignIds, defineWorld, resetRoundState } from '../scenarios/world.js';
import { type Finding, decodeRawFinding, irqInversionToFinding } from './findings.js';
import type {
  ExplorationStatus,
  RoundChecks,
  ScenarioDescription,
  ScenarioFailure,
  ScheduleConfig,
  VariantTask,
  VariantTaskResult,
} from './messages.js';
import { type Names, createNames } from './names.js';
import { type OpTimes, closeOpenOps, readOpTimes } from './op-timing.js';
import type { ResolvedStressOptions } from './options.js';
import type { RunControl } from './run-stress.js';
import { kCooperativeAbortMs, kWatchdogPollMs, releaseParked, signalAbort, waitParked } from './supervisor.js';
import { type FindingSummary, type StopReason, type VariantVerdict, FindingCollector, decideStatus, expectationMet } from './verdict.js';
import { type ReplayToken, encodeReplayToken } from '../schedule/replay-token.js';
import { readSteps, roundDecisions } from '../schedule/step-log.js';
import { type Reproducer, actionsOf, preemptionsOf } from '../schedule/reproducer.js';
import { RunawayCheck, Watchdog, alarmThread, alarmToFinding } from './watchdog.js';

export interface VariantRun {
  options: ResolvedStressOptions;
  scenario: ScenarioDescription;
  scenarioUrl: string;
  variant: ScenarioDescription['variants'][number];
  capacities: Capacities;
  /** Copies of the world per rendezvous (run-stress.ts effectiveStride). */
  stride: number;
  pool: Piscina;
  worldKey: string;
  /** Wall-clock ms past which the run stops starting rounds. */
  deadline: number;
  interrupt: AbortSignal | undefined;
  progress: ((text: string) => void) | undefined;
  /** `--replay`: the round to run again, with its decisions. */
  replay: ReplayToken | null;
  /** How `--scenario` was given (a replay token names the scenario this way). */
  scenarioInput: string;
  control: RunControl;
}

/** A variant's verdict, and the scenario failure that stopped it, if one did. */
export interface VariantResult {
  verdict: VariantVerdict;
  failure: { thread: number; failure: ScenarioFailure } | null;
  /** Every op's duration, when the capacities asked for per-op timing (op-timing.ts); else null. */
  opTimes: OpTimes | null;
}

/** Thread count for which `--min-rounds` is stated; more threads run more ops per round. */
export const kMinRoundsThreads = 4;
/** The fewest rounds a scaled minimum asks for. */
export const kMinRoundsFloor = 5;

/**
 * The rounds a verdict needs (see verdict.ts): `--min-rounds` at 4 threads or fewer; with more
 * threads each round runs more ops, so the minimum scales by 4/threads, but never below 5 (or the
 * minimum itself); and never more than `--rounds` when that is set.
 */
export function effectiveMinRounds(options: Pick<ResolvedStressOptions, 'minRounds' | 'rounds' | 'threads'>): number {
  const scaled =
    options.threads <= kMinRoundsThreads
      ? options.minRounds
      : Math.max(Math.min(kMinRoundsFloor, options.minRounds), Math.ceil((options.minRounds * kMinRoundsThreads) / options.threads));
  return options.rounds > 0 ? Math.min(scaled, options.rounds) : scaled;
}

/** A thread looping this long in scenario code without any scheduling point is a runaway. */
export function runawayBoundMs(options: ResolvedStressOptions): number {
  return Math.max(3000, options.hangMs * 4);
}

/** Last resort for a round that neither finishes nor shows a deadlock, a hang or a runaway. */
export function roundTimeoutMs(options: ResolvedStressOptions): number {
  return runawayBoundMs(options) + 5000 + options.threads * 100;
}

/** How long replacement workers may take to start and park. */
const kReplacementTimeoutMs = 30_000;
/** Controlled rounds whose decisions are kept beyond those that first showed a finding. */
const kDecisionRoundsKept = 64;
/** The lock-order graph is read every this many polls (its scan is the costliest read). */
const kOrderGraphEvery = 5;

interface ThreadTask {
  thread: number;
  promise: Promise<void>;
  controller: AbortController;
  settled: boolean;
  /** Terminated by a teardown on purpose: its rejection is not a failure. */
  replaced: boolean;
  ops: string[];
  /** Check messages this task posted (from its result) and the ones received. */
  posted: number;
  received: number;
}

export async function runVariant(run: VariantRun): Promise<VariantResult> {
  return new VariantDriver(run).run();
}

class VariantDriver {
  private readonly memory: SharedMemory;
  private readonly strings: StringTable;
  private readonly ids: WorldIds;
  private readonly names: Names;
  private readonly log: FindingLog;
  private readonly orderGraph: SharedLockOrderGraph;
  private readonly watchdog: Watchdog;
  private readonly runaway: RunawayCheck;
  private readonly barrier: Barrier;
  private readonly collector = new FindingCollector();
  private readonly tasks: ThreadTask[] = [];
  private readonly errors: string[] = [];
  private readonly threadIndexes: number[];
  private failure: VariantResult['failure'] = null;
  private stoppedBy: StopReason | null = null;
  private abortedRounds = 0;
  private firstDeadlockMs: number | null = null;
  private started = 0;
  /** The first round's number: 1, or the replayed round. */
  private readonly firstRound: number;
  private readonly schedule: ScheduleConfig;
  /** Decisions of controlled rounds (and the round each drew its plan from), by round. */
  private readonly decisionsByRound = new Map<number, { decisions: number[]; planRound: number }>();
  /** Where an exhaustive exploration stands (thread 0 posts it). */
  private exploration: ExplorationStatus | null = null;
  /** A replay's plan, as thread 0 ran it. */
  private replayPlan: string[][] | null = null;

  constructor(private readonly run_: VariantRun) {
    const { options, capacities } = run_;
    this.memory = SharedMemory.create(capacities);
    this.strings = new StringTable(this.memory);
    this.ids = assignIds(run_.scenario);
    defineWorld(this.memory, this.strings, this.ids, run_.stride);
    new LockTable(this.memory, this.strings).resetStats();
    this.names = createNames(this.memory, this.strings, this.ids, run_.variant.opNames);
    this.log = new FindingLog(this.memory);
    this.orderGraph = new SharedLockOrderGraph(this.memory, this.strings);
    this.watchdog = new Watchdog(this.memory, this.strings, options.threads, options.hangMs);
    this.runaway = new RunawayCheck(this.memory, options.threads, runawayBoundMs(options));
    this.barrier = new Barrier(this.memory);
    this.threadIndexes = Array.from({ length: options.threads }, (_, t) => t);
    const replay = run_.replay;
    this.firstRound = replay?.round ?? 1;
    const plan = run_.control.plan ?? replay?.plan ?? null;
    const common = { pctDepth: options.pctDepth, preemptions: options.preemptions, plans: options.plans, plan };
    this.schedule =
      replay !== null ? { mode: 'replay', ...common, decisions: replay.decisions } : { mode: options.schedule, ...common, decisions: [] };
  }

  /** The last round this variant may run (0 = no limit). */
  private roundsLimit(): number {
    return this.run_.options.rounds > 0 ? this.firstRound + this.run_.options.rounds - 1 : 0;
  }

  async run(): Promise<VariantResult> {
    const { options } = this.run_;
    const { i32, layout } = this.memory;
    resetRoundState(this.memory, this.ids, this.threadIndexes, this.run_.stride);
    Atomics.store(i32, layout.header + kHeaderRound, this.firstRound);
    Atomics.store(i32, layout.header + kHeaderBatch, 1);
    this.barrier.reset(options.threads);
    this.started = wallClockMs();
    for (const thread of this.threadIndexes) this.startThread(thread, false);

    let polls = 0;
    let lastRound = this.firstRound;
    let lastRoundAt = this.started;
    let reported = 0;
    while (!this.tasks.every((t) => t.settled)) {
      await new Promise((resolve) => setTimeout(resolve, kWatchdogPollMs));
      polls++;
      this.drain(polls % kOrderGraphEvery === 0);
      if (this.tasks.every((t) => t.settled)) break;
      const now = wallClockMs();
      const round = Atomics.load(i32, layout.header + kHeaderRound);
      if (round !== lastRound) {
        lastRound = round;
        lastRoundAt = now;
        if (this.run_.progress !== undefined && round - reported >= 50) {
          reported = round;
          this.run_.progress(`${this.run_.variant.name}: round ${round}, ${this.collector.size} distinct findings`);
        }
      }
      if (Atomics.load(i32, layout.header + kHeaderDone) !== 0) continue; // threads are returning

      if (this.run_.interrupt?.aborted === true) {
        this.stoppedBy = 'interrupted';
        await this.tearDown(true);
        continue;
      }
      if (this.failure !== null) {
        this.stoppedBy = 'error';
        await this.tearDown(true);
        continue;
      }
      this.requestStopIfDue(now);

      const stalled = this.schedule.mode !== 'os' && Atomics.load(i32, layout.schedule + kSchedStall) !== 0;
      const alarm = stalled ? this.watchdog.pollStalled() : this.watchdog.poll();
      if (alarm !== null) {
        if (this.schedule.mode !== 'os') {
          const planRound = this.schedule.mode === 'exhaustive' ? Atomics.load(i32, layout.schedule + kSchedPlanRound) : round;
          this.decisionsByRound.set(round, { decisions: roundDecisions(this.memory), planRound });
        }
        // The round of the threads the alarm is about (with a stride, the others may be in other rounds).
        const alarmRound = this.memory.roundOf(alarmThread(alarm));
        const finding = alarmToFinding(alarm, alarmRound, this.names, this.schedule.mode !== 'os');
        // Read the rings now, before the teardown moves the threads on.
        finding.timeline = captureTimeline(this.memory, this.names, this.threadIndexes, alarmRound, alarm.nowUs);
        this.collector.add(finding);
        if (finding.kind === 'deadlock' && this.firstDeadlockMs === null) this.firstDeadlockMs = Math.round(now - this.started);
        this.requestStopIfDue(now);
        await this.tearDown(this.stopRequested());
        lastRoundAt = wallClockMs();
        continue;
      }
      const runaway = this.runaway.poll(now);
      if (runaway !== null) {
        const step = runaway.opIndex >= 0 ? `op ${this.names.stepName(runaway.opIndex)}` : this.names.stepName(runaway.opIndex);
        this.failure = {
          thread: runaway.thread,
          failure: {
            kind: 'scenario',
            step,
            location: '',
            message: `has been running for ${runaway.ms} ms without reaching a lock, a shared operation or a barrier (a loop that never ends?)`,
          },
        };
        this.stoppedBy = 'error';
        await this.tearDown(true);
        continue;
      }
      if (now - lastRoundAt > roundTimeoutMs(options)) {
        this.errors.push(`a round did not finish within ${roundTimeoutMs(options)} ms and no thread was blocked on a lock or looping`);
        this.stoppedBy = 'error';
        await this.tearDown(true);
      }
    }
    // Thread 0's last checks travel on their own port: wait (bounded) until they are in.
    const until = wallClockMs() + 2000;
    while (this.tasks.some((t) => t.received < t.posted) && wallClockMs() < until) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    this.drain(true);
    const dropped = droppedEdgeCount(this.memory);
    if (dropped > 0) {
      this.errors.push(
        `the lock-order edge table (${this.run_.capacities.edges} slots) was full: ${dropped} edge sightings not stored, so a cycle may have gone unseen`,
      );
    }
    return this.verdict();
  }

  /** Starts (or restarts, parked) one thread's variant task. */
  private startThread(thread: number, joinParked: boolean): void {
    const { options } = this.run_;
    const controller = new AbortController();
    let port: MessagePort | undefined;
    const transferList: MessagePort[] = [];
    const entry: ThreadTask = { thread, controller, settled: false, replaced: false, ops: [], posted: 0, received: 0, promise: Promise.resolve() };
    if (thread === 0) {
      const channel = new MessageChannel();
      channel.port1.on('message', (message: RoundChecks) => {
        entry.received++;
        if (message.decisions !== null) this.decisionsByRound.set(message.round, { decisions: message.decisions, planRound: message.planRound });
        if (message.exploration !== null) this.exploration = message.exploration;
        if (message.plan !== null) this.replayPlan = message.plan;
        for (const check of message.checks) this.collector.add(check);
      });
      channel.port1.unref();
      port = channel.port2 as unknown as MessagePort;
      transferList.push(port);
    }
    const task: VariantTask = {
      type: 'variant',
      worldKey: this.run_.worldKey,
      buffer: this.memory.buffer,
      capacities: this.run_.capacities,
      scenarioUrl: this.run_.scenarioUrl,
      variant: this.run_.variant.name,
      thread,
      threads: options.threads,
      opNames: this.run_.variant.opNames,
      seed: options.seed,
      // A controlled schedule decides every interleaving itself: no jitter on top.
      jitter: options.jitter && this.schedule.mode === 'os',
      roundsLimit: this.roundsLimit(),
      stride: this.run_.stride,
      schedule: this.schedule,
      barrierSpins: defaultBarrierSpins(options.threads),
      joinParked,
      ...(port === undefined ? {} : { port }),
    };
    entry.promise = (this.run_.pool.run(task, { signal: controller.signal, transferList: transferList as never }) as Promise<VariantTaskResult>).then(
      (result) => {
        entry.settled = true;
        if (result.status === 'done') {
          entry.ops = result.ops;
          entry.posted = result.posted;
        }
        else if (result.status === 'scenario-error') this.failure ??= { thread, failure: result.failure };
        else this.errors.push(`thread ${thread}: ${result.message}`);
      },
      (error: unknown) => {
        entry.settled = true;
        if (!entry.replaced) this.failure ??= { thread, failure: this.workerDied(error, thread) };
      },
    );
    this.tasks[thread] = entry;
  }

  /** `process.exit(N)` in scenario code ends the worker: say so, with the step it was in. */
  private workerDied(error: unknown, thread: number): ScenarioFailure {
    const state = this.watchdogStep(thread);
    const text = error instanceof Error ? error.message : String(error);
    const code = /exited with code:? (-?\d+)/.exec(text)?.[1];
    return {
      kind: 'scenario',
      step: state,
      location: '',
      message: code !== undefined ? `the worker exited with code ${code} (process.exit in scenario code?)` : `the worker failed: ${text}`,
    };
  }

  private watchdogStep(thread: number): string {
    const state = this.watchdog.stepOf(thread);
    if (state === -1) return 'between steps';
    return state >= 0 ? `op ${this.names.stepName(state)}` : this.names.stepName(state);
  }

  /**
   * The last round any thread started: the header's round, or with a stride a later round of the
   * rendezvous a thread had reached (each thread publishes its round, kThreadRound).
   */
  private lastRoundStarted(): number {
    let last = Atomics.load(this.memory.i32, this.memory.layout.header + kHeaderRound);
    if (this.run_.stride > 1) {
      for (const thread of this.threadIndexes) last = Math.max(last, this.memory.roundOf(thread));
    }
    return last;
  }

  private stopRequested(): boolean {
    return Atomics.load(this.memory.i32, this.memory.layout.header + kHeaderStop) !== 0;
  }

  /** Sets the stop word once the budget is spent or what was asked for was seen. */
  private requestStopIfDue(now: number): void {
    if (this.stopRequested()) return;
    const { options, variant } = this.run_;
    let reason: StopReason | null = null;
    if (now - this.started >= options.durationMs) reason = 'duration';
    else if (now > this.run_.deadline) reason = 'deadline';
    else if (options.stopOnFirst && this.collector.size > 0) reason = 'first-finding';
    else if (options.untilExpected && variant.expect !== 'clean' && expectationMet(variant.expect, this.collector.kinds())) reason = 'expected-seen';
    else if (this.run_.control.stopOnKind !== undefined && this.collector.kinds().has(this.run_.control.stopOnKind)) reason = 'expected-seen';
    if (reason === null) return;
    this.stoppedBy ??= reason;
    Atomics.store(this.memory.i32, this.memory.layout.header + kHeaderStop, 1);
  }

  /**
   * Ends the current round: every live thread parks (or is terminated and, unless the variant is
   * ending, replaced), then, with nothing running, the world is reset for the next round (or the
   * variant is marked done) and the threads are released.
   */
  private async tearDown(ending: boolean): Promise<void> {
    const { options } = this.run_;
    const { i32, layout } = this.memory;
    signalAbort(this.memory, this.ids, this.run_.stride);
    const live = this.tasks.filter((t) => !t.settled).map((t) => t.thread);
    const stragglers = await waitParked(this.memory, live, kCooperativeAbortMs);
    for (const thread of stragglers) {
      const entry = this.tasks[thread];
      if (entry === undefined) continue;
      entry.replaced = true;
      entry.controller.abort();
    }
    await Promise.all(stragglers.map((t) => this.tasks[t]?.promise));
    closeOpenOps(this.memory, stragglers);
    let end = ending || this.failure !== null;
    if (!end && stragglers.length > 0) {
      for (const thread of stragglers) this.startThread(thread, true);
      const missing = await waitParked(this.memory, stragglers, kReplacementTimeoutMs);
      if (missing.length > 0) {
        this.errors.push(`replacement workers for threads ${missing.join(', ')} did not start within ${kReplacementTimeoutMs} ms`);
        end = true;
      }
    }
    // Nothing runs now: findings half-written by a terminated thread can be given up.
    this.drain(true);
    this.log.skipUnpublished();
    this.abortedRounds++;
    const round = this.lastRoundStarted();
    if (this.roundsLimit() > 0 && round >= this.roundsLimit()) {
      end = true;
      this.stoppedBy ??= 'rounds';
    }
    if (this.stopRequested()) end = true;
    if (end) {
      Atomics.store(i32, layout.header + kHeaderDone, 1);
    } else {
      resetRoundState(this.memory, this.ids, this.threadIndexes, this.run_.stride);
      Atomics.store(i32, layout.header + kHeaderRound, round + 1);
      Atomics.store(i32, layout.header + kHeaderBatch, 1);
      this.barrier.reset(options.threads);
    }
    this.watchdog.reset();
    this.runaway.reset();
    releaseParked(this.memory);
  }

  private drain(withOrderGraph: boolean): void {
    for (const raw of this.log.drain().records) {
      const finding = decodeRawFinding(raw, this.names);
      finding.timeline = loggedFindingTimeline(this.memory, this.names, raw.thread, raw.index, raw.round);
      this.collector.add(finding);
    }
    if (withOrderGraph) {
      for (const cycle of this.orderGraph.poll()) this.collector.add(cycleToFinding(cycle, this.names));
      for (const inv of this.orderGraph.irqInversions()) this.collector.add(this.inversionFinding(inv));
    }
    this.forgetOldDecisions();
  }

  /** An irq lock inversion, its sites and thread read from the classes' usage records. */
  private inversionFinding(inv: IrqInversion): Finding {
    const usage = (c: number) => this.orderGraph.usage(c);
    const site = (c: number, bit: number): string => {
      const id = usage(c).site(bit);
      return id < 0 ? '' : this.strings.lookup(id);
    };
    const last = inv.closedBy === 'dependency' ? inv.newest.thread : usage(inv.closedBy === 'safe' ? inv.safe : inv.unsafe).thread(inv.closedBy === 'safe' ? inv.safeBit : inv.unsafeBit);
    return irqInversionToFinding(inv, inv.newest.round, site, last, this.names);
  }

  /**
   * Keeps the decisions of the rounds that first showed a finding, and of the last few rounds
   * (a lock-order cycle is read from the edges a little after its round ended); the rest go.
   */
  private forgetOldDecisions(): void {
    if (this.decisionsByRound.size <= kDecisionRoundsKept) return;
    const firsts = new Set(this.collector.summaries().map((s) => s.first.round));
    const newest = Math.max(...this.decisionsByRound.keys());
    for (const round of this.decisionsByRound.keys()) {
      if (round < newest - kDecisionRoundsKept && !firsts.has(round)) this.decisionsByRound.delete(round);
    }
  }

  /** Under a controlled schedule, each finding's first round gets the token that replays it. */
  private withReplayTokens(summaries: FindingSummary[]): FindingSummary[] {
    if (this.schedule.mode === 'os') return summaries;
    const { options, variant } = this.run_;
    return summaries.map((summary) => {
      const recorded = this.decisionsByRound.get(summary.first.round);
      if (recorded === undefined) return summary;
      const replay = encodeReplayToken({
        scenario: this.run_.scenarioInput,
        variant: variant.name,
        threads: options.threads,
        seed: options.seed,
        round: recorded.planRound,
        policy: this.run_.replay?.policy ?? options.schedule,
        decisions: recorded.decisions,
        ...(this.schedule.plan === null ? {} : { plan: this.schedule.plan }),
      });
      return { ...summary, first: { ...summary.first, replay } };
    });
  }

  /** A replay's round, as a numbered interleaving (read from the step log the round left). */
  private reproducer(): Reproducer | null {
    const token = this.run_.replay;
    const plan = this.schedule.plan ?? this.replayPlan;
    if (token === null || plan === null) return null;
    const words = new Map([...this.ids.words].map(([name, index]) => [index, name]));
    const slots = new Map([...this.ids.slots].map(([name, index]) => [index, name]));
    const steps = readSteps(this.memory);
    return {
      plan,
      threads: plan.filter((ops) => ops.length > 0).length,
      ops: plan.reduce((n, ops) => n + ops.length, 0),
      preemptions: preemptionsOf(steps),
      steps: actionsOf(steps, {
        lock: (id) => ({ ...this.names.lock(id), kind: lockKindByCode(lockKindOf(this.memory, id))?.name ?? 'lock' }),
        refcount: (id) => this.names.refcount(id),
        word: (id) => words.get(id) ?? `word#${id}`,
        slot: (id) => slots.get(id) ?? `slot#${id}`,
        site: (id) => this.strings.lookup(id),
        op: (index) => this.names.stepName(index),
      }),
      replay: encodeReplayToken({ ...token, plan }),
    };
  }

  private verdict(): VariantResult {
    const { options, variant } = this.run_;
    const rounds = this.lastRoundStarted() - this.firstRound + 1;
    const stoppedBy: StopReason =
      this.stoppedBy ?? (this.exploration?.complete === true ? 'explored' : options.rounds > 0 && rounds >= options.rounds ? 'rounds' : 'duration');
    const seen = this.collector.kinds();
    const minRounds = effectiveMinRounds(options);
    const failures = this.errors.length + (this.failure === null ? 0 : 1);
    const status = decideStatus({
      expect: variant.expect,
      seen,
      rounds,
      minRounds,
      stoppedBy,
      errors: failures,
      threads: options.threads,
      minThreads: variant.minThreads,
      complete: this.schedule.mode === 'exhaustive' ? (this.exploration?.complete ?? false) : null,
    });
    const ran = new Set(this.tasks.flatMap((t) => t.ops));
    const durationMs = Math.round(wallClockMs() - this.started);
    const lockStats = readClassStats(this.memory, this.strings).filter((s) => s.acquisitions > 0);
    const perSec = (n: number): number => (durationMs > 0 ? Math.round((n * 1000) / durationMs) : 0);
    const verdict: VariantVerdict = {
      name: variant.name,
      description: variant.description,
      expect: variant.expect,
      seen: [...seen].sort(),
      pass: status === 'pass',
      status,
      note:
        status === 'inconclusive'
          ? this.schedule.mode === 'exhaustive'
            ? `exploration cut short after ${this.exploration?.schedules ?? 0} schedules`
            : `${rounds} rounds, fewer than ${minRounds}`
          : status === 'skipped'
            ? `needs ${variant.minThreads} threads`
            : '',
      rounds,
      durationMs,
      stride: this.run_.stride,
      roundsPerSec: perSec(rounds),
      acquisitionsPerSec: perSec(lockStats.reduce((sum, s) => sum + s.acquisitions, 0)),
      findings: this.withReplayTokens(this.collector.summaries()),
      lockStats,
      lockOrder: this.orderGraph.graph.edges().map((e) => ({
        from: this.names.className(e.from),
        to: this.names.className(e.to),
        fromSite: e.fromSite,
        toSite: e.toSite,
        thread: e.thread,
        round: e.round,
      })),
      coverage: readCoverage(this.memory, variant.opNames, ran),
      abortedRounds: this.abortedRounds,
      firstDeadlockMs: this.firstDeadlockMs,
      stoppedBy,
      errors: this.errors.slice(0, 5),
      exploration: this.exploration,
      reproducer: this.reproducer(),
    };
    return { verdict, failure: this.failure, opTimes: readOpTimes(this.memory, this.threadIndexes, variant.opNames) };
  }
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
    message: `possible circular locking dependency: ${[...classes, classes[0]].join(' -> ')} (${
      names.classIsCompletion(closing.from)
        ? `closed by thread ${closing.thread} completing ${className(closing.from)} at ${closing.fromSite} after taking ${className(closing.to)} at ${closing.toSite}`
        : `closed by thread ${closing.thread} ${names.classIsCompletion(closing.to) ? 'waiting for' : 'taking'} ${className(closing.to)} at ${closing.toSite} while holding ${className(closing.from)}`
    })`,
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

/** Overlap pairs among the operations that ran (setup/finish steps are not operations). */
function readCoverage(memory: SharedMemory, opNames: readonly string[], ran: ReadonlySet<string>): VariantVerdict['coverage'] {
  const overlapped: string[] = [];
  for (let a = 0; a < opNames.length; a++) {
    for (let b = a; b < opNames.length; b++) {
      if (Atomics.load(memory.i32, overlapIndex(memory.layout, a, b)) !== 0) overlapped.push(`${opNames[a]} || ${opNames[b]}`);
    }
  }
  const ops = opNames.filter((name) => ran.has(name));
  const n = ops.length;
  return { ops, pairsOverlapped: overlapped.length, pairsPossible: (n * (n + 1)) / 2, overlapped };
}
