/**
 * Report text in the Linux kernel's own formats, so that a reader who knows lockdep splats and
 * hung-task dumps can read ours at a glance (kernel-model.md §6.3 is the model for the circular
 * dependency splat). Pure: every name comes in through {@link ReportNames} or the arguments, and
 * the functions return text; printing is the caller's business.
 *
 * Differences from the kernel, on purpose: "thread N" instead of "comm/pid", call sites instead of
 * stack traces, no lock usage bits (`{+.+.}-{3:3}`), and no kernel version line. No ANSI colours.
 */
import { DepBit } from '../layout.js';
import { describeIrqWord, hardirqsEnabled } from '../primitives/irq-state.js';
import type { LockOrderCycle } from './lock-order-graph.js';
import type { ThreadWait, ThreadWaitState, WaitCycle } from './wait-for-graph.js';

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
  /** A completion's name, e.g. `done`. */
  completionName?(completionId: number): string;
  /** Whether a class is a completion's (a DEPT-style wait/event node of the order graph). */
  classIsCompletion?(classId: number): boolean;
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
  const isCompletion = (c: number | undefined): boolean => c !== undefined && names.classIsCompletion?.(c) === true;
  // The type each edge takes in the cycle (EN when unknown): the read side of its two ends.
  const type = (i: number): number => cycle.deps?.[i] ?? DepBit.EN;
  const heldAsReader = (t: number): boolean => (t & (DepBit.SR | DepBit.SN)) !== 0;
  const takenAsRecursiveReader = (t: number): boolean => (t & (DepBit.SR | DepBit.ER)) !== 0;
  const lockCall = (c: number | undefined, read: boolean): string => `${read ? 'rlock' : 'lock'}(${name(c)});`;
  // In lockdep's words: the lock being acquired (target of the closing edge), the lock already
  // held (its source), and the parent: the class the chain reaches just before the held one.
  const acquiring = name(closing.to);
  const holding = name(closing.from);
  const parent = name(classes[n - 2]);

  const out = banner('WARNING: possible circular locking dependency detected');
  if (isCompletion(closing.from)) {
    out.push(
      `thread ${closing.thread} is about to complete:`,
      ` (${holding}) at: ${site(closing.fromSite)}`,
      '',
      'but it has waited for this first:',
      ` (${acquiring}) at: ${site(closing.toSite)}`,
      '',
      'which already depends on the completion.',
    );
  } else {
    out.push(
      `thread ${closing.thread} is trying to ${isCompletion(closing.to) ? 'wait for completion' : 'acquire lock'}:`,
      ` (${acquiring}) at: ${site(closing.toSite)}`,
      '',
      'but task is already holding lock:',
      ` (${holding}) at: ${site(closing.fromSite)}`,
      '',
      'which lock already depends on the new lock.',
    );
  }
  out.push('', 'the existing dependency chain (in reverse order) is:');
  // #k is classes[k], taken at the site of the edge that reached it; #0 is the new lock, taken at
  // the closing edge's site. The kernel prints them from the held lock (#n-1) down to #0.
  for (let k = n - 1; k >= 0; k--) {
    const into = edges[(k + n - 1) % n];
    out.push('', `-> #${k} (${name(classes[k])}):`, `       ${site(into?.toSite ?? '')}`);
  }
  out.push('', 'other info that might help us debug this:', '');
  if (n > 2) out.push('Chain exists of:', `  ${acquiring} --> ${parent} --> ${holding}`, '');
  if (classes.some((c) => isCompletion(c))) {
    // DEPT's way: each dependency is a context that waits for one thing before the next.
    out.push(' Possible unsafe scenario (each context waits for the next one):', '');
    edges.forEach((e, i) => {
      const t = type(i);
      const wait = isCompletion(e.to) ? `wait_for_completion(${name(e.to)});` : lockCall(e.to, takenAsRecursiveReader(t));
      out.push(`  context ${i + 1} (${name(e.from)} -> ${name(e.to)}):`);
      if (isCompletion(e.from)) {
        out.push(`    ${pad(wait, 40)}at: ${site(e.toSite)}`, `    ${pad(`complete(${name(e.from)});`, 40)}at: ${site(e.fromSite)}`);
      } else {
        out.push(`    ${pad(lockCall(e.from, heldAsReader(t)), 40)}at: ${site(e.fromSite)}`, `    ${pad(wait, 40)}at: ${site(e.toSite)}`);
      }
    });
    out.push('', ' *** DEADLOCK ***');
    return out.join('\n');
  }
  const closingType = type(n - 1);
  const parentType = type(n - 2 < 0 ? 0 : n - 2);
  out.push(
    ' Possible unsafe locking scenario:',
    '',
    '       CPU0                    CPU1',
    '       ----                    ----',
    `  ${lockCall(closing.from, heldAsReader(closingType))}`,
    `${kCpu1Indent}${lockCall(classes[n - 2], heldAsReader(parentType))}`,
    `${kCpu1Indent}${lockCall(closing.from, takenAsRecursiveReader(parentType))}`,
    `  ${lockCall(closing.to, takenAsRecursiveReader(closingType))}`,
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

/**
 * The WARNING a failed `lockdep_assert_held()` prints, or, when `nestFor` is given, lockdep's
 * "Nested lock was not taken" (a `*_lock_nest_lock` whose nest lock is not held).
 */
export function formatLockNotHeld(args: { thread: number; lock: LockLabel; site: string; nestFor?: LockLabel | null }): string {
  const { thread, lock, nestFor } = args;
  if (nestFor !== undefined && nestFor !== null) {
    const out = banner('WARNING: Nested lock was not taken');
    out.push(
      `thread ${thread} is trying to lock:`,
      ` ${label(nestFor)}, at: ${site(args.site)}`,
      '',
      'but this task is not holding:',
      ` ${label(lock)}`,
    );
    return out.join('\n');
  }
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
  /** The thread's irq state word (interrupts off, in irq context), 0 if none. */
  irq?: number;
}): string {
  const { thread, lock, spinlock } = args;
  const irq = args.irq ?? 0;
  const out = [
    `BUG: sleeping function called from invalid context at ${site(args.site)}`,
    `in_atomic(): 1, ${irq === 0 ? '' : `irqs_disabled(): ${hardirqsEnabled(irq) ? 0 : 1}, `}thread ${thread}, ${lock === null ? 'in a sleeping operation' : `taking mutex ${label(lock)}`}`,
  ];
  if (irq !== 0) out.push(`irq state: ${describeIrqWord(irq)}`);
  if (spinlock !== null || irq === 0) out.push(`spinlock held by thread ${thread}:`, ` #0: ${spinlock === null ? '?' : label(spinlock)}`);
  return out.join('\n');
}

/**
 * lockdep's "inconsistent lock state" (print_usage_bug): a class is used in an interrupt and
 * with that interrupt enabled. `newUsage`/`prevUsage` are lockdep's usage names (`IN-HARDIRQ-W`).
 */
export function formatInconsistentLockState(args: {
  thread: number;
  lock: LockLabel;
  site: string;
  newUsage: string;
  prevUsage: string;
  prevSite: string;
  /** The thread's irq state word when it took the lock. */
  irq: number;
}): string {
  const { thread, lock } = args;
  const out = banner('WARNING: inconsistent lock state');
  out.push(
    `inconsistent {${args.prevUsage}} -> {${args.newUsage}} usage.`,
    `thread ${thread} [${describeIrqWord(args.irq)}] takes:`,
    ` ${label(lock)}, at: ${site(args.site)}`,
    `{${args.prevUsage}} state was registered at:`,
    `  ${site(args.prevSite)}`,
    '',
    'other info that might help us debug this:',
    ' Possible unsafe locking scenario:',
    '',
    '       CPU0',
    '       ----',
    `  lock(${lock.class});`,
    '  <Interrupt>',
    `    lock(${lock.class});`,
    '',
    ' *** DEADLOCK ***',
  );
  return out.join('\n');
}

/** The evidence of an irq lock inversion, as reports print it. */
export interface IrqInversionReport {
  /** `HARDIRQ` or `SOFTIRQ`. */
  state: string;
  /** What closed it: the new dependency, or the usage of the safe or the unsafe class. */
  closedBy: 'dependency' | 'safe' | 'unsafe';
  /** The thread of the last event. */
  thread: number;
  safe: { class: string; usage: string; site: string };
  unsafe: { class: string; usage: string; site: string };
  /** The dependency path safe -> ... -> unsafe: each class and where it was taken on the way. */
  chain: Array<{ class: string; site: string }>;
  /** The newest edge of the path (the new dependency, when closedBy is `dependency`). */
  dependency: { from: string; to: string; fromSite: string; toSite: string };
}

/**
 * lockdep's two splats for an irq-safe lock that depends on an irq-unsafe one: "X-safe -> X-unsafe
 * lock order detected" (print_bad_irq_dependency) when a new dependency closed it, and "possible irq
 * lock inversion dependency detected" (print_irq_inversion_bug) when a usage did.
 */
export function formatIrqLockInversion(r: IrqInversionReport): string {
  const { state, safe, unsafe, dependency } = r;
  const out: string[] = [];
  let middle: string;
  if (r.closedBy === 'dependency') {
    out.push(...banner(`WARNING: ${state}-safe -> ${state}-unsafe lock order detected`));
    out.push(
      `thread ${r.thread} is trying to acquire:`,
      ` (${dependency.to}) at: ${site(dependency.toSite)}`,
      '',
      'and this task is already holding:',
      ` (${dependency.from}) at: ${site(dependency.fromSite)}`,
      'which would create a new lock dependency:',
      ` (${dependency.from}) -> (${dependency.to})`,
      '',
      `but this new dependency connects a ${state}-irq-safe lock:`,
      ` (${safe.class}){${safe.usage}}`,
      '',
      `... which became ${state}-irq-safe at:`,
      `  ${site(safe.site)}`,
      '',
      `to a ${state}-irq-unsafe lock:`,
      ` (${unsafe.class}){${unsafe.usage}}`,
      '',
      `... which became ${state}-irq-unsafe at:`,
      '...',
      `  ${site(unsafe.site)}`,
    );
    middle = dependency.from === safe.class ? dependency.to : dependency.from;
  } else {
    const forwards = r.closedBy === 'safe';
    const self = forwards ? safe : unsafe;
    const other = forwards ? unsafe : safe;
    out.push(...banner('WARNING: possible irq lock inversion dependency detected'));
    out.push(
      `thread ${r.thread} just changed the state of lock:`,
      ` (${self.class}){${self.usage}}, at: ${site(self.site)}`,
      forwards
        ? `but this lock took another, ${state}-unsafe lock in the past:`
        : `but this lock was taken by another, ${state}-safe lock in the past:`,
      ` (${other.class}){${other.usage}}`,
      '',
      'and interrupts could create inverse lock ordering between them.',
    );
    // The class next to the one whose state changed, on the path between them.
    middle = forwards ? (r.chain[1]?.class ?? unsafe.class) : (r.chain[r.chain.length - 2]?.class ?? safe.class);
    if (middle === safe.class) middle = unsafe.class;
  }
  out.push('', 'other info that might help us debug this:', '');
  if (middle !== unsafe.class) out.push('Chain exists of:', `  ${safe.class} --> ${middle} --> ${unsafe.class}`, '');
  out.push(
    ' Possible interrupt unsafe locking scenario:',
    '',
    '       CPU0                    CPU1',
    '       ----                    ----',
    `  lock(${unsafe.class});`,
    `${kCpu1Indent}local_irq_disable();`,
    `${kCpu1Indent}lock(${safe.class});`,
    `${kCpu1Indent}lock(${middle});`,
    '  <Interrupt>',
    `    lock(${safe.class});`,
    '',
    ' *** DEADLOCK ***',
    '',
    r.closedBy === 'dependency' ? 'the dependencies between the lock to be acquired and the irq-safe lock:' : 'the shortest dependencies between 2nd lock and 1st lock:',
  );
  r.chain.forEach((c, i) => out.push(`${' '.repeat(i * 2)} -> (${c.class}) at: ${site(c.site)}`));
  return out.join('\n');
}

/**
 * lockdep's "lock held when returning to user space!": the operation (our unit of a system call)
 * returned with a lock still held. One report per lock: entry `index` of the `count` held.
 */
export function formatHeldAtReturn(args: { thread: number; op: string; lock: LockLabel; site: string; index: number; count: number }): string {
  const task = `thread-${args.thread}/${args.op || 'idle'}`;
  const out = banner('WARNING: lock held when returning to user space!');
  out.push(
    `${task} is leaving the operation with locks still held!`,
    `${args.count} lock${args.count === 1 ? '' : 's'} held by ${task}:`,
    ` #${args.index}: ${label(args.lock)}, at: ${site(args.site)}`,
  );
  return out.join('\n');
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
  const owners = (w: ThreadWait): string => {
    const all = w.owners ?? (w.owner >= 0 ? [w.owner] : []);
    return all.length === 0 ? 'nobody' : all.map(owner).join(', ');
  };
  const waited = (w: ThreadWait): string =>
    w.kind === 'completion' ? `completion (${names.completionName?.(w.lockId) ?? `completion#${w.lockId}`})` : `(${names.lockName(w.lockId)})${w.read === true ? ' for read' : ''}`;
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
      out.push(`  waiting for ${waited(w)} at: ${site(w.site)}, ${w.kind === 'completion' ? 'to be completed by' : 'held by'} ${owners(w)}`);
    }
  }
  if (cycle !== null && cycle.threads.length > 0) {
    const hops = cycle.threads.map((s) => {
      const w = s.waitingFor;
      if (w === null) return `thread-${s.thread}`;
      if (w.kind === 'completion') {
        return `thread-${s.thread} -> completion ${names.completionName?.(w.lockId) ?? w.lockId} (to be completed by ${owners(w)})`;
      }
      return `thread-${s.thread} -> ${names.lockName(w.lockId)} (held by ${owner(w.owner)})`;
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

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}
