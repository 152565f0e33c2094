/**
 * The worker side of a round, as a plain function (workers/round-worker.ts only forwards to it).
 * Thread 0 runs `setup` before the first barrier and `finish` after the second.
 */
import { SharedMemory } from '../layout.js';
import { RoundAborted } from '../errors.js';
import { Barrier } from '../primitives/barrier.js';
import { StringTable } from '../primitives/string-table.js';
import { type ThreadWorld, assignIds, createThreadWorld } from '../scenarios/world.js';
import type { Scenario } from '../scenarios/contract.js';
import type { RoundTask, RoundTaskResult } from './messages.js';
import { loadScenarioModule } from './load-scenario.js';

interface CachedWorld {
  world: ThreadWorld;
  barrier: Barrier;
  scenario: Scenario;
  opIndex: Map<string, number>;
}

const worlds = new Map<string, CachedWorld>();

async function worldFor(task: RoundTask): Promise<CachedWorld> {
  const key = `${task.worldKey}/${task.thread}`;
  const cached = worlds.get(key);
  if (cached !== undefined) return cached;
  const scenario = await loadScenarioModule(task.scenarioUrl);
  const variant = scenario.variants.find((v) => v.name === task.variant);
  if (variant === undefined) throw new Error(`variant ${task.variant} not in scenario ${scenario.name}`);
  const memory = new SharedMemory(task.buffer, task.capacities);
  const strings = new StringTable(memory);
  const world = createThreadWorld(memory, strings, scenario, assignIds(scenario), {
    thread: task.thread,
    variant,
    tracking: true,
    seed: task.seed,
    jitter: task.jitter,
  });
  // Worlds of earlier variants are dead weight: keep only this world key.
  for (const k of worlds.keys()) if (!k.startsWith(`${task.worldKey}/`)) worlds.delete(k);
  const entry: CachedWorld = {
    world,
    barrier: new Barrier(memory),
    scenario,
    opIndex: new Map(task.opNames.map((name, index) => [name, index])),
  };
  worlds.set(key, entry);
  return entry;
}

export async function runRoundTask(task: RoundTask): Promise<RoundTaskResult> {
  const thread = task.thread;
  try {
    const { world, barrier, scenario, opIndex } = await worldFor(task);
    const variant = scenario.variants.find((v) => v.name === task.variant);
    world.startRound(task.round);
    if (thread === 0) (variant?.setup ?? scenario.setup)?.(world.ctx);
    barrier.arrive();
    for (const name of task.ops) {
      const op = world.operation(name);
      if (op === undefined) throw new Error(`operation ${name} is not defined`);
      world.tracker?.beginOp(opIndex.get(name) ?? 0);
      op(world.ctx);
      world.tracker?.endOp();
    }
    barrier.arrive();
    if (thread === 0) (variant?.finish ?? scenario.finish)?.(world.ctx);
    return { status: 'done', thread };
  } catch (error) {
    if (error instanceof RoundAborted) return { status: 'aborted', thread };
    const message = error instanceof Error ? error.message : String(error);
    return { status: 'error', thread, message };
  }
}
