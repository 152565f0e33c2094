/**
 * The watchdog: runs on the main thread while a round runs, reads every thread's held stack and
 * waiting-for word from shared memory (a blocked worker cannot answer a message), and reports
 *
 * - `deadlock` the moment the wait-for graph has a cycle (confirmed by two identical snapshots a
 *   poll apart, so a torn read of a moving thread is never reported), and
 * - `stuck` when a thread has waited longer than the hang bound with no cycle.
 */
import {
  type SharedMemory,
  kThreadCurrentOp,
  kThreadOpEpoch,
  kThreadProgress,
  kThreadWaitingLock,
  threadBase,
} from '../layout.js';
import type { StringTable } from '../primitives/string-table.js';
import {
  type ThreadWaitState,
  type WaitCycle,
  findWaitCycles,
  readWaitStates,
  sameCycle,
} from '../lockdep/wait-for-graph.js';
import { formatHungTasks } from '../lockdep/reports.js';
import type { BlockedThread, Finding } from './findings.js';
import type { Names } from './names.js';

export type WatchdogAlarm =
  | { kind: 'deadlock'; cycle: WaitCycle; states: ThreadWaitState[]; nowUs: number }
  | { kind: 'stuck'; states: ThreadWaitState[]; nowUs: number };

/** The thread an alarm is about: the cycle's first, or the first that waits (-1: none). */
export function alarmThread(alarm: WatchdogAlarm): number {
  if (alarm.kind === 'deadlock') return alarm.cycle.threads[0]?.thread ?? -1;
  return alarm.states.find((s) => s.waitingFor !== null)?.thread ?? -1;
}

export class Watchdog {
  private candidate: WaitCycle | null = null;
  private stuckCandidate = -1;

  constructor(
    private readonly memory: SharedMemory,
    private readonly strings: StringTable,
    private readonly threads: number,
    private readonly hangMs: number,
  ) {}

  /** kThreadCurrentOp - 1 of a thread: an op index, -1 between ops, or a negative step. */
  stepOf(thread: number): number {
    return Atomics.load(this.memory.i32, threadBase(this.memory.layout, thread) + kThreadCurrentOp) - 1;
  }

  /**
   * One snapshot, taken as final: for a controlled round that has stalled (kSchedStall), where no
   * thread can move any more, so a second snapshot would only repeat the first.
   */
  pollStalled(): WatchdogAlarm | null {
    const states = readWaitStates(this.memory, this.strings, this.threads);
    const nowUs = this.memory.nowUs();
    const cycle = findWaitCycles(states)[0];
    if (cycle !== undefined) return { kind: 'deadlock', cycle, states, nowUs };
    return states.some((s) => s.waitingFor !== null) ? { kind: 'stuck', states, nowUs } : null;
  }

  /** Forgets unconfirmed candidates (at the start of a round). */
  reset(): void {
    this.candidate = null;
    this.stuckCandidate = -1;
  }

  poll(): WatchdogAlarm | null {
    const states = readWaitStates(this.memory, this.strings, this.threads);
    const nowUs = this.memory.nowUs();
    if (!states.some((s) => s.waitingFor !== null)) {
      this.reset();
      return null;
    }
    const cycles = findWaitCycles(states);
    const cycle = cycles[0];
    if (cycle !== undefined) {
      const confirmed = this.candidate !== null && sameCycle(this.candidate, cycle);
      this.candidate = cycle;
      return confirmed ? { kind: 'deadlock', cycle, states, nowUs } : null;
    }
    this.candidate = null;
    // No cycle: is anyone waiting past the hang bound? Confirm with the same wait start twice.
    const longest = states
      .filter((s) => s.waitingFor !== null && (nowUs - (s.waitingFor?.sinceUs ?? nowUs)) / 1000 > this.hangMs)
      .map((s) => s.waitingFor?.sinceUs ?? 0)[0];
    if (longest === undefined) {
      this.stuckCandidate = -1;
      return null;
    }
    const confirmed = this.stuckCandidate === longest;
    this.stuckCandidate = longest;
    return confirmed ? { kind: 'stuck', states, nowUs } : null;
  }
}

export function toBlockedThread(state: ThreadWaitState, nowUs: number, names: Names): BlockedThread {
  const waiting = state.waitingFor;
  const completion = waiting?.kind === 'completion';
  return {
    thread: state.thread,
    op: state.op === -1 ? '' : names.stepName(state.op),
    // An untimed held entry (since -1, see lock-tracker.ts) has no known hold time.
    held: state.held.map((h) => ({ ...names.lock(h.lockId), site: h.site, heldMs: h.sinceUs < 0 ? -1 : (nowUs - h.sinceUs) / 1000 })),
    waitingFor:
      waiting === null
        ? null
        : {
            ...(completion ? { lock: names.completionName(waiting.lockId), class: names.completionName(waiting.lockId) } : names.lock(waiting.lockId)),
            site: waiting.site,
            waitedMs: (nowUs - waiting.sinceUs) / 1000,
            ownerThread: waiting.owner,
            ...(completion ? { kind: 'completion' as const } : {}),
            ...(waiting.read === true ? { read: true } : {}),
            ...((waiting.owners?.length ?? 0) > 1 || completion ? { ownerThreads: waiting.owners ?? [] } : {}),
          },
  };
}

/**
 * Turns a confirmed alarm into a finding with its evidence. Under a controlled schedule time is
 * not part of the story (a replay must print the same report), so the dump leaves waits untimed.
 */
export function alarmToFinding(alarm: WatchdogAlarm, round: number, names: Names, controlled = false): Finding {
  const report = formatHungTasks(alarm.kind === 'deadlock' ? alarm.cycle : null, alarm.states, names, controlled ? null : alarm.nowUs);
  const involved = (s: ThreadWaitState): boolean => s.waitingFor !== null || s.held.length > 0;
  if (alarm.kind === 'deadlock') {
    const cycle = alarm.cycle.threads.map((s) => toBlockedThread(s, alarm.nowUs, names));
    const inCycle = new Set(cycle.map((t) => t.thread));
    // The locks a completion's waiter holds are what its completers are stuck on: name them too.
    const held = cycle.some((t) => t.waitingFor?.kind === 'completion') ? cycle.flatMap((t) => t.held.map((h) => h.class)) : [];
    const others = alarm.states
      .filter((s) => !inCycle.has(s.thread) && involved(s))
      .map((s) => toBlockedThread(s, alarm.nowUs, names));
    const locks = [...new Set([...cycle.map((t) => t.waitingFor?.class ?? '?'), ...held])];
    const text = cycle
      .map((t) =>
        t.waitingFor?.kind === 'completion'
          ? `thread ${t.thread} (${t.op || 'idle'}) waits for completion ${t.waitingFor.lock}, which only ${completers(t.waitingFor.ownerThreads ?? [])} could complete`
          : `thread ${t.thread} (${t.op || 'idle'}) waits for ${t.waitingFor?.lock}${t.waitingFor?.read === true ? ' (read)' : ''} held by thread ${t.waitingFor?.ownerThread}`,
      )
      .join('; ');
    return {
      kind: 'deadlock',
      round,
      thread: -1,
      locks,
      message: `deadlock: ${text}`,
      // The same deadlock is the same set of (op, lock class waited for) pairs, whoever the threads are.
      key: cycle.map((t) => `${t.op}:${t.waitingFor?.class}`).sort().join(','),
      report,
      evidence: { cycle, others },
    };
  }
  const blocked = alarm.states.filter(involved).map((s) => toBlockedThread(s, alarm.nowUs, names));
  const waiters = blocked.filter((t) => t.waitingFor !== null);
  return {
    kind: 'stuck',
    round,
    thread: -1,
    locks: [...new Set(waiters.map((t) => t.waitingFor?.class ?? '?'))],
    message: `stuck: ${waiters
      .map((t) =>
        t.waitingFor?.kind === 'completion'
          ? `thread ${t.thread} (${t.op || 'idle'}) waited ${t.waitingFor.waitedMs.toFixed(0)} ms for completion ${t.waitingFor.lock}`
          : `thread ${t.thread} (${t.op || 'idle'}) waited ${t.waitingFor?.waitedMs.toFixed(0)} ms for ${t.waitingFor?.lock} held by ${t.waitingFor?.ownerThread === -1 ? 'nobody' : `thread ${t.waitingFor?.ownerThread}`}`,
      )
      .join('; ')}`,
    key: waiters.map((t) => `${t.op}:${t.waitingFor?.class}`).sort().join(','),
    report,
    evidence: { blocked },
  };
}

function completers(threads: readonly number[]): string {
  return threads.length === 1 ? `thread ${threads[0]}` : `threads ${threads.join(', ')}`;
}

/** A thread that runs scenario code without reaching any scheduling point. */
export interface Runaway {
  thread: number;
  /** kThreadCurrentOp - 1 of the thread: an op index, or a negative step (see names.ts). */
  opIndex: number;
  /** How long it has shown no progress. */
  ms: number;
}

/**
 * The runaway check: a thread inside scenario code (kThreadCurrentOp non-zero) that is not
 * waiting for a lock and whose progress word (bumped at every lock, shared operation and wait
 * slice, see os-schedule.ts) and op epoch have not moved for `boundMs` loops without reaching
 * anything lockstress can see: `for (;;) {}` in an op, or a `plan()` that never returns. A lock
 * wait is the deadlock and hang checks' business, not this one's.
 */
export class RunawayCheck {
  /** Per thread: the last (op, epoch, progress) seen, and when it last changed. */
  private readonly last: Array<{ signature: string; sinceMs: number }> = [];

  constructor(
    private readonly memory: SharedMemory,
    private readonly threads: number,
    private readonly boundMs: number,
  ) {}

  reset(): void {
    this.last.length = 0;
  }

  poll(nowMs: number): Runaway | null {
    const { i32, layout } = this.memory;
    for (let thread = 0; thread < this.threads; thread++) {
      const base = threadBase(layout, thread);
      const current = Atomics.load(i32, base + kThreadCurrentOp);
      const waiting = Atomics.load(i32, base + kThreadWaitingLock) !== 0;
      const signature = `${current}/${Atomics.load(i32, base + kThreadOpEpoch)}/${Atomics.load(i32, base + kThreadProgress)}/${waiting}`;
      const last = this.last[thread];
      if (last === undefined || last.signature !== signature || current === 0 || waiting) {
        this.last[thread] = { signature, sinceMs: nowMs };
        continue;
      }
      if (nowMs - last.sinceMs > this.boundMs) return { thread, opIndex: current - 1, ms: Math.round(nowMs - last.sinceMs) };
    }
    return null;
  }
}
