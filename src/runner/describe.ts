/**
 * The main thread never runs scenario code. A scenario module is loaded, checked and described in
 * a worker of its own (workers/describe-worker.ts), under a time bound, so a module or a `plan()`
 * that never returns ends the run with an error naming it instead of hanging it. The description
 * is plain data: names, expectations, declarations and op names.
 *
 * Checked here, before any round runs (each a ConfigError, exit 2): the module loads and its
 * default export is a scenario; every `expect` kind exists; the plan of every variant returns one
 * list of op names per thread, each op defined (for the first rounds: a plan that draws from its
 * rng is checked again in every round by the thread that runs it).
 */
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import { type Scenario, operationNames } from '../scenarios/contract.js';
import { createRng, deriveSeed } from '../scenarios/rng.js';
import { compiledUrl } from './compiled-path.js';
import type { ScenarioDescription } from './messages.js';

/** How long loading and describing a scenario may take. */
export const kDescribeTimeoutMs = 15_000;
/** Rounds whose plans are checked before the run starts. */
export const kPlanChecksBeforeRun = 3;

/** Messages from the describe worker. */
export type DescribeMessage =
  | { type: 'step'; step: string }
  | { type: 'done'; description: ScenarioDescription }
  | { type: 'error'; message: string };

/** Describes a loaded scenario, checking every plan for `threads` threads (pure; throws ConfigError). */
export function describeScenario(scenario: Scenario, threads: number, seed: number, onStep: (step: string) => void = () => undefined): ScenarioDescription {
  const variants = scenario.variants.map((variant) => {
    const opNames = operationNames(scenario, variant);
    const plan = variant.plan ?? scenario.plan;
    for (let round = 1; round <= kPlanChecksBeforeRun; round++) {
      onStep(`plan() of variant ${variant.name}`);
      const problem = planProblem(plan(createRng(deriveSeed(seed, round)), threads, round), threads, round, opNames);
      if (problem !== null) throw new ConfigError(`scenario ${scenario.name}, variant ${variant.name}: ${problem}`);
    }
    return {
      name: variant.name,
      description: variant.description,
      expect: variant.expect,
      minThreads: variant.minThreads ?? 1,
      extended: variant.extended === true,
      opNames,
    };
  });
  return {
    name: scenario.name,
    description: scenario.description,
    objects: structuredClone(scenario.objects),
    variants,
  };
}

/**
 * What is wrong with what a plan returned, or null: `threads` lists of defined op names. Also
 * used by each thread in every round (round-task.ts), where the answer becomes a scenario error.
 */
export function planProblem(lists: unknown, threads: number, round: number, opNames: readonly string[]): string | null {
  if (!Array.isArray(lists)) return `plan() returned ${typeof lists}, not one list of op names per thread`;
  if (lists.length < threads) return `plan() returned ${lists.length} lists for ${threads} threads (round ${round})`;
  for (const [thread, ops] of lists.entries()) {
    if (!Array.isArray(ops)) return `plan() gave thread ${thread} a ${typeof ops}, not a list of op names`;
    for (const op of ops) {
      if (typeof op !== 'string' || !opNames.includes(op)) {
        return `plan() names op ${JSON.stringify(op)} for thread ${thread}, which is not defined (ops: ${opNames.join(', ')})`;
      }
    }
  }
  return null;
}

/**
 * Loads and describes the scenario at `url` in a worker; at most {@link kDescribeTimeoutMs}.
 * `label` names the input in errors (`--scenario "./x.js"`).
 */
export function describeInWorker(url: string, label: string, threads: number, seed: number): Promise<ScenarioDescription> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(compiledUrl('workers/describe-worker.js')), {
      workerData: { url, label, threads, seed },
    });
    let step = 'loading the module';
    let settled = false;
    const finish = (error: Error | null, description?: ScenarioDescription): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (error !== null) reject(error);
      else if (description !== undefined) resolve(description);
    };
    const timer = setTimeout(
      () => finish(new ConfigError(`${label}: ${step} did not finish within ${kDescribeTimeoutMs} ms`)),
      kDescribeTimeoutMs,
    );
    worker.on('message', (message: DescribeMessage) => {
      if (message.type === 'step') step = message.step;
      else if (message.type === 'done') finish(null, message.description);
      else finish(new ConfigError(message.message));
    });
    worker.on('error', (error) => finish(new ConfigError(`${label}: ${step} failed: ${error.message}`)));
    worker.on('exit', (code) => finish(new ConfigError(`${label}: the worker exited with code ${code} while ${step}`)));
  });
}
