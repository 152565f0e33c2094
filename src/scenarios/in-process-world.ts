/**
 * A scenario world on the calling thread only: no pool, no watchdog. For unit tests of a model's
 * paths (exact refcount transitions on one thread) and for benchmarks of a path's cost.
 * Anything that would block for good here blocks this thread, so use it only for paths that
 * cannot deadlock on one thread.
 */
import { SharedMemory, kDefaultCapacities, kHeaderBarrierParties, kHeaderRound } from '../layout.js';
import { FindingLog, type RawFinding } from '../primitives/finding-log.js';
import { StringTable } from '../primitives/string-table.js';
import type { Scenario, WorldView } from './contract.js';
import { type ThreadWorld, assignIds, createThreadWorld, createWorldView, defineWorld, resetRoundState } from './world.js';

export interface InProcessWorld {
  memory: SharedMemory;
  strings: StringTable;
  /** One thread's world (thread 0 unless asked). */
  thread(index?: number): ThreadWorld;
  /** Zeroes the world and starts round `round` (runs no setup). */
  resetRound(round: number): void;
  /** Runs the variant's (or scenario's) setup on thread 0. */
  setup(): void;
  /** Runs one operation by name on a thread. */
  run(op: string, thread?: number): void;
  finish(): void;
  view(): WorldView;
  drainFindings(): RawFinding[];
}

export function createInProcessWorld(
  scenario: Scenario,
  variantName: string,
  options: { tracking?: boolean; threads?: number; seed?: number } = {},
): InProcessWorld {
  const variant = scenario.variants.find((v) => v.name === variantName);
  if (variant === undefined) throw new RangeError(`unknown variant ${variantName} of ${scenario.name}`);
  const threads = options.threads ?? 1;
  const memory = SharedMemory.create(kDefaultCapacities);
  const strings = new StringTable(memory);
  const ids = assignIds(scenario);
  defineWorld(memory, strings, ids);
  Atomics.store(memory.i32, memory.layout.header + kHeaderBarrierParties, threads);
  const worlds: ThreadWorld[] = [];
  for (let t = 0; t < threads; t++) {
    worlds.push(
      createThreadWorld(memory, strings, scenario, ids, {
        thread: t,
        variant,
        tracking: options.tracking ?? true,
        seed: options.seed ?? 1,
        jitter: false,
      }),
    );
  }
  const log = new FindingLog(memory);
  let round = 0;
  const api: InProcessWorld = {
    memory,
    strings,
    thread: (index = 0) => {
      const world = worlds[index];
      if (world === undefined) throw new RangeError(`no thread ${index}`);
      return world;
    },
    resetRound(n) {
      round = n;
      resetRoundState(memory, ids, worlds.map((_, t) => t));
      Atomics.store(memory.i32, memory.layout.header + kHeaderRound, n);
      for (const w of worlds) w.startRound(n);
    },
    setup() {
      (variant.setup ?? scenario.setup)?.(api.thread(0).ctx);
    },
    run(op, thread = 0) {
      const world = api.thread(thread);
      const fn = world.operation(op);
      if (fn === undefined) throw new RangeError(`unknown operation ${op}`);
      fn(world.ctx);
    },
    finish() {
      (variant.finish ?? scenario.finish)?.(api.thread(0).ctx);
    },
    view: () => createWorldView(memory, strings, ids, variant.name, round),
    drainFindings: () => log.drain().records,
  };
  return api;
}
