/**
 * LockTracker: lockdep's per-thread half, kept in shared memory so the main thread can read it
 * while this thread is blocked.
 *
 * For its thread it keeps the held stack (lock, site, since when, class and read mode; at most
 * kMaxHeldLocks, the kernel's MAX_LOCK_DEPTH), the lock or completion it waits for and the atomic
 * (spinlock) depth. On every acquire it checks, like the kernel's `lock_acquire`:
 * - sleeping in atomic context: a sleeping lock while a spinlock is held, interrupts or softirqs
 *   are off, or in interrupt context;
 * - irq usage (lockdep's mark_usage): the lock's class gains the usage bits of this acquisition
 *   (taken in hardirq/softirq context: IN-*; taken with hardirqs/softirqs enabled: *-ON; -R for a
 *   reader). A bit that conflicts with one the class already has is `inconsistent-lock-state`
 *   (mark_lock_irq's valid_state). The conflicts that need the graph are the main thread's
 *   (irq-usage.ts);
 * - a nest lock (mutex_lock_nest_lock) must be held ("Nested lock was not taken");
 * - recursion (check_deadlock): a class already held is "possible recursive locking detected",
 *   except a recursive reader after a reader of the class (read_lock in read_lock), and except a
 *   class whose nest lock is held (then it adds no dependency either);
 * - lock order (check_prevs_add): it learns the edge (class on top of the stack) -> (class being
 *   taken), and on down the stack while the entry it came from was a trylock, with the classes held
 *   exclusively under it as the edge's gate (a lock held for read gates nothing: two threads can
 *   hold it at once) and lockdep's dependency type (S/E: the held lock is a reader or
 *   not; R/N: the new lock is a recursive reader or not), into the shared edge table
 *   (edge-table.ts), where the main thread looks for cycles (lock-order-graph.ts).
 * A trylock is checked for irq usage only (it cannot wait, so it adds no dependency).
 * It also keeps lock_stat counters per class: acquisitions, contentions, max wait, max hold.
 *
 * Classes: a lock's class, or with a subclass (mutex_lock_nested) that class's subclass class,
 * defined on first use (lock-table.ts `subclassOf`). The held entry records the class used.
 *
 * Completions (DEPT-style, see completion.ts): a wait_for_completion is a wait like a lock
 * acquisition: it learns the edge (held class) -> (completion's class), down the stack as for a
 * lock, type S/E -> N. And every complete/complete_all learns the edges (completion's class) ->
 * (class of each lock or completion this operation waited for before it: every lock it acquired
 * without a trylock, held or already released, and every completion it waited for), type E -> R/N,
 * with no gate: the event cannot happen until those waits are over. A cycle through such edges is
 * a lock-order-cycle no race is needed for, e.g. "hold L, wait for C" against "take L, then
 * complete C". Only operations (beginOp/endOp) are contexts: waits in setup and finish, or in a
 * world without completions, are not recorded.
 *
 * Held at return: an operation that ends with locks held is `held-at-return` (lockdep's "lock held
 * when returning to user space!"), one finding per lock still held, naming the site that took it.
 *
 * Misuse is logged as findings, never thrown: lockdep prints and goes on.
 *
 * Cost: this is on every tracked lock and unlock, so its fields are written with plain stores
 * (only this thread writes them; the watchdog confirms what it reads with a second snapshot), the
 * counts are per thread, and the clock (~45 ns a read here) is read on every contended wait but
 * only on one acquisition in {@link kHoldSampleEvery} for hold times. A held entry that was not
 * timed has since = -1. The classes held are read off the held stack at each nested acquire (it is
 * shallow, and the walk is needed anyway for the recursion check). A plain exclusive lock() takes
 * its own path (willAcquire / acquired / willRelease): one cached int per lock gives its class,
 * whether it sleeps and whether its plain usage bits are already marked, and one word gives the
 * spinlocks held and the irq state, so in process context it costs what it did before reads,
 * subclasses, nest locks and irqs existed (measured by `npm run bench`'s tracking on / off).
 */
import {
  type SharedMemory,
  DepBit,
  HeldFlag,
  UsageBit,
  WaitKind,
  classBase,
  heldBase,
  kClassMaxHoldUs as kClassMaxHoldUs_,
  kClassMaxWaitUs as kClassMaxWaitUs_,
  kClassUsage as kClassUsage_,
  kClassUsageSeq as kClassUsageSeq_,
  kClassUsageSite as kClassUsageSite_,
  kClassUsageThread as kClassUsageThread_,
  kHeaderBarrierParties as kHeaderBarrierParties_,
  kHeaderEdgeSeq as kHeaderEdgeSeq_,
  kHeaderUsageChanges as kHeaderUsageChanges_,
  IrqWord,
  kHeldClass as kHeldClass_,
  kHeldClassMask as kHeldClassMask_,
  kHeldFlagsShift as kHeldFlagsShift_,
  kHeldLock as kHeldLock_,
  kHeldSinceUs as kHeldSinceUs_,
  kHeldSite as kHeldSite_,
  kHeldWords as kHeldWords_,
  kMaxHeldLocks as kMaxHeldLocks_,
  kThreadAtomicDepth as kThreadAtomicDepth_,
  kThreadCurrentOp as kThreadCurrentOp_,
  kThreadDepth as kThreadDepth_,
  kThreadOpEpoch as kThreadOpEpoch_,
  kThreadWaitEpoch as kThreadWaitEpoch_,
  kThreadWaitingKind as kThreadWaitingKind_,
  kThreadWaitingLock as kThreadWaitingLock_,
  kThreadWaitingSinceUs as kThreadWaitingSinceUs_,
  kThreadWaitingSite as kThreadWaitingSite_,
  kStatAcquisitions as kStatAcquisitions_,
  kStatContentions as kStatContentions_,
  kStatWords as kStatWords_,
  kEventBegin,
  kEventEnd,
  kEventIdShift,
  kEventKindId,
  kEventRingEntries,
  kEventSite,
  kEventTimeUs,
  kEventWords,
  overlapIndex,
  threadBase,
  threadStatBase,
} from '../layout.js';

// Module-local copies of the layout's word indices: V8 reads an imported binding through its
// module cell on every use, but folds a local const into the code (measured: the tracked pair
// is several ns faster).
const kClassMaxHoldUs = kClassMaxHoldUs_;
const kClassMaxWaitUs = kClassMaxWaitUs_;
const kClassUsage = kClassUsage_;
const kClassUsageSeq = kClassUsageSeq_;
const kClassUsageSite = kClassUsageSite_;
const kClassUsageThread = kClassUsageThread_;
const kHeaderBarrierParties = kHeaderBarrierParties_;
const kHeaderEdgeSeq = kHeaderEdgeSeq_;
const kHeaderUsageChanges = kHeaderUsageChanges_;
const kHeldClass = kHeldClass_;
const kHeldClassMask = kHeldClassMask_;
const kHeldFlagsShift = kHeldFlagsShift_;
const kHeldLock = kHeldLock_;
const kHeldSinceUs = kHeldSinceUs_;
const kHeldSite = kHeldSite_;
const kHeldWords = kHeldWords_;
const kMaxHeldLocks = kMaxHeldLocks_;
const kThreadAtomicDepth = kThreadAtomicDepth_;
const kThreadCurrentOp = kThreadCurrentOp_;
const kThreadDepth = kThreadDepth_;
const kThreadOpEpoch = kThreadOpEpoch_;
const kThreadWaitEpoch = kThreadWaitEpoch_;
const kThreadWaitingKind = kThreadWaitingKind_;
const kThreadWaitingLock = kThreadWaitingLock_;
const kThreadWaitingSinceUs = kThreadWaitingSinceUs_;
const kThreadWaitingSite = kThreadWaitingSite_;
const kStatAcquisitions = kStatAcquisitions_;
const kStatContentions = kStatContentions_;
const kStatWords = kStatWords_;
import { LimitError } from '../errors.js';
import type { LockObserver } from '../primitives/lock-observer.js';
import type { FindingLog } from '../primitives/finding-log.js';
import type { StringTable } from '../primitives/string-table.js';
import { inHardirq, inInterrupt, inSoftirq, hardirqsEnabled, softirqsEnabled } from '../primitives/irq-state.js';
import { classSleeps, lockClassOf, lockNameOf, lockOwnerOf, subclassOf } from '../primitives/lock-table.js';
import { Acquire } from '../primitives/tracked-lock.js';
import { SharedEdgeTable } from './edge-table.js';
import { EventKind, EventRing } from '../primitives/event-ring.js';
import { conflictingUsage } from './irq-usage.js';

/** One acquisition in this many is timed for lock_stat's max hold (a power of two). */
export const kHoldSampleEvery = 32;
/** Distinct classes an operation's waits are remembered for (for complete's dependencies). */
export const kMaxOpWaits = 32;

/** Usage bits of a plain exclusive acquisition in process context: HARDIRQ-ON-W and SOFTIRQ-ON-W. */
const kPlainUsage = (1 << UsageBit.EnabledHardirq) | (1 << UsageBit.EnabledSoftirq);
/**
 * lockInfo bits: the lock sleeps; this thread marked its class's plain usage; a plain acquisition
 * needs no check (its usage is marked, and the world has no completions); the info is known (0:
 * not read yet); the class above.
 */
const kInfoSleeps = 1;
const kInfoPlainMarked = 2;
const kInfoFast = 4;
const kInfoKnown = 8;
const kInfoShift = 4;

/**
 * What the hot path (acquiredAtOnce, willRelease) uses: the layout's words and the constants
 * above, as a const enum, which TypeScript writes into the code as literals (the values are
 * layout.ts's, read at compile time). A module const costs no time once V8 has optimized the code,
 * but in bytecode each use is a context-slot load and a hole check (4 bytes), and bytecode size is
 * what V8's inlining budget counts (see tracked-lock.ts `acquireTracked`).
 */
const enum Hot {
  HeldLock = kHeldLock_,
  HeldSite = kHeldSite_,
  HeldSinceUs = kHeldSinceUs_,
  HeldClass = kHeldClass_,
  HeldWords = kHeldWords_,
  /** A held entry's read-mode bits (HeldFlag.ReadMask, spelled 3: see below), in place in its kHeldClass word. */
  HeldReadBits = 3 << kHeldFlagsShift_,
  StatWords = kStatWords_,
  StatAcquisitions = kStatAcquisitions_,
  SampleMask = kHoldSampleEvery - 1,
  InfoSleeps = kInfoSleeps,
  InfoFast = kInfoFast,
  InfoShift = kInfoShift,
  // The event ring's entry (primitives/event-ring.ts), for the lock events written here.
  EventBegin = kEventBegin,
  EventKindId = kEventKindId,
  EventSite = kEventSite,
  EventTime = kEventTimeUs,
  EventEnd = kEventEnd,
  EventWords = kEventWords,
  EventIdShift = kEventIdShift,
  EventMask = kEventRingEntries - 1,
  /** EventKind.Acquire and EventKind.Release (spelled out: see below). */
  AcquireEvent = 1,
  ReleaseEvent = 4,
}
// An enum member cannot read an object's property, so Hot.HeldReadBits spells HeldFlag.ReadMask
// as 3; this stops the build if the layout's value changes.
HeldFlag.ReadMask satisfies 3;
EventKind.Acquire satisfies Hot.AcquireEvent;
EventKind.Release satisfies Hot.ReleaseEvent;
// The hot path stores the first word of a held entry, an event and a stat record at the record's
// own index (`+ 0` is a few bytes of bytecode each): this stops the build if one moves.
0 satisfies Hot.HeldLock;
0 satisfies Hot.EventBegin;
0 satisfies Hot.StatAcquisitions;

export interface TrackerOptions {
  /**
   * Remember what each operation waited for, so a complete() can learn its dependencies. Only
   * worlds with completions need it (it costs a little on every acquire).
   */
  completions?: boolean;
}

export class LockTracker implements LockObserver {
  private readonly i32: Int32Array;
  private readonly base: number;
  /** {@link lockInfo} of each lock id, read once (lock records never change after setup); 0: not yet. */
  private readonly infoOf: Int32Array;
  private readonly sleepsOf: Int8Array;
  /** Usage bits this thread set or saw set, per class (they are only ever set). */
  private readonly usageKnown: Uint8Array;
  /** Word index of held-stack entry 0, and of this thread's lock_stat record of class 0. */
  private readonly heldStack: number;
  /** Word indices of this thread's depth, atomic-context and current-op words (base + kThreadDepth, ...). */
  private readonly depthIndex: number;
  private readonly atomicIndex: number;
  private readonly currentOpIndex: number;
  private readonly statBase: number;
  /** Scratch: the classes of the held stack, bottom first, filled by willAcquire. */
  private readonly heldClasses = new Int32Array(kMaxHeldLocks);
  /** Scratch: the classes held exclusively, the gate candidates when some entry is a reader. */
  private readonly gateClasses = new Int32Array(kMaxHeldLocks);
  private readonly edges: SharedEdgeTable;
  /** Subclass classes resolved so far, by `class * 8 + subclass`. */
  private readonly subclasses = new Map<number, number>();
  /** The last two sites interned: call sites pass the same string objects again and again. */
  private lastSite = '';
  private lastSiteId = 0;
  private prevSite = '';
  private prevSiteId = 0;
  private acquisitions = 0;
  /** This thread's event ring (primitives/event-ring.ts): its last lock events, for reports. */
  readonly events: EventRing;
  /** The ring's head and entry 0 (word indices), for the lock events the hot path writes itself. */
  private readonly ringHead: number;
  private readonly ringEntries: number;
  /** What the current operation waited for: classes, R (1) or N (0), sites (see "Completions"). */
  private readonly tracksWaits: boolean;
  private readonly opWaitClasses = new Int32Array(kMaxOpWaits);
  private readonly opWaitRecursive = new Uint8Array(kMaxOpWaits);
  private readonly opWaitSites: string[] = [];
  private opWaits = 0;
  private readonly noGate = new Int32Array(0);

  constructor(
    private readonly memory: SharedMemory,
    private readonly strings: StringTable,
    private readonly log: FindingLog,
    readonly thread: number,
    options: TrackerOptions = {},
  ) {
    this.i32 = memory.i32;
    this.base = threadBase(memory.layout, thread);
    this.infoOf = new Int32Array(memory.layout.capacities.locks);
    this.sleepsOf = new Int8Array(memory.layout.capacities.classes).fill(-1);
    this.usageKnown = new Uint8Array(memory.layout.capacities.classes);
    this.heldStack = heldBase(memory.layout, thread, 0);
    this.depthIndex = this.base + kThreadDepth;
    this.atomicIndex = this.base + kThreadAtomicDepth;
    this.currentOpIndex = this.base + kThreadCurrentOp;
    this.statBase = threadStatBase(memory.layout, thread, 0);
    this.edges = new SharedEdgeTable(memory, thread, (site) => this.site(site));
    this.events = new EventRing(memory, thread);
    this.ringHead = this.events.head;
    this.ringEntries = this.events.entries;
    this.tracksWaits = options.completions === true;
  }

  // ---- LockObserver --------------------------------------------------------------------------

  willAcquire(lockId: number, site: string): void {
    const { i32, base } = this;
    const info = this.lockInfo(lockId);
    const cls = info >> kInfoShift;
    // Spinlocks held and irq state, in one word: 0 in plain process context.
    const atomic = i32[base + kThreadAtomicDepth] ?? 0;
    if ((info & kInfoSleeps) !== 0 && atomic !== 0) this.sleepInAtomic(lockId, site, atomic);
    const irq = atomic & IrqWord.IrqMask;
    if (irq === 0) {
      if ((info & kInfoPlainMarked) === 0) this.markPlain(lockId, cls, site);
    } else {
      const want = usageOf(irq, 0, false);
      if (((this.usageKnown[cls] ?? 0) & want) !== want) this.markUsage(cls, want, lockId, site, irq);
    }
    const depth = i32[base + kThreadDepth] ?? 0;
    if (depth !== 0) this.checkNested(lockId, site, cls, 0, -1, depth);
  }

  /** willAcquire with a read mode, a subclass or a nest lock. */
  willAcquireAs(lockId: number, site: string, how: number, nest: number): void {
    const { i32, base } = this;
    const atomic = i32[base + kThreadAtomicDepth] ?? 0;
    const irq = atomic & IrqWord.IrqMask;
    const cls = this.classFor(lockId, how);
    const mode = this.readMode(how, irq);
    if ((this.lockInfo(lockId) & kInfoSleeps) !== 0 && atomic !== 0) this.sleepInAtomic(lockId, site, atomic);
    const want = usageOf(irq, mode, false);
    if (((this.usageKnown[cls] ?? 0) & want) !== want) this.markUsage(cls, want, lockId, site, irq);
    if (nest >= 0 && !this.holds(nest)) {
      this.log.log('lock-not-held', this.thread, { lock: nest, site: this.site(site), nestFor: lockId });
    }
    const depth = i32[base + kThreadDepth] ?? 0;
    if (depth !== 0) this.checkNested(lockId, site, cls, mode, nest, depth);
  }

  /** check_deadlock and check_prevs_add for an acquisition of class `cls` under `depth` held locks. */
  private checkNested(lockId: number, site: string, cls: number, mode: number, nest: number, depth: number): void {
    const { i32 } = this;
    // Checked before the attempt, so the lock is not taken (acquiredByTry checks in push).
    if (depth >= kMaxHeldLocks) throw this.tooDeep(lockId, site);
    const held = this.heldClasses;
    let entry = this.heldStack;
    let nestHeld = false;
    let readers = false;
    for (let d = 0; d < depth; d++, entry += kHeldWords) {
      const word = i32[entry + kHeldClass] ?? 0;
      const heldClass = word & kHeldClassMask;
      if ((word & (HeldFlag.ReadMask << kHeldFlagsShift)) !== 0) readers = true;
      if (nest >= 0 && i32[entry + kHeldLock] === nest) nestHeld = true;
      if (heldClass === cls) {
        // read_lock under a read of the same class is allowed recursion (check_deadlock).
        if (mode === Acquire.ReadRecursive && ((word >>> kHeldFlagsShift) & HeldFlag.ReadMask) !== 0) {
          held[d] = heldClass;
          continue;
        }
        // The nest lock serializes the instances of this class: no report, and no dependency.
        if (nestHeld) return;
        const heldLock = i32[entry + kHeldLock] ?? 0;
        this.log.log('recursive-lock', this.thread, { lock: lockId, site: this.site(site), heldLock, heldSite: i32[entry + kHeldSite] ?? 0 });
        // Like the kernel's check_deadlock(): a recursive acquisition adds no dependency.
        return;
      }
      held[d] = heldClass;
    }
    this.learnEdges(depth, cls, mode === Acquire.ReadRecursive ? 1 : 0, site, readers);
  }

  private sleepInAtomic(lockId: number, site: string, atomic: number): void {
    this.log.log('sleep-in-atomic', this.thread, { lock: lockId, site: this.site(site), spinlock: this.topSpinLock(), irq: atomic & IrqWord.IrqMask });
  }

  contended(lockId: number, site: string, how = 0): number {
    const { i32, base } = this;
    const now = this.memory.nowUs();
    this.events.contended(lockId, this.site(site), now);
    const stat = threadStatBase(this.memory.layout, this.thread, this.lockClass(lockId)) + kStatContentions;
    i32[stat] = (i32[stat] ?? 0) + 1;
    Atomics.store(i32, base + kThreadWaitingSite, this.site(site));
    Atomics.store(i32, base + kThreadWaitingSinceUs, now);
    Atomics.store(i32, base + kThreadWaitingKind, (how & Acquire.ModeMask) === 0 ? WaitKind.Write : WaitKind.Read);
    Atomics.add(i32, base + kThreadWaitEpoch, 1);
    // Published last: the watchdog reads the lock first, then trusts site, since, kind and epoch.
    Atomics.store(i32, base + kThreadWaitingLock, lockId + 1);
    return now;
  }

  /**
   * The publication order, and why the watchdog never sees a thread wait on a lock it holds unless
   * it really does (a recursive acquire):
   * 1. `contended` bumps the wait epoch, then publishes "waiting for L" (seq-cst stores);
   * 2. the lock word changes owner to this thread (the primitive's CAS);
   * 3. here: "waiting" is cleared first (seq-cst), and only then is L pushed on the held stack.
   * So at no instant is L both in the held stack and the waited-for lock of the same wait. Between
   * 2 and 3 the lock word names this thread as the owner of the lock it waits for, with L not in
   * its held stack: findWaitCycles ignores exactly that self-edge. The held stack only changes
   * while the thread is not waiting, so a reader that sees the same (lock, epoch) before and after
   * reading the held stack read a stack that did not move (readWaitStates).
   */
  acquired(lockId: number, site: string, waitStartUs: number): void {
    // A wait was timed anyway; otherwise one acquisition in kHoldSampleEvery is timed.
    if (waitStartUs < 0) this.acquisitions++;
    this.acquiredTimed(lockId, site, waitStartUs);
  }

  acquiredAtOnce(lockId: number, site: string): boolean {
    const i32 = this.i32;
    const info = this.infoOf[lockId] ?? 0;
    // The plain case, recorded here: a lock whose plain usage this thread marked, in a world
    // without completions (Hot.InfoFast), taken in process context with nothing held (so no check
    // can fire: they all need a held lock, an atomic context or a usage bit not yet marked), not
    // sampled for hold time. `as number`: words of this thread's own record, in bounds (no `?? 0`
    // here: its bytecode counts against V8's inlining budget, see tracked-lock.ts).
    if ((this.acquisitions++ & Hot.SampleMask) === 0 || (info & Hot.InfoFast) === 0 || ((i32[this.depthIndex] as number) | (i32[this.atomicIndex] as number)) !== 0) {
      return this.acquiredChecked(lockId, site);
    }
    const siteId = site === this.lastSite ? this.lastSiteId : this.site(site);
    const cls = info >> Hot.InfoShift;
    // push() at depth 0, untimed.
    const entry = this.heldStack;
    i32[entry + Hot.HeldSite] = siteId;
    i32[entry + Hot.HeldSinceUs] = -1;
    i32[entry + Hot.HeldClass] = cls;
    i32[entry] = lockId; // + Hot.HeldLock (0)
    i32[this.depthIndex] = 1;
    if ((info & Hot.InfoSleeps) === 0) i32[this.atomicIndex] = 1;
    const stat = this.statBase + cls * Hot.StatWords; // + Hot.StatAcquisitions (0)
    i32[stat] = (i32[stat] as number) + 1;
    // The event, as event-ring.ts writes one (begin, fields, end, head), untimed.
    const n = (i32[this.ringHead] as number) + 1;
    const e = this.ringEntries + (n & Hot.EventMask) * Hot.EventWords;
    i32[e] = n; // + Hot.EventBegin (0)
    i32[e + Hot.EventKindId] = Hot.AcquireEvent | (lockId << Hot.EventIdShift);
    i32[e + Hot.EventSite] = siteId;
    i32[e + Hot.EventTime] = -1;
    i32[e + Hot.EventEnd] = n;
    i32[this.ringHead] = n;
    if (i32[this.currentOpIndex] !== 0) this.sampleOverlap();
    return true;
  }

  /** acquiredAtOnce past its plain case (its sample count is bumped): the full checks, then the record. */
  private acquiredChecked(lockId: number, site: string): boolean {
    if ((this.i32[this.depthIndex] ?? 0) >= kMaxHeldLocks) return false;
    this.willAcquire(lockId, site);
    this.acquiredTimed(lockId, site, -1);
    return true;
  }

  /**
   * The acquired record: timed after a wait, or for the hold-time sample (`acquisitions` was
   * counted for this acquisition when it did not wait).
   */
  private acquiredTimed(lockId: number, site: string, waitStartUs: number): void {
    const info = this.lockInfo(lockId);
    const cls = info >> kInfoShift;
    const timed = waitStartUs >= 0 || ((this.acquisitions - 1) & Hot.SampleMask) === 0;
    const now = timed ? this.memory.nowUs() : -1;
    if (waitStartUs >= 0) this.waited(cls, now - waitStartUs);
    this.push(lockId, info, cls, site, now, 0);
    this.events.acquired(lockId, this.site(site), now, waitStartUs >= 0);
    if (this.tracksWaits) this.noteWait(cls, 0, site);
    if (this.i32[this.base + kThreadCurrentOp] !== 0) this.sampleOverlap();
  }

  acquiredAs(lockId: number, site: string, waitStartUs: number, how: number): void {
    const timed = waitStartUs >= 0 || (this.acquisitions++ & Hot.SampleMask) === 0;
    const now = timed ? this.memory.nowUs() : -1;
    const cls = this.classFor(lockId, how);
    const mode = this.readMode(how, (this.i32[this.base + kThreadAtomicDepth] ?? 0) & IrqWord.IrqMask);
    if (waitStartUs >= 0) this.waited(cls, now - waitStartUs);
    this.push(lockId, this.lockInfo(lockId), cls, site, now, mode);
    this.events.acquired(lockId, this.site(site), now, waitStartUs >= 0);
    if (this.tracksWaits) this.noteWait(cls, mode === Acquire.ReadRecursive ? 1 : 0, site);
    if (this.i32[this.base + kThreadCurrentOp] !== 0) this.sampleOverlap();
  }

  acquiredByTry(lockId: number, site: string, how = 0): void {
    const irq = (this.i32[this.base + kThreadAtomicDepth] ?? 0) & IrqWord.IrqMask;
    const cls = this.classFor(lockId, how);
    const mode = how === 0 ? 0 : this.readMode(how, irq);
    // A trylock marks the *-ON usage of its state, never IN-* (mark_usage skips trylocks there).
    const want = usageOf(irq, mode, true);
    if (((this.usageKnown[cls] ?? 0) & want) !== want) this.markUsage(cls, want, lockId, site, irq);
    this.push(lockId, this.lockInfo(lockId), cls, site, -1, mode | HeldFlag.Trylock);
    this.events.tryLocked(lockId, this.site(site));
  }

  willRelease(lockId: number, site: string): boolean {
    const i32 = this.i32;
    // `as number`: this thread's own record, in bounds (see acquiredAtOnce).
    const depth = i32[this.depthIndex] as number;
    const top = this.heldStack + (depth - 1) * Hot.HeldWords;
    // The usual unlock, done here: the top entry, held exclusively, not timed. The rest (out of
    // order, timed, misuse) take release().
    if (depth > 0 && i32[top] === lockId && ((i32[top + Hot.HeldClass] as number) & Hot.HeldReadBits) === 0 && (i32[top + Hot.HeldSinceUs] as number) < 0) {
      i32[this.depthIndex] = depth - 1;
      // A held lock went through lockInfo when it was acquired, so its info is known.
      if (((this.infoOf[lockId] as number) & Hot.InfoSleeps) === 0) i32[this.atomicIndex] = (i32[this.atomicIndex] as number) - 1;
      // The event, as in acquiredAtOnce.
      const n = (i32[this.ringHead] as number) + 1;
      const e = this.ringEntries + (n & Hot.EventMask) * Hot.EventWords;
      i32[e] = n; // + Hot.EventBegin (0)
      i32[e + Hot.EventKindId] = Hot.ReleaseEvent | (lockId << Hot.EventIdShift);
      i32[e + Hot.EventSite] = site === this.lastSite ? this.lastSiteId : this.site(site);
      i32[e + Hot.EventTime] = -1;
      i32[e + Hot.EventEnd] = n;
      i32[this.ringHead] = n;
      return true;
    }
    return this.release(lockId, site, false);
  }

  willReleaseAs(lockId: number, site: string, how: number): boolean {
    return this.release(lockId, site, (how & Acquire.ModeMask) !== 0);
  }

  /** The topmost held entry of `lockId` on the side `reader` says, popped; else a bad-unlock. */
  private release(lockId: number, site: string, reader: boolean): boolean {
    const { i32, base } = this;
    const depth = i32[base + kThreadDepth] ?? 0;
    for (let d = depth - 1; d >= 0; d--) {
      const entry = this.heldStack + d * kHeldWords;
      if (i32[entry + kHeldLock] !== lockId) continue;
      const word = i32[entry + kHeldClass] ?? 0;
      // up_read of a lock held for write, or up_write of one held for read: misuse.
      if ((((word >>> kHeldFlagsShift) & HeldFlag.ReadMask) !== 0) !== reader) break;
      const since = i32[entry + kHeldSinceUs] ?? -1;
      if (since >= 0) raiseMax(i32, classBase(this.memory.layout, word & kHeldClassMask) + kClassMaxHoldUs, this.memory.nowUs() - since);
      // Out-of-order unlock is legal: close the gap.
      if (d < depth - 1) i32.copyWithin(entry, entry + kHeldWords, this.heldStack + depth * kHeldWords);
      i32[base + kThreadDepth] = depth - 1;
      // A subclass class sleeps as its lock does.
      if ((this.lockInfo(lockId) & kInfoSleeps) === 0) i32[base + kThreadAtomicDepth] = (i32[base + kThreadAtomicDepth] ?? 1) - 1;
      this.events.released(lockId, this.site(site));
      return true;
    }
    this.log.log('bad-unlock', this.thread, { lock: lockId, site: this.site(site), owner: lockOwnerOf(this.memory, lockId) });
    return false;
  }

  assertHeld(lockId: number, site: string): void {
    if (this.holds(lockId)) return;
    this.log.log('lock-not-held', this.thread, { lock: lockId, site: this.site(site), nestFor: -1 });
  }

  mightSleep(site: string): void {
    const atomic = this.i32[this.base + kThreadAtomicDepth] ?? 0;
    if (atomic !== 0) {
      this.log.log('sleep-in-atomic', this.thread, { lock: -1, site: this.site(site), spinlock: this.topSpinLock(), irq: atomic & IrqWord.IrqMask });
    }
  }

  hardirqsOn(site: string): void {
    const irq = (this.i32[this.base + kThreadAtomicDepth] ?? 0) & IrqWord.IrqMask;
    // lockdep's trace_hardirqs_on: every held lock is now a HARDIRQ-ON user, and SOFTIRQ-ON too
    // when softirqs are on (disabled hardirqs kept that bit from being set at acquire).
    this.markHeld(UsageBit.EnabledHardirq, site, irq);
    if (softirqsEnabled(irq)) this.markHeld(UsageBit.EnabledSoftirq, site, irq);
  }

  softirqsOn(site: string): void {
    const irq = (this.i32[this.base + kThreadAtomicDepth] ?? 0) & IrqWord.IrqMask;
    if (hardirqsEnabled(irq)) this.markHeld(UsageBit.EnabledSoftirq, site, irq);
  }

  willWaitCompletion(completion: number, classId: number, site: string): void {
    const { i32, base } = this;
    // wait_for_completion might sleep: not under a spinlock, with interrupts off, or in an irq.
    this.mightSleep(site);
    const depth = i32[base + kThreadDepth] ?? 0;
    if (depth === 0) return;
    if (depth > kMaxHeldLocks) throw this.tooDeep(-1, site);
    let entry = this.heldStack;
    let readers = false;
    for (let d = 0; d < depth; d++, entry += kHeldWords) {
      const word = i32[entry + kHeldClass] ?? 0;
      this.heldClasses[d] = word & kHeldClassMask;
      if ((word & (HeldFlag.ReadMask << kHeldFlagsShift)) !== 0) readers = true;
    }
    void completion;
    this.learnEdges(depth, classId, 0, site, readers);
  }

  waitingCompletion(completion: number, site: string): number {
    const { i32, base } = this;
    const now = this.memory.nowUs();
    Atomics.store(i32, base + kThreadWaitingSite, this.site(site));
    Atomics.store(i32, base + kThreadWaitingSinceUs, now);
    Atomics.store(i32, base + kThreadWaitingKind, WaitKind.Completion);
    Atomics.add(i32, base + kThreadWaitEpoch, 1);
    Atomics.store(i32, base + kThreadWaitingLock, completion + 1);
    return now;
  }

  completionWaited(completion: number, classId: number, site: string, waitStartUs: number): void {
    void completion;
    if (waitStartUs >= 0) Atomics.store(this.i32, this.base + kThreadWaitingLock, 0);
    if (this.tracksWaits) this.noteWait(classId, 0, site);
  }

  completing(classId: number, site: string): void {
    if (!this.tracksWaits || this.opWaits === 0) return;
    const siteId = this.site(site);
    for (let i = 0; i < this.opWaits; i++) {
      const to = this.opWaitClasses[i] ?? 0;
      if (to === classId) continue;
      // The event comes after the wait: completion -(E R/N)-> waited class, with no gate.
      const dep = (this.opWaitRecursive[i] ?? 0) === 1 ? DepBit.ER : DepBit.EN;
      this.edges.sight(classId, to, this.noGate, 0, siteId, this.opWaitSites[i] ?? '', dep);
    }
  }

  // ---- Operations (for overlap coverage, held-at-return and completions) ----------------------

  /** The thread starts operation `op` (index into the scenario's op list). */
  beginOp(op: number): void {
    Atomics.store(this.i32, this.base + kThreadCurrentOp, op + 1);
    Atomics.add(this.i32, this.base + kThreadOpEpoch, 1);
    this.opWaits = 0;
    this.sampleOverlap();
  }

  /** The operation returned: every lock it left held is a `held-at-return` finding. */
  endOp(): void {
    const { i32, base } = this;
    this.sampleOverlap();
    const depth = i32[base + kThreadDepth] ?? 0;
    if (depth > 0) {
      const op = (i32[base + kThreadCurrentOp] ?? 0) - 1;
      for (let d = 0; d < depth; d++) {
        const entry = this.heldStack + d * kHeldWords;
        this.log.log('held-at-return', this.thread, { lock: i32[entry + kHeldLock] ?? 0, site: i32[entry + kHeldSite] ?? 0, index: d, count: depth, op });
      }
    }
    this.opWaits = 0;
    Atomics.store(i32, base + kThreadCurrentOp, 0);
  }

  /** Whether this thread holds `lockId` (in either mode). */
  holds(lockId: number): boolean {
    const depth = this.i32[this.base + kThreadDepth] ?? 0;
    for (let d = 0; d < depth; d++) {
      if (this.i32[this.heldStack + d * kHeldWords + kHeldLock] === lockId) return true;
    }
    return false;
  }

  /** Forgets everything this thread held or waited for, and its irq state (after an aborted round). */
  reset(): void {
    LockTracker.resetRecord(this.memory, this.thread);
    this.opWaits = 0;
  }

  /**
   * The held stack as it stands (depth, entries, and the atomic-context word with its spinlock
   * bits), or null when nothing is held: under a stride each copy's round ends with its own, and
   * thread 0's `finish` of a copy runs with that copy's (variant-task.ts).
   */
  saveHeld(): Int32Array | null {
    const { i32, base } = this;
    const depth = Math.min(kMaxHeldLocks, i32[base + kThreadDepth] ?? 0);
    const atomic = i32[base + kThreadAtomicDepth] ?? 0;
    if (depth === 0 && atomic === 0) return null;
    const saved = new Int32Array(2 + depth * kHeldWords);
    saved[0] = depth;
    saved[1] = atomic;
    saved.set(i32.subarray(this.heldStack, this.heldStack + depth * kHeldWords), 2);
    return saved;
  }

  /** Puts back a held stack {@link saveHeld} took (null: nothing held), over whatever is there. */
  restoreHeld(saved: Int32Array | null): void {
    const { i32, base } = this;
    if (saved === null) {
      Atomics.store(i32, base + kThreadDepth, 0);
      Atomics.store(i32, base + kThreadAtomicDepth, 0);
      return;
    }
    i32.set(saved.subarray(2), this.heldStack);
    Atomics.store(i32, base + kThreadAtomicDepth, saved[1] ?? 0);
    Atomics.store(i32, base + kThreadDepth, saved[0] ?? 0);
  }

  /** Zeroes a thread's tracking record (held stack depth, waits) without building a tracker: between rounds. */
  static resetRecord(memory: SharedMemory, thread: number): void {
    const { i32 } = memory;
    const base = threadBase(memory.layout, thread);
    Atomics.store(i32, base + kThreadDepth, 0);
    Atomics.store(i32, base + kThreadWaitingLock, 0);
    Atomics.store(i32, base + kThreadWaitingKind, 0);
    Atomics.store(i32, base + kThreadAtomicDepth, 0);
    Atomics.store(i32, base + kThreadCurrentOp, 0);
  }

  // ---- internals ------------------------------------------------------------------------------

  /**
   * check_prevs_add: the edge from the top of the stack (heldClasses[depth - 1]) to `to`, and on
   * down while the entry it came from is a trylock. `toRecursive`: the new side is a recursive
   * reader (R), else N. `readers`: some held entry is a reader.
   */
  private learnEdges(depth: number, to: number, toRecursive: number, site: string, readers: boolean): void {
    const { i32 } = this;
    const held = this.heldClasses;
    for (let d = depth - 1; d >= 0; d--) {
      const entry = this.heldStack + d * kHeldWords;
      const flags = (i32[entry + kHeldClass] ?? 0) >>> kHeldFlagsShift;
      const from = held[d] ?? 0;
      if (from !== to) {
        const fromReader = (flags & HeldFlag.ReadMask) !== 0;
        const dep = fromReader ? (toRecursive === 1 ? DepBit.SR : DepBit.SN) : toRecursive === 1 ? DepBit.ER : DepBit.EN;
        // The classes held exclusively under `from` are the gate candidates: a lock two threads
        // can both hold for read keeps neither half of a cycle from running.
        if (readers) this.edges.sight(from, to, this.gateClasses, this.exclusiveBelow(d), i32[entry + kHeldSite] ?? 0, site, dep);
        else this.edges.sight(from, to, held, d, i32[entry + kHeldSite] ?? 0, site, dep);
      }
      // Stop after the first entry that is not a trylock: lower ones already lead here through it.
      if ((flags & HeldFlag.Trylock) === 0) break;
    }
  }

  /** Fills gateClasses with the classes of the held entries below `d` held exclusively; their count. */
  private exclusiveBelow(d: number): number {
    const { i32 } = this;
    let n = 0;
    for (let k = 0; k < d; k++) {
      const word = i32[this.heldStack + k * kHeldWords + kHeldClass] ?? 0;
      if ((word & (HeldFlag.ReadMask << kHeldFlagsShift)) === 0) this.gateClasses[n++] = word & kHeldClassMask;
    }
    return n;
  }

  /** A queued rwlock's reader is recursive only in interrupt context (read_lock_is_recursive). */
  private readMode(how: number, irq: number): number {
    const mode = how & Acquire.ModeMask;
    if (mode !== Acquire.ReadQueued) return mode;
    return inInterrupt(irq) ? Acquire.ReadRecursive : Acquire.Read;
  }

  private classFor(lockId: number, how: number): number {
    const cls = this.lockClass(lockId);
    const subclass = how >> Acquire.SubclassShift;
    if (subclass === 0) return cls;
    const key = cls * 8 + subclass;
    let known = this.subclasses.get(key);
    if (known === undefined) {
      known = subclassOf(this.memory, this.strings, cls, subclass);
      this.subclasses.set(key, known);
    }
    return known;
  }

  private waited(cls: number, us: number): void {
    Atomics.store(this.i32, this.base + kThreadWaitingLock, 0);
    raiseMax(this.i32, classBase(this.memory.layout, cls) + kClassMaxWaitUs, us);
  }

  private noteWait(cls: number, recursive: number, site: string): void {
    const n = this.opWaits;
    for (let i = 0; i < n; i++) if (this.opWaitClasses[i] === cls) return;
    if (n >= kMaxOpWaits) return;
    this.opWaitClasses[n] = cls;
    this.opWaitRecursive[n] = recursive;
    this.opWaitSites[n] = site;
    this.opWaits = n + 1;
  }

  /**
   * Sets the usage bits `want` on class `cls` that are not set yet (lockdep's mark_lock). Each bit
   * newly set records where, by whom and when (against the edge sequence); a bit that conflicts with
   * one the class already has is logged as inconsistent-lock-state.
   */
  private markUsage(cls: number, want: number, lockId: number, site: string, irq: number): void {
    const { i32 } = this;
    const base = classBase(this.memory.layout, cls);
    const siteId = this.site(site);
    let known = this.usageKnown[cls] ?? 0;
    for (let bit = 0; bit < 8; bit++) {
      const flag = 1 << bit;
      if ((want & flag) === 0 || (known & flag) !== 0) continue;
      // Where it was first set: the first writer wins, before the bit is visible.
      Atomics.compareExchange(i32, base + kClassUsageSite + bit, 0, siteId + 1);
      Atomics.compareExchange(i32, base + kClassUsageThread + bit, 0, this.thread + 1);
      Atomics.compareExchange(i32, base + kClassUsageSeq + bit, 0, Atomics.load(i32, this.memory.layout.header + kHeaderEdgeSeq) + 1);
      const before = Atomics.or(i32, base + kClassUsage, flag);
      known |= before | flag;
      if ((before & flag) !== 0) continue;
      Atomics.add(i32, this.memory.layout.header + kHeaderUsageChanges, 1);
      const prevBit = conflictingUsage(before, bit);
      if (prevBit >= 0) {
        this.log.log('inconsistent-lock-state', this.thread, {
          lock: lockId,
          site: siteId,
          newBit: bit,
          prevBit,
          irq,
          prevSite: (Atomics.load(i32, base + kClassUsageSite + prevBit) || 1) - 1,
        });
      }
    }
    this.usageKnown[cls] = known;
  }

  /** mark_held_locks: usage bit `bit` (its -R form for readers) on every held lock. */
  private markHeld(bit: number, site: string, irq: number): void {
    const { i32 } = this;
    const depth = i32[this.base + kThreadDepth] ?? 0;
    for (let d = 0; d < depth; d++) {
      const entry = this.heldStack + d * kHeldWords;
      const word = i32[entry + kHeldClass] ?? 0;
      const reader = ((word >>> kHeldFlagsShift) & HeldFlag.ReadMask) !== 0;
      const cls = word & kHeldClassMask;
      const want = 1 << (reader ? bit + 1 : bit);
      if (((this.usageKnown[cls] ?? 0) & want) !== want) this.markUsage(cls, want, i32[entry + kHeldLock] ?? 0, site, irq);
    }
  }

  /** `info` is the lock's {@link lockInfo} (its sleeps bit), `cls` the class of this acquisition. */
  private push(lockId: number, info: number, cls: number, site: string, sinceUs: number, flags: number): void {
    const { i32, base } = this;
    const depth = i32[base + kThreadDepth] ?? 0;
    if (depth >= kMaxHeldLocks) throw this.tooDeep(lockId, site);
    const entry = this.heldStack + depth * kHeldWords;
    // Plain stores: only this thread writes its record (see the file comment).
    i32[entry + kHeldSite] = this.site(site);
    i32[entry + kHeldSinceUs] = sinceUs;
    i32[entry + kHeldClass] = cls | (flags << kHeldFlagsShift);
    i32[entry + kHeldLock] = lockId;
    i32[base + kThreadDepth] = depth + 1;
    // A spinning lock counts in the low bits of the atomic-context word.
    if ((info & kInfoSleeps) === 0) i32[base + kThreadAtomicDepth] = (i32[base + kThreadAtomicDepth] ?? 0) + 1;
    const stat = this.statBase + cls * kStatWords + kStatAcquisitions;
    i32[stat] = (i32[stat] ?? 0) + 1;
  }

  /** The error for one lock more than kMaxHeldLocks (with a trylock, the lock is already taken). */
  private tooDeep(lockId: number, site: string): LimitError {
    const what = lockId < 0 ? 'waits for a completion' : `takes ${lockNameOf(this.memory, this.strings, lockId)}`;
    return new LimitError(
      `thread ${this.thread} already holds ${kMaxHeldLocks} locks and ${what} at ${site || '?'}: ` +
        `lockstress's limit is ${kMaxHeldLocks} held locks (the kernel's MAX_LOCK_DEPTH)`,
    );
  }

  private topSpinLock(): number {
    const depth = this.i32[this.base + kThreadDepth] ?? 0;
    for (let d = depth - 1; d >= 0; d--) {
      const entry = this.heldStack + d * kHeldWords;
      if (!this.sleeps((this.i32[entry + kHeldClass] ?? 0) & kHeldClassMask)) return this.i32[entry + kHeldLock] ?? 0;
    }
    return -1;
  }

  /** Marks (my op, their op) for every other thread now inside an operation. */
  private sampleOverlap(): void {
    const { i32, memory } = this;
    const mine = (i32[this.base + kThreadCurrentOp] ?? 0) - 1;
    if (mine < 0) return;
    const parties = Atomics.load(i32, memory.layout.header + kHeaderBarrierParties);
    for (let t = 0; t < parties; t++) {
      if (t === this.thread) continue;
      const theirs = Atomics.load(i32, threadBase(memory.layout, t) + kThreadCurrentOp) - 1;
      if (theirs < 0) continue;
      const cell = overlapIndex(memory.layout, Math.min(mine, theirs), Math.max(mine, theirs));
      if (i32[cell] === 0) Atomics.store(i32, cell, 1);
    }
  }

  private lockClass(lockId: number): number {
    return this.lockInfo(lockId) >> kInfoShift;
  }

  /**
   * `(class << kInfoShift) | flags` of a lock: whether it sleeps, and whether this thread already
   * marked the usage of a plain acquisition of its class. The class and kind are read once (lock
   * records never change after setup).
   */
  private lockInfo(lockId: number): number {
    let info = this.infoOf[lockId] ?? 0;
    if ((info & kInfoKnown) === 0) {
      const cls = lockClassOf(this.memory, lockId);
      info = (cls << kInfoShift) | kInfoKnown | (this.sleeps(cls) ? kInfoSleeps : 0);
      this.infoOf[lockId] = info;
    }
    return info;
  }

  /** The usage of a plain acquisition in process context, marked once per lock. */
  private markPlain(lockId: number, cls: number, site: string): void {
    if (((this.usageKnown[cls] ?? 0) & kPlainUsage) !== kPlainUsage) this.markUsage(cls, kPlainUsage, lockId, site, 0);
    this.infoOf[lockId] = this.lockInfo(lockId) | kInfoPlainMarked | (this.tracksWaits ? 0 : kInfoFast);
  }

  private sleeps(cls: number): boolean {
    let known = this.sleepsOf[cls] ?? -1;
    if (known < 0) {
      known = classSleeps(this.memory, cls) ? 1 : 0;
      this.sleepsOf[cls] = known;
    }
    return known === 1;
  }

  private site(site: string): number {
    if (site === this.lastSite) return this.lastSiteId;
    // Nested locks alternate between a few sites: keep the one before the last too.
    if (site === this.prevSite) {
      const id = this.prevSiteId;
      this.prevSite = this.lastSite;
      this.prevSiteId = this.lastSiteId;
      this.lastSite = site;
      this.lastSiteId = id;
      return id;
    }
    const id = this.strings.intern(site);
    this.prevSite = this.lastSite;
    this.prevSiteId = this.lastSiteId;
    this.lastSite = site;
    this.lastSiteId = id;
    return id;
  }
}

/**
 * lockdep's mark_usage for an acquisition in irq state `irq` and read mode `mode`: IN-HARDIRQ /
 * IN-SOFTIRQ in those contexts (not for a trylock), HARDIRQ-ON with hardirqs enabled, SOFTIRQ-ON
 * with both enabled; the -R bit of each for a reader.
 */
export function usageOf(irq: number, mode: number, trylock: boolean): number {
  const read = mode === 0 ? 0 : 1;
  let want = 0;
  if (!trylock) {
    if (inHardirq(irq)) want |= 1 << (UsageBit.UsedInHardirq + read);
    if (inSoftirq(irq)) want |= 1 << (UsageBit.UsedInSoftirq + read);
  }
  if (hardirqsEnabled(irq)) {
    want |= 1 << (UsageBit.EnabledHardirq + read);
    if (softirqsEnabled(irq)) want |= 1 << (UsageBit.EnabledSoftirq + read);
  }
  return want;
}

function raiseMax(i32: Int32Array, index: number, value: number): void {
  let seen = Atomics.load(i32, index);
  while (value > seen) {
    const before = Atomics.compareExchange(i32, index, seen, value);
    if (before === seen) return;
    seen = before;
  }
}
