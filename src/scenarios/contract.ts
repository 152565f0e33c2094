/**
 * The scenario contract: what a protocol under test declares so lockstress can run it on threads.
 * The built-in vfio/kvm scenario and user scenarios (`--scenario ./my-scenario.js`) use the same one.
 *
 * A scenario module's default export is a {@link Scenario} (wrap it in {@link defineScenario} for
 * checking). The module is loaded by the main thread and by every worker, so it must be plain
 * importable JavaScript with no side effects beyond building the object.
 *
 * A round goes: the world is zeroed; thread 0 runs `setup`; all threads meet; each runs its
 * planned operations; all meet again; thread 0 runs `finish` (close whatever is still open), checks
 * `invariants` and sweeps refcounts for leaks. Under a stride (`--stride`, default 8) one meeting
 * covers several rounds, each in its own copy of the declared objects: thread 0 runs all their
 * setups first and all their finishes last, so a round's state belongs in the declared objects
 * (locks, words, refcounts, slots), not in module variables.
 */
import { type FindingKind, isFindingKind, kFindingKinds } from '../finding-kinds.js';

/** How a lock behaves: `mutex` sleeps (FutexMutex); the spinlocks never sleep. */
export type { LockKindName } from '../primitives/lock-kinds.js';
import type { LockKindName } from '../primitives/lock-kinds.js';

export interface LockDeclaration {
  /**
   * The lock class lockdep reasons about, e.g. `group_lock`. Several instances may share one (the
   * kernel's one class per init site): taking two of them nested is `recursive-lock` unless the
   * second is taken with `lockNested` or `lockNestLock`.
   */
  class: string;
  /** Default `mutex`. `rwsem` and `rwlock` have a read side (`readLock` ...). */
  kind?: LockKindName;
  /**
   * lockdep_set_class_and_name(lock, key, class): a class of this lock's own. Locks with the same
   * `class` and different keys are different classes (reports print the second as `class#2`, as
   * lockdep's name_version does); without a key, every lock of one `class` shares it.
   */
  key?: string;
  /**
   * `rwlock` only: a queued rwlock (CONFIG_QUEUED_RWLOCKS, x86's rwlock_t). Readers outside
   * interrupt context then wait behind a waiting writer, and lockdep treats their read_lock as a
   * non-recursive reader. Default false: readers never wait for writers that merely wait, and
   * read_lock is a recursive reader (the kernel's read_lock semantics for lockdep).
   */
  queued?: boolean;
}

/** A `struct completion`. Its class (a node of the lock-order graph) is `class`, default its name. */
export interface CompletionDeclaration {
  class?: string;
}

export interface RefcountDeclaration {
  /**
   * Checked at the end of each round: a count other than 0 is a `refcount-leak` naming the holders
   * still holding references and where each took its last one. Default true.
   */
  mustEndAtZero?: boolean;
}

/** The shared objects a scenario uses. Keys are the names ops use (`ctx.locks['kvm->lock']`). */
export interface SharedObjects {
  locks?: Record<string, LockDeclaration>;
  refcounts?: Record<string, RefcountDeclaration>;
  /** Plain shared Int32 words (pointers, counters, flags). All start at 0 each round. */
  words?: readonly string[];
  /** Named object slots for pointers with use-after-free detection (`ctx.objects`). */
  slots?: readonly string[];
  /** Completions (`ctx.completions`): wait_for_completion / complete. Not completed at each round start. */
  completions?: Record<string, CompletionDeclaration>;
}

/**
 * A lock as scenario code sees it. `site` names the code location, as in a lockdep report. The
 * plain methods take the exclusive side: mutex_lock, spin_lock, down_write, write_lock.
 *
 * Misuse that the kernel would not compile or that makes no sense is a mistake in scenario code
 * (a ScenarioError naming it): the read side of a mutex, `lockIrq` on a sleeping lock, a subclass
 * outside 0..7, a nest lock that is not a lock of this scenario.
 */
export interface Lock {
  lock(site: string): void;
  unlock(site: string): void;
  tryLock(site: string): boolean;
  /** lockdep_assert_held (either side of a reader-writer lock). */
  assertHeld(site: string): void;

  /**
   * mutex_lock_nested(lock, subclass) (also spin_lock_nested, down_write_nested): lockdep uses
   * subclass `subclass` (1..7, lockdep's SINGLE_DEPTH_NESTING is 1) of the lock's class, a class
   * of its own named `class/subclass`, so a second lock of one class can be taken nested.
   */
  lockNested(site: string, subclass: number): void;
  /**
   * mutex_lock_nest_lock(lock, nest) (also spin_lock_nest_lock, down_write_nest_lock): `nest`,
   * which must be held, serializes every nested acquisition of this lock's class, so taking any
   * number of its locks in any order is not a recursive-lock (and adds no order edge between them).
   * Not holding `nest` is `lock-not-held` ("Nested lock was not taken").
   */
  lockNestLock(site: string, nest: Lock): void;

  /** spin_lock_irq: local_irq_disable, then lock. Spinning kinds only (spinlock, rwlock's write side). */
  lockIrq(site: string): void;
  /** spin_unlock_irq: unlock, then local_irq_enable. */
  unlockIrq(site: string): void;
  /** spin_lock_irqsave: returns the flags for unlockIrqrestore. */
  lockIrqsave(site: string): number;
  /** spin_unlock_irqrestore. */
  unlockIrqrestore(site: string, flags: number): void;
  /** spin_lock_bh: local_bh_disable, then lock. */
  lockBh(site: string): void;
  /** spin_unlock_bh. */
  unlockBh(site: string): void;

  /** down_read / read_lock (rwsem and rwlock only). */
  readLock(site: string): void;
  /** up_read / read_unlock. */
  readUnlock(site: string): void;
  /** down_read_trylock / read_trylock. */
  readTryLock(site: string): boolean;
  /** down_read_nested(lock, subclass). */
  readLockNested(site: string, subclass: number): void;
  /** read_lock_irq / read_unlock_irq (rwlock only). */
  readLockIrq(site: string): void;
  readUnlockIrq(site: string): void;
  /** read_lock_irqsave / read_unlock_irqrestore (rwlock only). */
  readLockIrqsave(site: string): number;
  readUnlockIrqrestore(site: string, flags: number): void;
  /** read_lock_bh / read_unlock_bh (rwlock only). */
  readLockBh(site: string): void;
  readUnlockBh(site: string): void;
}

/**
 * A `struct completion` as scenario code sees it. Its waits are bounded like every wait in
 * lockstress, publish the waiter in the wait-for graph, and teach the lock-order graph the
 * dependencies of README "Completions".
 */
export interface Completion {
  /** wait_for_completion: sleeps until completed, then consumes one completion. */
  waitForCompletion(site: string): void;
  /** try_wait_for_completion: consumes one if there is one, never sleeps. */
  tryWaitForCompletion(site: string): boolean;
  /** complete: one waiter (now or later) may go. */
  complete(site: string): void;
  /** complete_all: every waiter, now and until reinit, goes. */
  completeAll(site: string): void;
  /** completion_done. */
  completionDone(): boolean;
  /** reinit_completion (with nobody waiting). */
  reinit(): void;
}

/** The simulated CPU interrupt state of the thread (see primitives/irq-state.ts). */
export interface Irq {
  /** local_irq_disable. */
  disable(): void;
  /** local_irq_enable. */
  enable(site?: string): void;
  /** local_irq_save: disables and returns the flags for `restore`. */
  save(): number;
  /** local_irq_restore. */
  restore(flags: number, site?: string): void;
  /** local_bh_disable. */
  bhDisable(): void;
  /** local_bh_enable. */
  bhEnable(site?: string): void;
}

/** Where `ctx.inIrq` runs its function: a hardirq handler or a softirq (bottom half). */
export type IrqContext = 'hardirq' | 'softirq';

/** A refcount_t as scenario code sees it. `holder` says who owns the reference (for leak reports). */
export interface Ref {
  read(): number;
  /** Sets the count (with `holder` holding all of it). Only in `setup`. */
  reset(count: number, holder: string, site: string): void;
  /** refcount_inc / kvm_get_kvm: reports `inc-on-zero`. */
  inc(holder: string, site: string): void;
  /** refcount_inc_not_zero / kvm_get_kvm_safe. */
  incNotZero(holder: string, site: string): boolean;
  /** refcount_dec_and_test / kvm_put_kvm: true when it reached 0; reports `refcount-underflow`. */
  decAndTest(holder: string, site: string): boolean;
}

/** A plain shared word. Reads and writes are sequentially consistent (Atomics). */
export interface SharedWord {
  get(): number;
  set(value: number): void;
  /** Compare-and-swap; returns the value seen. */
  cas(expected: number, value: number): number;
  /** Adds and returns the previous value. */
  add(delta: number): number;
  /**
   * Waits until the word equals `value`, for at most `timeoutMs`; true if it did. For handshakes
   * that force an interleaving. Leaves with RoundAborted when the round is torn down.
   */
  waitFor(value: number, timeoutMs: number): boolean;
}

/** The slab: pointers are (slot, generation); access after free is a `use-after-free` finding. */
export interface Objects {
  /** Allocates the slot's next generation and returns its pointer (never 0). */
  create(slot: string, type: string, site: string): number;
  /** Returns false, and logs `use-after-free`, if `pointer` was freed. 0 (NULL) passes. */
  access(pointer: number, site: string): boolean;
  /** kfree. Freeing twice is logged as `use-after-free`. */
  free(pointer: number, site: string): void;
  isLive(pointer: number): boolean;
}

/** What an operation gets. One per thread; valid for the whole run. */
export interface OpContext {
  /** This thread's index, 0-based. */
  readonly thread: number;
  /** The current round (from 1). */
  readonly round: number;
  /** The variant being run. */
  readonly variant: string;
  readonly locks: Readonly<Record<string, Lock>>;
  readonly refs: Readonly<Record<string, Ref>>;
  readonly words: Readonly<Record<string, SharedWord>>;
  readonly objects: Objects;
  readonly completions: Readonly<Record<string, Completion>>;
  /** This thread's interrupt state: local_irq_disable / local_bh_disable and friends. */
  readonly irq: Irq;
  /**
   * Runs `fn` as an interrupt handler of this thread's CPU: `hardirq` (HARDIRQ_ENTER: interrupts
   * off, in hardirq context) or `softirq` (SOFTIRQ_ENTER: softirqs off, in softirq context). Locks
   * taken inside are IN-HARDIRQ / IN-SOFTIRQ users for lockdep. A hardirq cannot arrive with
   * interrupts disabled, nor a softirq with softirqs disabled or inside a hardirq: a ScenarioError.
   */
  inIrq(context: IrqContext, fn: () => void): void;
  /** Marks an operation that may sleep (`kvm_destroy_vm`): `sleep-in-atomic` under a spinlock. */
  mightSleep(site: string): void;
  /** Reports a broken invariant seen while running (`invariant` finding). */
  invariant(message: string): void;
  /** A seeded pause (spin or yield) to widen a race window; also done before every lock. */
  jitter(): void;
}

/** What the end-of-round check on the main thread can read. Nothing here blocks or writes. */
export interface WorldView {
  readonly round: number;
  readonly variant: string;
  words(name: string): number;
  refcount(name: string): number;
  isLive(pointer: number): boolean;
}

export type Operation = (ctx: OpContext) => void;

/** A seeded random source (mulberry32). */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

/**
 * Which operations each thread runs this round: one list per thread, `threads` lists. A fixed
 * script ignores `rng`; a random mix draws from it (the runner seeds it from LOCKSTRESS_SEED and
 * the round number, so a seed replays the same plans).
 */
export type Plan = (rng: Rng, threads: number, round: number) => string[][];

/**
 * What a variant is expected to show. `'clean'`: no finding at all. Otherwise every entry must be
 * seen; an entry that is a list is satisfied by any one of its kinds
 * (`[['refcount-underflow', 'use-after-free']]` reads "underflow or use-after-free").
 */
export type Expectation = 'clean' | ReadonlyArray<FindingKind | readonly FindingKind[]>;

export interface Variant {
  name: string;
  /** One line. */
  description: string;
  expect: Expectation;
  /**
   * The fewest threads that can show this variant's expectation (default 1). A run with fewer
   * threads gives it the verdict `skipped: needs N threads`, never a FAIL it could not avoid.
   */
  minThreads?: number;
  /**
   * Runs only with `--full` (or when named by `--variant`): for variants that widen coverage
   * beyond what every default run needs (default false).
   */
  extended?: boolean;
  /** Replaces the scenario's operations of the same name for this variant. */
  ops?: Readonly<Record<string, Operation>>;
  plan?: Plan;
  setup?: Operation;
  finish?: Operation;
}

export interface Scenario {
  name: string;
  /** One line. */
  description: string;
  objects: SharedObjects;
  ops: Readonly<Record<string, Operation>>;
  plan: Plan;
  /** Run by thread 0 before the round's operations (after the world was zeroed); under a stride, before the rendezvous. */
  setup?: Operation;
  /** Run by thread 0 after every thread finished its operations: close what is still open. Under a stride, after the rendezvous. */
  finish?: Operation;
  /** End-of-round checks on the main thread; each returned string is an `invariant` finding. */
  invariants?: (view: WorldView) => string[];
  variants: readonly Variant[];
}

/** Checks the shape of a scenario and returns it; throws a TypeError naming the first problem. */
export function defineScenario(scenario: Scenario): Scenario {
  const problems = scenarioProblems(scenario);
  if (problems.length > 0) throw new TypeError(problems[0]);
  return scenario;
}

/** Every problem with a value that claims to be a scenario (empty when it is fine). */
export function scenarioProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null) return ['the default export is not a scenario object'];
  const s = value as Partial<Scenario>;
  if (typeof s.name !== 'string' || s.name === '') problems.push('scenario has no name');
  if (typeof s.objects !== 'object' || s.objects === null) problems.push('scenario has no objects');
  if (typeof s.ops !== 'object' || s.ops === null) problems.push('scenario has no ops');
  if (typeof s.plan !== 'function') problems.push('scenario has no plan function');
  if (!Array.isArray(s.variants) || s.variants.length === 0) problems.push('scenario has no variants');
  const seen = new Set<string>();
  for (const v of s.variants ?? []) {
    if (typeof v?.name !== 'string' || v.name === '') problems.push('a variant has no name');
    else if (seen.has(v.name)) problems.push(`variant ${v.name} is declared twice`);
    else seen.add(v.name);
    if (v?.expect !== 'clean' && !Array.isArray(v?.expect)) problems.push(`variant ${v?.name}: expect must be 'clean' or a list`);
    for (const entry of Array.isArray(v?.expect) ? (v.expect as unknown[]) : []) {
      for (const kind of Array.isArray(entry) ? (entry as unknown[]) : [entry]) {
        if (typeof kind !== 'string' || !isFindingKind(kind)) {
          problems.push(`variant ${v?.name}: expect names ${JSON.stringify(kind)}, which is not a finding kind (kinds: ${kFindingKinds.join(', ')})`);
        }
      }
    }
    if (v?.extended !== undefined && typeof v.extended !== 'boolean') problems.push(`variant ${v?.name}: extended must be true or false`);
    if (v?.minThreads !== undefined && !(Number.isInteger(v.minThreads) && v.minThreads >= 1)) {
      problems.push(`variant ${v?.name}: minThreads must be a whole number from 1`);
    }
  }
  return problems;
}

/** Every operation name a variant can run, in a stable order (indexes for overlap coverage). */
export function operationNames(scenario: Scenario, variant: Variant): string[] {
  return [...new Set([...Object.keys(scenario.ops), ...Object.keys(variant.ops ?? {})])].sort();
}
