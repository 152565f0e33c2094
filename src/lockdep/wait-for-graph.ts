/**
 * The wait-for graph: the watchdog's pure logic.
 *
 * A blocked worker cannot answer a message, so the main thread reads what each thread holds and
 * what it waits for straight out of the per-thread records the LockTracker keeps in shared memory
 * (readWaitStates), then looks for threads that can never move again (findWaitCycles).
 *
 * Who a waiting thread waits for (its `owners`):
 * - a lock taken exclusively: its writer (from the lock's words, through the kind registry) and
 *   every thread holding it for read (from their held stacks). The thread needs all of them gone
 *   (AND).
 * - a lock taken for read: its writer, and, for a lock whose readers queue behind waiting writers
 *   (rwsem; a queued rwlock outside interrupts), every thread waiting to write it (AND).
 * - a completion: every other thread still running an operation, any of which might complete it
 *   (OR). A thread between rounds or done with its operations completes nothing.
 * So the graph is an AND-OR graph (Knapp, "Deadlock detection in distributed databases", 1987):
 * a set D of waiting threads is deadlocked when every lock waiter in D waits for some thread of D
 * and every completion waiter in D has all its possible completers in D. findWaitCycles computes the
 * largest such set by removing threads until none can be removed, then reports, per group, one
 * cycle through it (the ring the report prints) and all of its members. With locks only, this is
 * exactly "a cycle in the wait-for graph"; a lock with several owners (readers) is a node of
 * out-degree > 1, so any one blocked reader closes the cycle.
 *
 * A snapshot is not atomic: a thread may move between two reads. Per thread, readWaitStates reads
 * (waiting lock, wait epoch), then the held stack, then (waiting lock, wait epoch) again; the held
 * stack only changes while its thread is not waiting (lock-tracker.ts, `acquired`), so when both
 * reads agree the stack read belongs to that wait, and when they differ the thread is moving and
 * counts as not waiting. Across threads, the watchdog reports a deadlock only once two snapshots a
 * few ms apart show the same one with the same wait epochs (sameCycle): every thread in it stayed in
 * one wait for the whole interval, and a thread that waits holds its locks still. A deadlock with a
 * completion also needs every other thread's operation (and its epoch) unchanged, since those
 * decide who could still complete it.
 *
 * Kernel analogue: the hung-task detector (khungtaskd) plus debug_show_all_locks(); the kernel has
 * no wait-for cycle check, but lockdep's splat tells the same story ahead of time.
 */
import {
  type SharedMemory,
  HeldFlag,
  IrqWord,
  WaitKind,
  heldBase,
  kHeldClass,
  kHeldFlagsShift,
  kHeldLock,
  kHeldSinceUs,
  kHeldSite,
  kMaxHeldLocks,
  kThreadCurrentOp,
  kThreadDepth,
  kThreadIrq,
  kThreadOpEpoch,
  kThreadWaitEpoch,
  kThreadWaitingKind,
  kThreadWaitingLock,
  kThreadWaitingSinceUs,
  kThreadWaitingSite,
  threadBase,
} from '../layout.js';
import { lockKindByCode } from '../primitives/lock-kinds.js';
import { lockKindOf, lockOwnerOf } from '../primitives/lock-table.js';
import type { StringTable } from '../primitives/string-table.js';

/** What one thread waits for. */
export interface ThreadWait {
  /** A lock (default) or a completion; `lockId` is then the completion's id. */
  kind?: 'lock' | 'completion';
  lockId: number;
  /** Waiting to take the lock for read. */
  read?: boolean;
  site: string;
  sinceUs: number;
  /**
   * The thread it waits for: the lock's owner (writer), or in a reported cycle the next thread of
   * the cycle; -1 when nobody.
   */
  owner: number;
  /** Every thread it waits for (see the file comment); default [owner] without -1. */
  owners?: number[];
  epoch: number;
}

/** What one thread held and waited for at the moment of a snapshot. */
export interface ThreadWaitState {
  thread: number;
  /** Held stack, oldest first. */
  held: Array<{ lockId: number; site: string; sinceUs: number; read?: boolean }>;
  /** The lock or completion it is blocked on, or null. */
  waitingFor: ThreadWait | null;
  /** Operation index it is running, or -1 between operations (other negatives: other steps). */
  op: number;
  /** kThreadOpEpoch: which run of `op` (default 0). */
  opEpoch?: number;
  /** The thread's irq state word (default 0). */
  irq?: number;
}

/** Threads that can never move again: one ring through them, and all of them. */
export interface WaitCycle {
  /**
   * In cycle order: threads[i] waits for threads[i + 1] (wrapping; each one's `waitingFor.owner`
   * is the next), starting at the smallest thread index. A thread waiting on a lock it holds itself
   * is a cycle of length 1.
   */
  threads: ThreadWaitState[];
  /** Every deadlocked thread of this group (the ring's and those stuck behind it), ascending. */
  members?: number[];
  /** What two snapshots must share for the deadlock to be confirmed (see sameCycle). */
  signature?: string;
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
    const kind = Atomics.load(i32, base + kThreadWaitingKind);
    const depth = Math.min(Math.max(Atomics.load(i32, base + kThreadDepth), 0), kMaxHeldLocks);
    const held: ThreadWaitState['held'] = [];
    for (let d = 0; d < depth; d++) {
      const entry = heldBase(layout, thread, d);
      held.push({
        lockId: Atomics.load(i32, entry + kHeldLock),
        site: strings.lookup(Atomics.load(i32, entry + kHeldSite)),
        sinceUs: Atomics.load(i32, entry + kHeldSinceUs),
        read: ((Atomics.load(i32, entry + kHeldClass) >>> kHeldFlagsShift) & HeldFlag.ReadMask) !== 0,
      });
    }
    // Same wait before and after the held stack was read, or the thread is moving: not waiting.
    const steady =
      Atomics.load(i32, base + kThreadWaitingLock) - 1 === waitingLock && Atomics.load(i32, base + kThreadWaitEpoch) === epoch;
    const waiting = waitingLock >= 0 && steady;
    states.push({
      thread,
      held,
      waitingFor: !waiting
        ? null
        : {
            kind: kind === WaitKind.Completion ? 'completion' : 'lock',
            lockId: waitingLock,
            read: kind === WaitKind.Read,
            site: strings.lookup(Atomics.load(i32, base + kThreadWaitingSite)),
            sinceUs: Atomics.load(i32, base + kThreadWaitingSinceUs),
            owner: -1,
            owners: [],
            epoch,
          },
      op: Atomics.load(i32, base + kThreadCurrentOp) - 1,
      opEpoch: Atomics.load(i32, base + kThreadOpEpoch),
      irq: Atomics.load(i32, base + kThreadIrq) & IrqWord.IrqMask,
    });
  }
  for (const s of states) {
    const w = s.waitingFor;
    if (w === null) continue;
    if (w.kind === 'completion') {
      w.owners = completersOf(s, states);
      continue;
    }
    w.owners = lockBlockers(memory, s, w, states);
    // The writer, else the first reader or queued writer.
    const writer = lockOwnerOf(memory, w.lockId);
    w.owner = writer >= 0 ? writer : (w.owners[0] ?? -1);
  }
  return states;
}

/** Who a lock waiter waits for: the writer, the readers, and (queued readers) the waiting writers. */
function lockBlockers(memory: SharedMemory, s: ThreadWaitState, w: ThreadWait, states: readonly ThreadWaitState[]): number[] {
  const out = new Set<number>();
  const writer = lockOwnerOf(memory, w.lockId);
  if (writer >= 0) out.add(writer);
  if (w.read !== true) {
    for (const t of states) if (t.held.some((h) => h.lockId === w.lockId && h.read === true)) out.add(t.thread);
  } else if (lockKindByCode(lockKindOf(memory, w.lockId))?.readersQueue(memory, w.lockId, s.irq ?? 0) === true) {
    for (const t of states) {
      const tw = t.waitingFor;
      if (t.thread !== s.thread && tw !== null && tw.kind !== 'completion' && tw.lockId === w.lockId && tw.read !== true) out.add(t.thread);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** Who might complete a completion: every other thread inside an operation. */
function completersOf(s: ThreadWaitState, states: readonly ThreadWaitState[]): number[] {
  return states.filter((t) => t.thread !== s.thread && t.op >= 0).map((t) => t.thread);
}

/** The threads `s` waits for, as the deadlock search sees them. */
function successors(s: ThreadWaitState): number[] {
  const w = s.waitingFor;
  if (w === null) return [];
  const owners = w.owners ?? (w.owner >= 0 ? [w.owner] : []);
  // A thread that has just won the lock shows as its owner while its waiting word is still set
  // (between the CAS and `acquired`). A real self-deadlock has the lock in its held stack too.
  if (w.kind !== 'completion' && !s.held.some((h) => h.lockId === w.lockId)) return owners.filter((o) => o !== s.thread);
  return owners;
}

/**
 * Every group of deadlocked threads in a snapshot (see the file comment), each with one ring
 * through it, ordered by their smallest thread index.
 */
export function findWaitCycles(states: readonly ThreadWaitState[]): WaitCycle[] {
  const byThread = new Map<number, ThreadWaitState>();
  for (const s of states) byThread.set(s.thread, s);
  const succ = new Map<number, number[]>();
  const dead = new Set<number>();
  for (const s of states) {
    if (s.waitingFor === null) continue;
    succ.set(s.thread, successors(s).filter((t) => byThread.has(t)));
    dead.add(s.thread);
  }
  // Remove threads that can still move, until none can be removed.
  for (let changed = true; changed; ) {
    changed = false;
    for (const t of [...dead]) {
      const next = succ.get(t) ?? [];
      const orWait = byThread.get(t)?.waitingFor?.kind === 'completion';
      const stuck = orWait ? next.length > 0 && next.every((u) => dead.has(u)) : next.some((u) => dead.has(u));
      if (!stuck) {
        dead.delete(t);
        changed = true;
      }
    }
  }
  const cycles: WaitCycle[] = [];
  const covered = new Set<number>();
  for (const start of [...dead].sort((a, b) => a - b)) {
    if (covered.has(start)) continue;
    // Walk to the smallest deadlocked successor until a thread repeats: the tail is a ring.
    const walk: number[] = [];
    const at = new Map<number, number>();
    let t = start;
    while (!at.has(t)) {
      at.set(t, walk.length);
      walk.push(t);
      t = Math.min(...(succ.get(t) ?? []).filter((u) => dead.has(u)));
    }
    const ring = walk.slice(at.get(t));
    const group = reachable(ring, succ, dead);
    for (const member of group) covered.add(member);
    for (const member of walk) covered.add(member);
    const rotated = rotateToSmallest(ring);
    const threads = rotated.map((thread, i) => {
      const s = byThread.get(thread) as ThreadWaitState;
      const w = s.waitingFor as ThreadWait;
      return { ...s, waitingFor: { ...w, owner: rotated[(i + 1) % rotated.length] ?? -1 } };
    });
    const members = [...group].sort((a, b) => a - b);
    cycles.push({ threads, members, signature: signatureOf(members, byThread, states) });
  }
  return cycles.sort((a, b) => (a.threads[0]?.thread ?? 0) - (b.threads[0]?.thread ?? 0));
}

/** The deadlocked threads that wait, directly or not, on the ring (and the ring). */
function reachable(ring: number[], succ: Map<number, number[]>, dead: Set<number>): Set<number> {
  const group = new Set(ring);
  for (let grew = true; grew; ) {
    grew = false;
    for (const t of dead) {
      if (group.has(t)) continue;
      if ((succ.get(t) ?? []).some((u) => group.has(u))) {
        group.add(t);
        grew = true;
      }
    }
  }
  return group;
}

/**
 * Members' waits (object, epoch, start, who they wait for); with a completion, every thread's
 * operation and its epoch too (they decide who could complete it).
 */
function signatureOf(members: number[], byThread: Map<number, ThreadWaitState>, states: readonly ThreadWaitState[]): string {
  let completion = false;
  const parts = members.map((t) => {
    const w = byThread.get(t)?.waitingFor;
    if (w?.kind === 'completion') completion = true;
    return `${t}:${w?.kind ?? 'lock'}:${w?.lockId}:${w?.read === true ? 'r' : 'w'}:${w?.sinceUs}:${w?.epoch}:${(w?.owners ?? [w?.owner]).join('/')}`;
  });
  if (completion) for (const s of states) parts.push(`op${s.thread}:${s.op}:${s.opEpoch ?? 0}`);
  return parts.join(',');
}

/** Same threads, in the same waits (object, epoch, start and owners), so nobody moved between. */
export function sameCycle(a: WaitCycle, b: WaitCycle): boolean {
  if (a.signature !== undefined && b.signature !== undefined) return a.signature === b.signature;
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

function rotateToSmallest(ring: number[]): number[] {
  let at = 0;
  for (let i = 1; i < ring.length; i++) if ((ring[i] ?? 0) < (ring[at] ?? 0)) at = i;
  return [...ring.slice(at), ...ring.slice(0, at)];
}
