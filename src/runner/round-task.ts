/**
 * The worker side of a round, as a plain function (workers/round-worker.ts only forwards to it).
 *
 * Each thread computes its own share of the plan from the seed and the round (so no scenario code
 * runs on the main thread, and a plan that loops is caught like a looping op). Thread 0 runs
 * `setup` before the first barrier, and `finish` and the arbiter's checks after the second. The
 * thread publishes what it runs (kThreadCurrentOp), which the watchdog reads.
 */
import { SharedMemory, ThreadStep, kThreadCurrentOp, threadBase } from '../layout.js';
import { LimitError, RoundAborted, ScenarioError } from '../errors.js';
import { Barrier } from '../primitives/barrier.js';
import { StringTable } from '../primitives/string-table.js';
import { type ThreadWorld, type WorldIds, assignIds, createThreadWorld } from '../scenarios/world.js';
import type { Scenario, Variant } from '../scenarios/contract.js';
import { createRng, deriveSeed } from '../scenarios/rng.js';
import { checkRound } from './arbiter.js';
import { planProblem } from './describe.js';
import type { RoundTask, RoundTaskResult, ScenarioFailure, WarmUpTask, WorkerTask } from './messages.js';
import { loadScenarioModule } from './load-scenario.js';
import { locateError } from './scenario-failure.js';
import type { Finding } from './findings.js';

interface CachedWorld {
  memory: SharedMemory;
  strings: StringTable;
  ids: WorldIds;
  world: ThreadWorld;
  barrier: Barrier;
  scenario: Scenario;
  variant: Variant;
  opIndex: Map<string, number>;
}

const worlds = new Map<string, CachedWorld>();

async function worldFor(task: RoundTask): Promise<CachedWorld> {
  const key = `${task.worldKey}/${task.thread}`;
  const cached = worlds.get(key);
  if (cached !== undefined) return cached;
  const scenario = await loadScenarioModule(task.scenarioUrl);
  const variant = scenario.variants.find((v) => v.name === task.variant);
  if (variant === undefined) throw new ScenarioError(`variant ${task.variant} not in scenario ${scenario.name}`);
  const memory = new SharedMemory(task.buffer, task.capacities);
  const strings = new StringTable(memory);
  const ids = assignIds(scenario);
  const world = createThreadWorld(memory, strings, scenario, ids, {
    thread: task.thread,
    variant,
    tracking: true,
    seed: task.seed,
    jitter: task.jitter,
  });
  // Worlds of earlier variants are dead weight: keep only this world key.
  for (const k of worlds.keys()) if (!k.startsWith(`${task.worldKey}/`)) worlds.delete(k);
  const entry: CachedWorld = {
    memory,
    strings,
    ids,
    world,
    barrier: new Barrier(memory),
    scenario,
    variant,
    opIndex: new Map(task.opNames.map((name, index) => [name, index])),
  };
  worlds.set(key, entry);
  return entry;
}

export async function runWorkerTask(task: WorkerTask): Promise<RoundTaskResult | 'ready'> {
  return task.type === 'warm-up' ? warmUp(task) : runRoundTask(task);
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

export async function runRoundTask(task: RoundTask): Promise<RoundTaskResult> {
  const thread = task.thread;
  let step = 'loading the scenario';
  let cached: CachedWorld | undefined;
  try {
    cached = await worldFor(task);
    const { world, barrier, scenario, variant, opIndex, memory } = cached;
    const current = threadBase(memory.layout, thread) + kThreadCurrentOp;
    const enter = (code: number, name: string): void => {
      step = name;
      Atomics.store(memory.i32, current, code);
    };

    enter(ThreadStep.Plan, 'plan()');
    const plan = variant.plan ?? scenario.plan;
    const lists = plan(createRng(deriveSeed(task.seed, task.round)), task.threads, task.round);
    const problem = planProblem(lists, task.threads, task.round, task.opNames);
    if (problem !== null) throw new ScenarioError(problem);
    const ops = lists[thread] ?? [];

    world.startRound(task.round);
    if (thread === 0) {
      enter(ThreadStep.Setup, 'setup');
      (variant.setup ?? scenario.setup)?.(world.ctx);
    }
    enter(ThreadStep.Idle, 'the first barrier');
    barrier.arrive();
    for (const name of ops) {
      const op = world.operation(name);
      if (op === undefined) throw new ScenarioError(`op ${name} is not defined`);
      step = `op ${name}`;
      world.tracker?.beginOp(opIndex.get(name) ?? 0);
      op(world.ctx);
      world.tracker?.endOp();
    }
    enter(ThreadStep.Idle, 'the second barrier');
    barrier.arrive();
    let checks: Finding[] = [];
    if (thread === 0) {
      enter(ThreadStep.Finish, 'finish');
      (variant.finish ?? scenario.finish)?.(world.ctx);
      enter(ThreadStep.Checks, 'invariants');
      checks = checkRound(memory, cached.strings, cached.ids, scenario, variant.name, task.round);
    }
    enter(ThreadStep.Idle, 'the end of the round');
    return { status: 'done', thread, ops, checks };
  } catch (error) {
    if (error instanceof RoundAborted) return { status: 'aborted', thread };
    if (cached !== undefined) Atomics.store(cached.memory.i32, threadBase(cached.memory.layout, thread) + kThreadCurrentOp, 0);
    return { status: 'scenario-error', thread, failure: describeFailure(error, step, task.scenarioUrl) };
  }
}

/** What went wrong, where: every exception out of scenario code is the scenario's to fix. */
function describeFailure(error: unknown, step: string, scenarioUrl: string): ScenarioFailure {
  const message = error instanceof Error ? error.message : String(error);
  const kind = error instanceof LimitError ? 'limit' : error instanceof ScenarioError ? 'scenario' : 'thrown';
  return { kind, message, step, location: locateError(error, scenarioUrl) };
}
