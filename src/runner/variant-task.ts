/**
 * The worker side of a variant: rounds back to back, in the worker (workers/round-worker.ts only
 * forwards to it), so that a round costs two barrier crossings and not a trip through the main
 * thread.
 *
 * A round, on every thread:
 *   [start barrier] -> plan (each thread its own share, from the seed and the round) -> ops
 *   -> [end barrier]
 * and between the end barrier and the next start barrier, thread 0 alone (the others wait at the
 * start barrier): `finish`, the arbiter's checks (posted to the main thread), the end-of-variant
 * decision (the round limit, or the main thread's stop word), the reset of the world, the next
 * round number, and the next round's `setup`.
 *
 * With a stride of S (`--stride`, jcstress's strides), one rendezvous covers S rounds, each in a
 * copy of the world of its own (world.ts strideIds): every thread runs its ops of round r in copy
 * 0, then of round r+1 in copy 1, and so on, and thread 0 runs the S setups before and the S
 * finishes and checks after. Copies share nothing, so threads that drift apart simply meet in a
 * later copy; each round's plan still comes from the seed and its own number.
 *
 * A teardown (the main thread sets the abort word after a deadlock, a hang or SIGINT) throws
 * RoundAborted out of every wait; each thread then parks (kThreadParked) until the main thread,
 * once every live thread is parked, has reset the world and bumped the release word. Thread 0
 * then runs the next round's `setup` and the rounds go on. The main thread ends the variant by
 * setting kHeaderDone, which threads read at each round start and at each release.
 */
import {
  SharedMemory,
  ThreadStep,
  kHeaderBatch,
  kHeaderDone,
  kHeaderRelease,
  kSchedLastSteps,
  kSchedPlanRound,
  kSchedSteps,
  kHeaderRound,
  kHeaderStop,
  kThreadCurrentOp,
  kThreadParked,
  kThreadRound,
  threadBase,
  wallClockMs,
} from '../layout.js';
import { LimitError, RoundAborted, ScenarioError } from '../errors.js';
import { Barrier, corePerThread } from '../primitives/barrier.js';
import { EventKind } from '../primitives/event-ring.js';
import { kHardWaitBoundMs } from '../primitives/bounded-wait.js';
import { StringTable } from '../primitives/string-table.js';
import { type ThreadWorld, type WorldIds, assignIds, createThreadKit, createThreadWorld, resetRoundState, strideIds } from '../scenarios/world.js';
import type { Scenario, Variant } from '../scenarios/contract.js';
import { createRng, deriveSeed } from '../scenarios/rng.js';
import { checkRound } from './arbiter.js';
import { planProblem } from './describe.js';
import { loadScenarioModule } from './load-scenario.js';
import type { RoundChecks, ScenarioFailure, VariantTask, VariantTaskResult, WarmUpTask, WorkerTask } from './messages.js';
import { type Chooser, pctChooser, prefixChooser, randomChooser, replayChooser } from '../schedule/choosers.js';
import { Exploration } from './exploration.js';
import { ControlledSchedule } from '../schedule/controlled-schedule.js';
import { roundDecisions } from '../schedule/step-log.js';
import { locateError } from './scenario-failure.js';
import { OpTimer } from './op-timing.js';

interface ThreadState {
  memory: SharedMemory;
  strings: StringTable;
  ids: WorldIds;
  /** This thread's world of copy `copy` of the stride, built at its first use (copy 0 is `world`). */
  worldAt(copy: number): ThreadWorld;
  /** The ids of copy `copy` (world.ts strideIds), made at first use. */
  idsAt(copy: number): WorldIds;
  world: ThreadWorld;
  barrier: Barrier;
  scenario: Scenario;
  variant: Variant;
  opIndex: Map<string, number>;
  threads: number[];
}

async function threadState(task: VariantTask): Promise<ThreadState> {
  const scenario = await loadScenarioModule(task.scenarioUrl);
  const variant = scenario.variants.find((v) => v.name === task.variant);
  if (variant === undefined) throw new ScenarioError(`variant ${task.variant} not in scenario ${scenario.name}`);
  const memory = new SharedMemory(task.buffer, task.capacities);
  const strings = new StringTable(memory);
  const ids = assignIds(scenario);
  const controlled =
    task.schedule.mode === 'os'
      ? undefined
      : new ControlledSchedule(memory, strings, task.thread, task.threads, (round) => chooserFor(task, memory, round));
  const options = {
    thread: task.thread,
    variant,
    tracking: true,
    seed: task.seed,
    jitter: task.jitter,
    threads: task.threads,
    ...(controlled === undefined ? {} : { schedule: controlled }),
  };
  const kit = createThreadKit(memory, strings, ids, options);
  // Built when first needed: the rendezvous ramp up to the stride, and each world costs a view of
  // every declared lock, word and refcount, which would delay round 1 by the stride's worth.
  const copyIds: WorldIds[] = [];
  const idsAt = (copy: number): WorldIds => (copyIds[copy] ??= strideIds(ids, copy));
  const worlds: ThreadWorld[] = [];
  const worldAt = (copy: number): ThreadWorld => (worlds[copy] ??= createThreadWorld(memory, strings, scenario, idsAt(copy), options, kit));
  const world = worldAt(0);
  return {
    memory,
    strings,
    ids,
    worldAt,
    idsAt,
    world,
    barrier: new Barrier(memory, task.barrierSpins),
    scenario,
    variant,
    opIndex: new Map(task.opNames.map((name, index) => [name, index])),
    threads: Array.from({ length: task.threads }, (_, t) => t),
  };
}

/** The chooser of a controlled round (see schedule/choosers.ts). */
function chooserFor(task: VariantTask, memory: SharedMemory, round: number): Chooser {
  const { mode, pctDepth, decisions } = task.schedule;
  if (mode === 'random') return randomChooser(task.seed, round);
  if (mode === 'exhaustive') return prefixChooser(memory);
  if (mode === 'pct') {
    const lastSteps = Atomics.load(memory.i32, memory.layout.schedule + kSchedLastSteps);
    return pctChooser(memory, task.seed, round, task.threads, pctDepth, lastSteps > 0 ? lastSteps : kPctFirstEstimate);
  }
  return replayChooser(decisions);
}

/** Longest wait for the other threads at the start of a stride's later copy (variant-task's meet). */
const kMeetMs = 0.05;

/** PCT's guess of a round's length before one has been measured. */
const kPctFirstEstimate = 100;

export async function runWorkerTask(task: WorkerTask): Promise<VariantTaskResult | 'ready'> {
  return task.type === 'warm-up' ? warmUp(task) : runVariantTask(task);
}

/** Loads the scenario, then waits (bounded) until every worker of the pool has done the same. */
async function warmUp(task: WarmUpTask): Promise<'ready'> {
  await loadScenarioModule(task.scenarioUrl);
  const count = new Int32Array(task.rendezvous);
  Atomics.add(count, 0, 1);
  Atomics.notify(count, 0);
  const until = performance.now() + task.timeoutMs;
  for (let seen = Atomics.load(count, 0); seen < task.parties; seen = Atomics.load(count, 0)) {
    const left = until - performance.now();
    if (left <= 0) break; // the main thread reports the missing workers
    Atomics.wait(count, 0, seen, Math.min(left, 50));
  }
  return 'ready';
}

export async function runVariantTask(task: VariantTask): Promise<VariantTaskResult> {
  const thread = task.thread;
  let step = 'loading the scenario';
  let state: ThreadState | undefined;
  const ran = new Set<string>();
  let posted = 0;
  try {
    state = await threadState(task);
    const s = state;
    const { memory, world, barrier, scenario, variant } = s;
    const { i32, layout } = memory;
    const current = threadBase(layout, thread) + kThreadCurrentOp;
    const enter = (code: number, name: string): void => {
      step = name;
      Atomics.store(i32, current, code);
    };
    const done = (): boolean => Atomics.load(i32, layout.header + kHeaderDone) !== 0;
    const plan = variant.plan ?? scenario.plan;
    const exhaustive = task.schedule.mode === 'exhaustive';
    // The plan of a round comes from the seed and the round; exhaustive exploration stays on one
    // plan round for many executions (kSchedPlanRound).
    const planRound = (round: number): number => (exhaustive ? Atomics.load(i32, layout.schedule + kSchedPlanRound) : round);
    const exploration =
      exhaustive && thread === 0
        ? new Exploration(memory, task.schedule.preemptions, task.schedule.plan === null ? task.schedule.plans : 1, (r) =>
            task.schedule.plan ?? plan(createRng(deriveSeed(task.seed, r)), task.threads, r),
          )
        : null;
    // Per-op timing (the bench's timed mix): null unless the layout has its region.
    const timer = OpTimer.forThread(memory, thread);
    const roundWord = threadBase(layout, thread) + kThreadRound;
    // Thread 0: the held stack each copy's ops left (null: none), by copy, for its `finish`.
    const leftovers: Array<Int32Array | null> = [];
    // Rounds of the rendezvous that starts at `round`: kHeaderBatch (it ramps up to the stride, so
    // a variant's first rounds and the rounds after a teardown start as soon as with no stride),
    // or fewer before the round limit.
    const batchOf = (round: number): number => {
      const batch = Math.max(1, Math.min(task.stride, Atomics.load(i32, layout.header + kHeaderBatch)));
      return task.roundsLimit > 0 ? Math.max(1, Math.min(batch, task.roundsLimit - round + 1)) : batch;
    };
    // The copies of a stride start together if they can: having published its round (startRound),
    // a thread spins for at most kMeetMs until every thread has reached that round too. Without it
    // threads whose ops are short drift a copy or more apart and rarely overlap (two threads of the
    // README's ABBA deadlocked 2 to 5 times less often). Only with a core per thread: past that a
    // spinning thread holds the core the one it waits for needs.
    const roundWords = s.threads.map((t) => threadBase(layout, t) + kThreadRound);
    const meets = task.stride > 1 && corePerThread(task.threads);
    const meet = (round: number): void => {
      const until = performance.now() + kMeetMs;
      for (;;) {
        let behind = false;
        for (const at of roundWords) if (Atomics.load(i32, at) < round) behind = true;
        if (!behind || performance.now() > until) return;
      }
    };
    let needsSetup = !task.joinParked;
    if (task.joinParked && park(s, thread)) return { status: 'done', thread, ops: [...ran], posted };

    for (;;) {
      try {
        if (thread === 0 && needsSetup && world.schedule.controlled) {
          // The last round's steps were read (replay token, exploration): start a new log.
          enter(ThreadStep.Plan, 'plan()');
          if (exploration !== null && !exploration.prepare()) {
            Atomics.store(i32, layout.header + kHeaderDone, 1);
            needsSetup = false;
            const round = Atomics.load(i32, layout.header + kHeaderRound);
            const status: RoundChecks = { round, checks: [], decisions: null, planRound: 0, plan: null, exploration: exploration.status() };
            task.port?.postMessage(status);
            posted++;
          } else if (exploration === null) {
            Atomics.store(i32, layout.schedule + kSchedSteps, 0);
          }
        }
        if (thread === 0 && needsSetup) {
          enter(ThreadStep.Setup, 'setup');
          const first = Atomics.load(i32, layout.header + kHeaderRound);
          const batch = batchOf(first);
          for (let copy = 0; copy < batch; copy++) {
            const w = s.worldAt(copy);
            // Thread 0's round starts with its setup: the events of the setup belong to the new round.
            Atomics.store(i32, roundWord, first + copy);
            w.events?.roundStart(first + copy);
            (variant.setup ?? scenario.setup)?.(w.ctx);
          }
          // Until its ops start, thread 0 is in the rendezvous's first round (a teardown counts from it).
          Atomics.store(i32, roundWord, first);
        }
        needsSetup = true;
        enter(ThreadStep.Idle, 'the start barrier');
        world.schedule.enterOps();
        barrier.arrive();
        if (done()) return { status: 'done', thread, ops: [...ran], posted };
        const first = Atomics.load(i32, layout.header + kHeaderRound);
        const batch = batchOf(first);
        const plans: Array<{ round: number; drawnFrom: number }> = [];
        leftovers.length = 0;
        for (let copy = 0; copy < batch; copy++) {
          const round = first + copy;
          const w = s.worldAt(copy);
          enter(ThreadStep.Plan, 'plan()');
          const drawnFrom = planRound(round);
          plans.push({ round, drawnFrom });
          const lists = task.schedule.plan ?? plan(createRng(deriveSeed(task.seed, drawnFrom)), task.threads, drawnFrom);
          const problem = planProblem(lists, task.threads, drawnFrom, task.opNames);
          if (problem !== null) throw new ScenarioError(problem);
          if (thread === 0 && task.schedule.mode === 'replay' && task.port !== undefined) {
            // A replay's plan goes to the main thread now: a deadlocked round never reaches its end.
            const message: RoundChecks = { round, checks: [], decisions: null, planRound: drawnFrom, plan: lists, exploration: null };
            task.port.postMessage(message);
            posted++;
          }
          const ops = lists[thread] ?? [];
          w.startRound(round);
          if (copy > 0 && meets) meet(round);
          w.schedule.beginOps();
          for (const name of ops) {
            const op = w.operation(name);
            if (op === undefined) throw new ScenarioError(`op ${name} is not defined`);
            step = `op ${name}`;
            ran.add(name);
            const opIndex = s.opIndex.get(name) ?? 0;
            w.events?.recordTimed(EventKind.OpBegin, opIndex, 0, 0);
            w.tracker?.beginOp(opIndex);
            timer?.begin(opIndex);
            op(w.ctx);
            timer?.end();
            w.tracker?.endOp();
            w.events?.recordTimed(EventKind.OpEnd, opIndex, 0, 0);
          }
          w.schedule.leaveOps();
          if (copy + 1 < batch && w.tracker !== null) {
            // A lock an op returned holding (held-at-return, reported at the op's end) belongs to
            // this copy: the next copy starts with an empty held stack, as the next round would,
            // and thread 0 keeps the copy's stack for the copy's `finish` (which may release it).
            if (thread === 0) leftovers[copy] = w.tracker.saveHeld();
            w.tracker.reset();
          }
        }
        enter(ThreadStep.Idle, 'the end barrier');
        barrier.arrive();
        if (thread === 0) {
          // The last copy's held stack is the live one; each `finish` runs with its copy's.
          if (batch > 1) leftovers[batch - 1] = world.tracker?.saveHeld() ?? null;
          for (const [copy, { round, drawnFrom }] of plans.entries()) {
            const w = s.worldAt(copy);
            if (batch > 1) w.tracker?.restoreHeld(leftovers[copy] ?? null);
            Atomics.store(i32, roundWord, round);
            enter(ThreadStep.Finish, 'finish');
            (variant.finish ?? scenario.finish)?.(w.ctx);
            enter(ThreadStep.Checks, 'invariants');
            const checks = checkRound(memory, s.strings, s.idsAt(copy), scenario, variant.name, round);
            timer?.addLeaks(checks);
            // Under control every round's decisions go to the main thread: a lock-order cycle is
            // found there, from the edges, and its first round needs its replay token too.
            if ((checks.length > 0 || world.schedule.controlled) && task.port !== undefined) {
              const decisions = world.schedule.controlled ? roundDecisions(memory) : null;
              const message: RoundChecks = {
                round,
                checks,
                decisions,
                planRound: drawnFrom,
                plan: null,
                exploration: exploration?.status() ?? null,
              };
              task.port.postMessage(message);
              posted++;
            }
          }
          Atomics.store(i32, layout.schedule + kSchedLastSteps, Atomics.load(i32, layout.schedule + kSchedSteps));
          enter(ThreadStep.Idle, 'the next round');
          const last = first + batch - 1;
          const limitReached = task.roundsLimit > 0 && last >= task.roundsLimit;
          if (limitReached || Atomics.load(i32, layout.header + kHeaderStop) !== 0) {
            Atomics.store(i32, layout.header + kHeaderDone, 1);
            needsSetup = false;
          } else {
            // No other thread runs now: they wait at the start barrier for this one.
            // Only the copies this rendezvous used are dirty.
            resetRoundState(memory, s.ids, s.threads, batch);
            Atomics.store(i32, layout.header + kHeaderBatch, Math.min(task.stride, batch * 2));
            Atomics.store(i32, layout.header + kHeaderRound, last + 1);
          }
        }
      } catch (error) {
        if (!(error instanceof RoundAborted)) throw error;
        world.schedule.abandon();
        timer?.abandon();
        Atomics.store(i32, current, ThreadStep.Idle);
        if (park(s, thread)) return { status: 'done', thread, ops: [...ran], posted };
        // The main thread reset the world and set the next round: thread 0 runs its setup.
        needsSetup = true;
      }
    }
  } catch (error) {
    if (state !== undefined) Atomics.store(state.memory.i32, threadBase(state.memory.layout, thread) + kThreadCurrentOp, 0);
    return { status: 'scenario-error', thread, failure: describeFailure(error, step, task.scenarioUrl) };
  }
}

/**
 * Parks after a teardown until the main thread releases the threads (bounded by the hard wait
 * bound: the main thread releases within its own bounds). Returns true when the variant is done.
 */
function park(s: ThreadState, thread: number): boolean {
  const { i32, layout } = s.memory;
  const releaseIndex = layout.header + kHeaderRelease;
  const release = Atomics.load(i32, releaseIndex);
  // Published after reading the generation: the main thread bumps it only once all are parked.
  Atomics.store(i32, threadBase(layout, thread) + kThreadParked, release + 1);
  const started = wallClockMs();
  while (Atomics.load(i32, releaseIndex) === release) {
    if (wallClockMs() - started > kHardWaitBoundMs) throw new Error(`thread ${thread} parked for ${kHardWaitBoundMs} ms without a release`);
    Atomics.wait(i32, releaseIndex, release, 20);
  }
  Atomics.store(i32, threadBase(layout, thread) + kThreadParked, 0);
  return Atomics.load(i32, layout.header + kHeaderDone) !== 0;
}

/** What went wrong, where: every exception out of scenario code is the scenario's to fix. */
function describeFailure(error: unknown, step: string, scenarioUrl: string): ScenarioFailure {
  const message = error instanceof Error ? error.message : String(error);
  const kind = error instanceof LimitError ? 'limit' : error instanceof ScenarioError ? 'scenario' : 'thrown';
  return { kind, message, step, location: locateError(error, scenarioUrl) };
}
