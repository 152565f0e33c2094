/**
 * Supervision of one round on the main thread: while the round's tasks run, poll the watchdog
 * (deadlock, stuck) and the runaway check every {@link kWatchdogPollMs}, and notice a task that
 * failed (scenario code threw, or its worker exited). Any of these, SIGINT, or the round's last-
 * resort time-out tears the round down.
 *
 * Teardown: set the abort word and wake every lock word and the barrier, so blocked threads leave
 * their bounded waits with RoundAborted; a task that still has not settled after
 * {@link kCooperativeAbortMs} (a thread looping in scenario code never looks at the abort word)
 * is aborted through piscina, which terminates its worker and starts a fresh one.
 */
import { kHeaderAbort, kHeaderBarrierPhase, kLockState, kThreadCurrentOp, lockBase, threadBase, wallClockMs, type SharedMemory } from '../layout.js';
import type { WorldIds } from '../scenarios/world.js';
import type { RoundTaskResult, ScenarioFailure } from './messages.js';
import type { Names } from './names.js';
import { type RunawayCheck, type Watchdog, type WatchdogAlarm } from './watchdog.js';

/** How often the watchdog reads the wait-for state while a round runs. */
export const kWatchdogPollMs = 2;
/** How long blocked threads get to leave on their own after the abort word is set. */
export const kCooperativeAbortMs = 300;

export interface RoundSupervision {
  memory: SharedMemory;
  ids: WorldIds;
  names: Names;
  watchdog: Watchdog;
  runaway: RunawayCheck;
  controller: AbortController;
  interrupt: AbortSignal | undefined;
  /** Last resort: a round still running after this is torn down as a tool error. */
  timeoutMs: number;
}

export interface RoundOutcome {
  alarm: WatchdogAlarm | null;
  tornDown: boolean;
  interrupted: boolean;
  /** Settled results (a terminated worker's task has none). */
  results: RoundTaskResult[];
  /** The first failure of scenario code in this round, located. */
  failure: { thread: number; failure: ScenarioFailure } | null;
  /** Tool errors: a wait past its hard bound, the last-resort time-out. */
  errors: string[];
}

export async function superviseRound(tasks: Array<Promise<RoundTaskResult>>, s: RoundSupervision): Promise<RoundOutcome> {
  let failure: RoundOutcome['failure'] = null;
  // A failed task (by result or by rejection) ends the round at once: the others would wait for it.
  const watched = tasks.map((task, thread) =>
    task.then(
      (result) => {
        if (result.status === 'scenario-error' && failure === null) failure = { thread, failure: result.failure };
        return result;
      },
      (error: unknown) => {
        if (failure === null && !s.controller.signal.aborted) failure = { thread, failure: workerDied(error, thread, s) };
        return null;
      },
    ),
  );
  const settled = Promise.all(watched);
  let alarm: WatchdogAlarm | null = null;
  let interrupted = false;
  let timedOut = false;
  const startedAt = wallClockMs();
  const done = await new Promise<boolean>((resolve) => {
    let finished = false;
    const stop = (value: boolean): void => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      resolve(value);
    };
    const timer = setInterval(() => {
      const now = wallClockMs();
      if (s.interrupt?.aborted === true) interrupted = true;
      else if (failure === null && now - startedAt > s.timeoutMs) timedOut = true;
      else if (failure === null) {
        alarm = s.watchdog.poll();
        const runaway = alarm === null ? s.runaway.poll(now) : null;
        if (runaway !== null) {
          failure = {
            thread: runaway.thread,
            failure: {
              kind: 'scenario',
              step: stepLabel(runaway.opIndex, s.names),
              location: '',
              message: `has been running for ${runaway.ms} ms without reaching a lock, a shared operation or a barrier (a loop that never ends?)`,
            },
          };
        }
      }
      if (alarm !== null || interrupted || timedOut || failure !== null) stop(false);
    }, kWatchdogPollMs);
    void settled.then(() => stop(true));
  });
  const errors: string[] = [];
  if (!done) {
    await tearDown(settled, s);
    if (timedOut) errors.push(`a round did not finish within ${s.timeoutMs} ms and no thread was blocked on a lock or looping`);
  }
  const results = (await settled).filter((r): r is RoundTaskResult => r !== null);
  for (const result of results) {
    if (result.status === 'error') errors.push(`thread ${result.thread}: ${result.message}`);
  }
  Atomics.store(s.memory.i32, s.memory.layout.header + kHeaderAbort, 0);
  return { alarm, tornDown: !done, interrupted, results, failure, errors };
}

/** `process.exit(N)` in scenario code ends the worker: say so, with the step it was in. */
function workerDied(error: unknown, thread: number, s: RoundSupervision): ScenarioFailure {
  const current = Atomics.load(s.memory.i32, threadBase(s.memory.layout, thread) + kThreadCurrentOp);
  const text = error instanceof Error ? error.message : String(error);
  const code = /exited with code:? (-?\d+)/.exec(text)?.[1];
  return {
    kind: 'scenario',
    step: current === 0 ? 'between steps' : stepLabel(current - 1, s.names),
    location: '',
    message: code !== undefined ? `the worker exited with code ${code} (process.exit in scenario code?)` : `the worker failed: ${text}`,
  };
}

/** `op DEV_OPEN`, `plan()`, `setup`: the step of a thread, as the first error line names it. */
function stepLabel(opIndex: number, names: Names): string {
  return opIndex >= 0 ? `op ${names.stepName(opIndex)}` : names.stepName(opIndex);
}

async function tearDown(settled: Promise<unknown>, s: RoundSupervision): Promise<void> {
  const { i32, layout } = s.memory;
  Atomics.store(i32, layout.header + kHeaderAbort, 1);
  // Wake every sleeper now rather than at the end of its wait slice.
  for (const { id } of s.ids.locks.values()) Atomics.notify(i32, lockBase(layout, id) + kLockState);
  Atomics.notify(i32, layout.header + kHeaderBarrierPhase);
  const cooperative = await Promise.race([
    settled.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), kCooperativeAbortMs).unref()),
  ]);
  if (!cooperative) {
    // Last resort: piscina terminates the workers still running (and replaces them).
    s.controller.abort();
    await settled;
  }
}
