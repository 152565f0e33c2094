/**
 * Report text in the Linux kernel's own formats, so that a reader who knows lockdep splats and
 * hung-task dumps can read ours at a glance (kernel-model.md §6.3 is the model for the circular
 * dependency splat). Pure: every name comes in through {@link ReportNames} or the arguments, and
 * the functions return text; printing is the caller's business.
 *
 * Differences from the kernel, on purpose: "thread N" instead of "comm/pid", call sites instead of
 * stack traces, no lock usage bits (`{+.+.}-{3:3}`), and no kernel version line. No ANSI colours.
 */
import type { LockOrderCycle } from './lock-order-graph.js';
import type { ThreadWaitState, WaitCycle } from './wait-for-graph.js';

/** Resolves ids to names (lock-table.ts has the shared-memory versions). */
export interface ReportNames {
  /** Class name, e.g. `group_lock`. */
  className(classId: number): string;
  /** Instance name, e.g. `group_lock#0`. */
  lockName(lockId: number): string;
  /** Class id of a lock instance. */
  lockClass(lockId: number): number;
  /** Operation name, e.g. `kvm_vfio_release`. */
  opName(op: number): string;
}

/** A lock as the misuse reports name it: instance and class. */
export interface LockLabel {
  /** Instance name, e.g. `kvm->lock#0`. */
  lock: string;
  /** Class name, e.g. `kvm->lock`. */
  class: string;
}

/** Where a column of the unsafe-scenario table starts (as in lockdep's print_circular_lock_scenario). */
const kCpu1Indent = ' '.repeat(31);

/** lockdep's "possible circular locking dependency detected" splat for a lock-order cycle. */
export function formatCircularDependency(cycle: LockOrderCycle, names: ReportNames): string {
  const { classes, edges, closing } = cycle;
  const n = classes.length;
  const name = (c: number | undefined): string => (c === undefined ? '?' : names.className(c));
  // In lockdep's words: the lock being acquired (target of the closing edge), the lock already
  // held (its source), and the parent: the class the chain reaches just before the held one.
  const acquiring = name(closing.to);
  const holding = name(closing.from);
  const parent = name(classes[n - 2]);

  const out = banner('WARNING: possible circular locking dependency detected');
  out.push(
    `thread ${closing.thread} is trying to acquire lock:`,
    ` (${acquiring}) at: ${site(closing.toSite)}`,
    '',
    'but task is already holding lock:',
    ` (${holding}) at: ${site(closing.fromSite)}`,
    '',
    'which lock already depends on the new lock.',
    '',
    'the existing dependency chain (in reverse order) is:',
  );
  // #k is classes[k], taken at the site of the edge that reached it; #0 is the new lock, taken at
  // the closing edge's site. The kernel prints them from the held lock (#n-1) down to #0.
  for (let k = n - 1; k >= 0; k--) {
    const into = edges[(k + n - 1) % n];
    out.push('', `-> #${k} (${name(classes[k])}):`, `       ${site(into?.toSite ?? '')}`);
  }
  out.push('', 'other info that might help us debug this:', '');
  if (n > 2) out.push('Chain exists of:', `  ${acquiring} --> ${parent} --> ${holding}`, '');
  out.push(
    ' Possible unsafe locking scenario:',
    '',
    '       CPU0                    CPU1',
    '       ----                    ----',
    `  lock(${holding});`,
    `${kCpu1Indent}lock(${parent});`,
    `${kCpu1Indent}lock(${holding});`,
    `  lock(${acquiring});`,
    '',
    ' *** DEADLOCK ***',
  );
  return out.join('\n');
}

/** lockdep's "possible recursive locking detected": a class taken while one of its locks is held. */
export function formatRecursiveLocking(args: {
  thread: number;
  lock: LockLabel;
  site: string;
  held: LockLabel;
  heldSite: string;
}): string {
  const { thread, lock, held } = args;
  const out = banner('WARNING: possible recursive locking detected');
  out.push(
    `thread ${thread} is trying to acquire lock:`,
    ` ${label(lock)}, at: ${site(args.site)}`,
    '',
    'but task is already holding lock:',
    ` ${label(held)}, at: ${site(args.heldSite)}`,
    '',
    'other info that might help us debug this:',
    ' Possible unsafe locking scenario:',
    '',
    '       CPU0',
    '       ----',
    `  lock(${held.class});`,
    `  lock(${lock.class});`,
    '',
    ' *** DEADLOCK ***',
  );
  // Two instances of one class may be legal nesting that lockdep cannot tell apart.
  if (lock.lock !== held.lock) out.push('', ' May be due to missing lock nesting notation');
  return out.join('\n');
}

/** lockdep's "bad unlock balance detected!": an unlock of a lock this thread does not hold. */
export function formatBadUnlock(args: { thread: number; lock: LockLabel; site: string; ownerThread: number }): string {
  const { thread, lock, ownerThread } = args;
  const out = banner('WARNING: bad unlock balance detected!');
  out.push(
    `thread ${thread} is trying to release lock (${lock.lock}) at:`,
    site(args.site),
    ownerThread < 0 ? 'but there are no more locks to release!' : `but it is held by thread ${ownerThread}!`,
  );
  return out.join('\n');
}

/** The WARNING a failed `lockdep_assert_held()` prints. */
export function formatLockNotHeld(args: { thread: number; lock: LockLabel; site: string }): string {
  const { thread, lock } = args;
  return [
    '------------[ cut here ]------------',
    `WARNING: thread ${thread} at ${site(args.site)}: lockdep_assert_held(${lock.class})`,
    `${label(lock)} is not held by thread ${thread}`,
  ].join('\n');
}

/**
 * "BUG: sleeping function called from invalid context": a mutex (`lock`) or another sleeping
 * operation (`lock` null, named by its site) under a spinlock.
 */
export function formatSleepInAtomic(args: {
  thread: number;
  lock: LockLabel | null;
  site: string;
  spinlock: LockLabel | null;
}): string {
  const { thread, lock, spinlock } = args;
  return [
    `BUG: sleeping function called from invalid context at ${site(args.site)}`,
    `in_atomic(): 1, thread ${thread}, ${lock === null ? 'in a sleeping operation' : `taking mutex ${label(lock)}`}`,
    `spinlock held by thread ${thread}:`,
    ` #0: ${spinlock === null ? '?' : label(spinlock)}`,
  ].join('\n');
}

/**
 * The deadlock or stuck dump: the hung-task lines for every blocked thread, every thread's held
 * locks and wait (debug_show_all_locks), then the wait-for cycle if there is one.
 */
export function formatHungTasks(
  cycle: WaitCycle | null,
  states: readonly ThreadWaitState[],
  names: ReportNames,
  /** Now, to say how long each wait has lasted; null leaves waits untimed (controlled schedules). */
  nowUs: number | null,
): string {
  const task = (s: ThreadWaitState, sep: string): string =>
    `thread-${s.thread}${sep}${s.op === -1 ? 'idle' : names.opName(s.op)}`;
  const instance = (lockId: number): string => `(${names.lockName(lockId)}){${names.className(names.lockClass(lockId))}}`;
  const owner = (o: number): string => (o < 0 ? 'nobody' : `thread-${o}`);
  const out: string[] = [];

  for (const s of states) {
    if (s.waitingFor === null) continue;
    if (nowUs === null) {
      out.push(`INFO: task ${task(s, ':')} blocked (no thread can run under the controlled schedule).`);
      continue;
    }
    const ms = Math.max(0, Math.floor((nowUs - s.waitingFor.sinceUs) / 1000));
    out.push(`INFO: task ${task(s, ':')} blocked for more than ${ms} ms.`);
  }
  out.push('', 'Showing all locks held in the system:');
  for (const s of states) {
    if (s.held.length === 0 && s.waitingFor === null) continue;
    const count = s.held.length;
    out.push(`${count} lock${count === 1 ? '' : 's'} held by ${task(s, '/')}:`);
    s.held.forEach((h, i) => out.push(` #${i}: ${instance(h.lockId)}, at: ${site(h.site)}`));
    const w = s.waitingFor;
    if (w !== null) {
      out.push(`  waiting for (${names.lockName(w.lockId)}) at: ${site(w.site)}, held by ${owner(w.owner)}`);
    }
  }
  if (cycle !== null && cycle.threads.length > 0) {
    const hops = cycle.threads.map((s) => {
      const w = s.waitingFor;
      return w === null ? `thread-${s.thread}` : `thread-${s.thread} -> ${names.lockName(w.lockId)} (held by ${owner(w.owner)})`;
    });
    out.push('', `Wait-for cycle: ${hops.join(' -> ')} -> thread-${cycle.threads[0]?.thread ?? '?'}`);
  }
  return out.join('\n');
}

function banner(title: string): string[] {
  return ['='.repeat(title.length), title, '-'.repeat(title.length)];
}

function label(lock: LockLabel): string {
  return `(${lock.lock}){${lock.class}}`;
}

function site(text: string): string {
  return text === '' ? '?' : text;
}
