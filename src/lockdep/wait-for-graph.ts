/**
 * The wait-for graph: the watchdog's pure logic.
 *
 * A blocked worker cannot answer a message, so the main thread reads what each thread holds and
 * what it waits for straight out of the per-thread records the LockTracker keeps in shared memory
 * (readWaitStates), then looks for threads that wait on each other in a ring (findWaitCycles).
 * Each thread waits for at most one lock and each lock has at most one owner, so the graph has
 * out-degree at most 1 and every cycle is found by following the pointers.
 *
 * A snapshot is not atomic: a thread may move between two reads. Per thread, readWaitStates reads
 * (waiting lock, wait epoch), then the held stack, then (waiting lock, wait epoch) again; the held
 * stack only changes while its thread is not waiting (lock-tracker.ts, `acquired`), so when both
 * reads agree the stack read belongs to that wait, and when they differ the thread is moving and
 * counts as not waiting. Across threads, the watchdog reports a cycle only once two snapshots a few
 * ms apart show the same cycle with the same wait epochs (sameCycle): every thread in it stayed in
 * one wait for the whole interval, and a thread that waits holds its locks still.
 *
 * Kernel analogue: the hung-task detector (khungtaskd) plus debug_show_all_locks(); the kernel has
 * no wait-for cycle check, but lockdep's splat tells the same story ahead of time.
 */
import {
  type SharedMemory,
  heldBase,
  kHeldLock,
  kHeldSinceUs,
  kHeldSite,
  kMaxHeldLocks,
  kThreadCurrentOp,
  kThreadDepth,
  kThreadWaitEpoch,
  kThreadWaitingLock,
  kThreadWaitingSinceUs,
  kThreadWaitingSite,
  threadBase,
} from '../layout.js';
import { lockOwnerOf } from '../primitives/lock-table.js';
import type { StringTable } from '../primitives/string-table.js';

/** What one thread held and waited for at the moment of a snapshot. */
export interface ThreadWaitState {
  thread: number;
  /** Held stack, oldest first. */
  held: Array<{ lockId: number; site: string; sinceUs: number }>;
  /** The lock it is blocked on, or null. `owner` is the owning thread's index, or -1. */
  waitingFor: { lockId: number; site: string; sinceUs: number; owner: number; epoch: number } | null;
  /** Operation index it is running, or -1 between operations. */
  op: number;
}

/** A ring of threads each waiting for a lock the next one owns. */
export interface WaitCycle {
  /**
   * In cycle order: threads[i] waits for a lock owned by threads[i + 1] (wrapping), starting at the
   * smallest thread index. A thread waiting on a lock it owns itself is a cycle of length 1.
   */
  threads: ThreadWaitState[];
}

/** Snapshot of threads 0..threads-1. Main thread; the workers may be running or blocked. */
export function readWaitStates(memory: SharedMemory, strings: StringTable, threads: number): ThreadWaitState[] {
  const { i32, layout } = memory;
  const states: ThreadWaitState[] = [];
  for (let thread = 0; thread < threads; thread++) {
    const base = threadBase(layout, thread);
    // The tracker publishes the lock last, so read it first and then trust site, since and epoch.
    const waitingLock = Atomics.load(i32, base + kThreadWaitingLock) - 1;
    const epoch = Atomics.load(i32, base + kThreadWaitEpoch);
    const depth = Math.min(Math.max(Atomics.load(i32, base + kThreadDepth), 0), kMaxHeldLocks);
    const held: ThreadWaitState['held'] = [];
    for (let d = 0; d < depth; d++) {
      const entry = heldBase(layout, thread, d);
      held.push({
        lockId: Atomics.load(i32, entry + kHeldLock),
        site: strings.lookup(Atomics.load(i32, entry + kHeldSite)),
        sinceUs: Atomics.load(i32, entry + kHeldSinceUs),
      });
    }
    // Same wait before and after the held stack was read, or the thread is moving: not waiting.
    const steady =
      Atomics.load(i32, base + kThreadWaitingLock) - 1 === waitingLock && Atomics.load(i32, base + kThreadWaitEpoch) === epoch;
    const waitingFor =
      waitingLock < 0 || !steady
        ? null
        : {
            lockId: waitingLock,
            site: strings.lookup(Atomics.load(i32, base + kThreadWaitingSite)),
            sinceUs: Atomics.load(i32, base + kThreadWaitingSinceUs),
            owner: lockOwnerOf(memory, waitingLock),
            epoch,
          };
    states.push({ thread, held, waitingFor, op: Atomics.load(i32, base + kThreadCurrentOp) - 1 });
  }
  return states;
}

/** Every wait-for cycle in a snapshot, each once, ordered by their smallest thread index. */
export function findWaitCycles(states: readonly ThreadWaitState[]): WaitCycle[] {
  const byThread = new Map<number, ThreadWaitState>();
  for (const s of states) byThread.set(s.thread, s);
  const next = (s: ThreadWaitState): ThreadWaitState | undefined => {
    const w = s.waitingFor;
    if (w === null || w.owner < 0) return undefined;
    // A thread that has just won the lock shows as its owner while its waiting word is still set
    // (between the CAS and `acquired`). A real self-deadlock has the lock in its held stack too.
    if (w.owner === s.thread && !s.held.some((h) => h.lockId === w.lockId)) return undefined;
    return byThread.get(w.owner);
  };

  // Absent = unvisited, 1 = on the current walk, 2 = done.
  const mark = new Map<number, number>();
  const cycles: WaitCycle[] = [];
  for (const start of states) {
    if (mark.has(start.thread)) continue;
    const walk: ThreadWaitState[] = [];
    let at: ThreadWaitState | undefined = start;
    while (at !== undefined && !mark.has(at.thread)) {
      mark.set(at.thread, 1);
      walk.push(at);
      at = next(at);
    }
    if (at !== undefined && mark.get(at.thread) === 1) {
      // The walk ran into itself: the tail from `at` onwards is a cycle.
      const ring = walk.slice(walk.indexOf(at));
      cycles.push({ threads: rotateToSmallest(ring) });
    }
    for (const s of walk) mark.set(s.thread, 2);
  }
  return cycles.sort((a, b) => (a.threads[0]?.thread ?? 0) - (b.threads[0]?.thread ?? 0));
}

/** Same threads, in the same waits (lock, epoch, start and owner), so nobody moved between. */
export function sameCycle(a: WaitCycle, b: WaitCycle): boolean {
  if (a.threads.length !== b.threads.length) return false;
  const first = a.threads[0];
  if (first === undefined) return true;
  const shift = b.threads.findIndex((t) => t.thread === first.thread);
  if (shift < 0) return false;
  return a.threads.every((x, i) => {
    const y = b.threads[(i + shift) % b.threads.length];
    return (
      y !== undefined &&
      x.thread === y.thread &&
      x.waitingFor !== null &&
      y.waitingFor !== null &&
      x.waitingFor.lockId === y.waitingFor.lockId &&
      x.waitingFor.sinceUs === y.waitingFor.sinceUs &&
      x.waitingFor.epoch === y.waitingFor.epoch &&
      x.waitingFor.owner === y.waitingFor.owner
    );
  });
}

function rotateToSmallest(ring: ThreadWaitState[]): ThreadWaitState[] {
  let at = 0;
  for (let i = 1; i < ring.length; i++) if ((ring[i]?.thread ?? 0) < (ring[at]?.thread ?? 0)) at = i;
  return [...ring.slice(at), ...ring.slice(0, at)];
}
