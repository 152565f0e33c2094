/**
 * LockTracker: lockdep's per-thread half, kept in shared memory so the main thread can read it
 * while this thread is blocked.
 *
 * For its thread it keeps the held stack (lock, site, since when; at most kMaxHeldLocks, the
 * kernel's MAX_LOCK_DEPTH), the lock it waits for and the atomic (spinlock) depth. On every acquire
 * it checks, like the kernel's `lock_acquire`:
 * - recursion: a class already held ("possible recursive locking detected");
 * - sleeping in atomic context: a sleeping lock while a spinlock is held;
 * - lock order: it learns the edge (class on top of the stack) -> (class being taken), with the
 *   classes held under it as the edge's gate, into the shared edge table (edge-table.ts), where the
 *   main thread looks for cycles (lock-order-graph.ts).
 * It also keeps lock_stat counters per class: acquisitions, contentions, max wait, max hold.
 *
 * Misuse is logged as findings, never thrown: lockdep prints and goes on.
 *
 * Cost: this is on every tracked lock and unlock, so its fields are written with plain stores
 * (only this thread writes them; the watchdog confirms what it reads with a second snapshot), the
 * counts are per thread, and the clock (~45 ns a read here) is read on every contended wait but
 * only on one acquisition in {@link kHoldSampleEvery} for hold times. A held entry that was not
 * timed has since = -1. The classes held are read off the held stack at each nested acquire (it is
 * shallow, and the walk is needed anyway for the recursion check) instead of being kept in a mask.
 */
import {
  type SharedMemory,
  classBase,
  heldBase,
  kClassMaxHoldUs,
  kClassMaxWaitUs,
  kHeaderBarrierParties,
  kHeldLock,
  kHeldSinceUs,
  kHeldSite,
  kHeldWords,
  kMaxHeldLocks,
  kThreadAtomicDepth,
  kThreadCurrentOp,
  kThreadDepth,
  kThreadOpEpoch,
  kThreadWaitEpoch,
  kThreadWaitingLock,
  kThreadWaitingSinceUs,
  kThreadWaitingSite,
  kStatAcquisitions,
  kStatContentions,
  kStatWords,
  overlapIndex,
  threadBase,
  threadStatBase,
} from '../layout.js';
import { LimitError } from '../errors.js';
import type { LockObserver } from '../primitives/lock-observer.js';
import type { FindingLog } from '../primitives/finding-log.js';
import type { StringTable } from '../primitives/string-table.js';
import { classSleeps, lockClassOf, lockNameOf, lockOwnerOf } from '../primitives/lock-table.js';
import { SharedEdgeTable } from './edge-table.js';
import { EventRing } from '../primitives/event-ring.js';

/** One acquisition in this many is timed for lock_stat's max hold (a power of two). */
export const kHoldSampleEvery = 32;

export class LockTracker implements LockObserver {
  private readonly i32: Int32Array;
  private readonly base: number;
  /** Class of each lock id, read once (lock records never change after setup). */
  private readonly classOf: Int32Array;
  private readonly sleepsOf: Int8Array;
  /** Word index of held-stack entry 0, and of this thread's lock_stat record of class 0. */
  private readonly heldStack: number;
  private readonly statBase: number;
  /** Scratch: the classes of the held stack, bottom first, filled by willAcquire. */
  private readonly heldClasses = new Int32Array(kMaxHeldLocks);
  private readonly edges: SharedEdgeTable;
  /** The last two sites interned: call sites pass the same string objects again and again. */
  private lastSite = '';
  private lastSiteId = 0;
  private prevSite = '';
  private prevSiteId = 0;
  private acquisitions = 0;
  /** This thread's event ring (primitives/event-ring.ts): its last lock events, for reports. */
  readonly events: EventRing;

  constructor(
    private readonly memory: SharedMemory,
    private readonly strings: StringTable,
    private readonly log: FindingLog,
    readonly thread: number,
  ) {
    this.i32 = memory.i32;
    this.base = threadBase(memory.layout, thread);
    this.classOf = new Int32Array(memory.layout.capacities.locks).fill(-1);
    this.sleepsOf = new Int8Array(memory.layout.capacities.classes).fill(-1);
    this.heldStack = heldBase(memory.layout, thread, 0);
    this.statBase = threadStatBase(memory.layout, thread, 0);
    this.edges = new SharedEdgeTable(memory, thread, (site) => this.site(site));
    this.events = new EventRing(memory, thread);
  }

  // ---- LockObserver --------------------------------------------------------------------------

  willAcquire(lockId: number, site: string): void {
    const { i32, base } = this;
    const cls = this.lockClass(lockId);
    const depth = i32[base + kThreadDepth] ?? 0;
    if (this.sleeps(cls) && (i32[base + kThreadAtomicDepth] ?? 0) > 0) {
      this.log.log('sleep-in-atomic', this.thread, { lock: lockId, site: this.site(site), spinlock: this.topSpinLock() });
    }
    if (depth === 0) return;
    // Checked before the attempt, so the lock is not taken (acquiredByTry checks in push).
    if (depth >= kMaxHeldLocks) throw this.tooDeep(lockId, site);
    const held = this.heldClasses;
    let entry = this.heldStack;
    for (let d = 0; d < depth; d++, entry += kHeldWords) {
      const heldLock = i32[entry + kHeldLock] ?? 0;
      const heldClass = this.lockClass(heldLock);
      if (heldClass === cls) {
        this.log.log('recursive-lock', this.thread, { lock: lockId, site: this.site(site), heldLock, heldSite: i32[entry + kHeldSite] ?? 0 });
        // Like the kernel's check_deadlock(): a recursive acquisition adds no dependency.
        return;
      }
      held[d] = heldClass;
    }
    // The edge (top of the stack) -> cls; the classes under the top are its gate candidates.
    const fromSite = i32[entry - kHeldWords + kHeldSite] ?? 0;
    this.edges.sight(held[depth - 1] ?? 0, cls, held, depth - 1, fromSite, site);
  }

  contended(lockId: number, site: string): number {
    const { i32, base } = this;
    const now = this.memory.nowUs();
    this.events.contended(lockId, this.site(site), now);
    const stat = threadStatBase(this.memory.layout, this.thread, this.lockClass(lockId)) + kStatContentions;
    i32[stat] = (i32[stat] ?? 0) + 1;
    Atomics.store(i32, base + kThreadWaitingSite, this.site(site));
    Atomics.store(i32, base + kThreadWaitingSinceUs, now);
    Atomics.add(i32, base + kThreadWaitEpoch, 1);
    // Published last: the watchdog reads the lock first, then trusts site, since and epoch.
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
    const cls = this.lockClass(lockId);
    // A wait was timed anyway; otherwise time one acquisition in kHoldSampleEvery.
    const timed = waitStartUs >= 0 || (this.acquisitions++ & (kHoldSampleEvery - 1)) === 0;
    const now = timed ? this.memory.nowUs() : -1;
    if (waitStartUs >= 0) {
      Atomics.store(this.i32, this.base + kThreadWaitingLock, 0);
      raiseMax(this.i32, classBase(this.memory.layout, cls) + kClassMaxWaitUs, now - waitStartUs);
    }
    this.push(lockId, cls, site, now);
    this.events.acquired(lockId, this.site(site), now, waitStartUs >= 0);
    if (this.i32[this.base + kThreadCurrentOp] !== 0) this.sampleOverlap();
  }

  acquiredByTry(lockId: number, site: string): void {
    this.push(lockId, this.lockClass(lockId), site, -1);
    this.events.tryLocked(lockId, this.site(site));
  }

  willRelease(lockId: number, site: string): boolean {
    const { i32, base } = this;
    const depth = i32[base + kThreadDepth] ?? 0;
    for (let d = depth - 1; d >= 0; d--) {
      const entry = heldBase(this.memory.layout, this.thread, d);
      if (i32[entry + kHeldLock] !== lockId) continue;
      const cls = this.lockClass(lockId);
      const since = i32[entry + kHeldSinceUs] ?? -1;
      if (since >= 0) raiseMax(i32, classBase(this.memory.layout, cls) + kClassMaxHoldUs, this.memory.nowUs() - since);
      // Out-of-order unlock is legal: close the gap.
      for (let k = d; k < depth - 1; k++) {
        const to = heldBase(this.memory.layout, this.thread, k);
        for (let w = 0; w < kHeldWords; w++) i32[to + w] = i32[to + kHeldWords + w] ?? 0;
      }
      i32[base + kThreadDepth] = depth - 1;
      if (!this.sleeps(cls)) i32[base + kThreadAtomicDepth] = (i32[base + kThreadAtomicDepth] ?? 1) - 1;
      this.events.released(lockId, this.site(site));
      return true;
    }
    this.log.log('bad-unlock', this.thread, { lock: lockId, site: this.site(site), owner: lockOwnerOf(this.memory, lockId) });
    return false;
  }

  assertHeld(lockId: number, site: string): void {
    if (this.holds(lockId)) return;
    this.log.log('lock-not-held', this.thread, { lock: lockId, site: this.site(site) });
  }

  mightSleep(site: string): void {
    if ((this.i32[this.base + kThreadAtomicDepth] ?? 0) > 0) {
      this.log.log('sleep-in-atomic', this.thread, { lock: -1, site: this.site(site), spinlock: this.topSpinLock() });
    }
  }

  // ---- Operations (for overlap coverage and reports) -----------------------------------------

  /** The thread starts operation `op` (index into the scenario's op list). */
  beginOp(op: number): void {
    Atomics.store(this.i32, this.base + kThreadCurrentOp, op + 1);
    Atomics.add(this.i32, this.base + kThreadOpEpoch, 1);
    this.sampleOverlap();
  }

  endOp(): void {
    this.sampleOverlap();
    Atomics.store(this.i32, this.base + kThreadCurrentOp, 0);
  }

  /** Whether this thread holds `lockId`. */
  holds(lockId: number): boolean {
    const depth = this.i32[this.base + kThreadDepth] ?? 0;
    for (let d = 0; d < depth; d++) {
      if (this.i32[heldBase(this.memory.layout, this.thread, d) + kHeldLock] === lockId) return true;
    }
    return false;
  }

  /** Forgets everything this thread held or waited for (after an aborted round). */
  reset(): void {
    const { i32, base } = this;
    for (const field of [kThreadDepth, kThreadWaitingLock, kThreadAtomicDepth, kThreadCurrentOp]) {
      Atomics.store(i32, base + field, 0);
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private push(lockId: number, cls: number, site: string, sinceUs: number): void {
    const { i32, base } = this;
    const depth = i32[base + kThreadDepth] ?? 0;
    if (depth >= kMaxHeldLocks) throw this.tooDeep(lockId, site);
    const entry = this.heldStack + depth * kHeldWords;
    // Plain stores: only this thread writes its record (see the file comment).
    i32[entry + kHeldSite] = this.site(site);
    i32[entry + kHeldSinceUs] = sinceUs;
    i32[entry + kHeldLock] = lockId;
    i32[base + kThreadDepth] = depth + 1;
    if (!this.sleeps(cls)) i32[base + kThreadAtomicDepth] = (i32[base + kThreadAtomicDepth] ?? 0) + 1;
    const stat = this.statBase + cls * kStatWords + kStatAcquisitions;
    i32[stat] = (i32[stat] ?? 0) + 1;
  }

  /** The error for one lock more than kMaxHeldLocks (with a trylock, the lock is already taken). */
  private tooDeep(lockId: number, site: string): LimitError {
    return new LimitError(
      `thread ${this.thread} already holds ${kMaxHeldLocks} locks and takes ${lockNameOf(this.memory, this.strings, lockId)} at ${site || '?'}: ` +
        `lockstress's limit is ${kMaxHeldLocks} held locks (the kernel's MAX_LOCK_DEPTH)`,
    );
  }

  private topSpinLock(): number {
    const depth = this.i32[this.base + kThreadDepth] ?? 0;
    for (let d = depth - 1; d >= 0; d--) {
      const lockId = this.i32[heldBase(this.memory.layout, this.thread, d) + kHeldLock] ?? 0;
      if (!this.sleeps(this.lockClass(lockId))) return lockId;
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
    let cls = this.classOf[lockId] ?? -1;
    if (cls < 0) {
      cls = lockClassOf(this.memory, lockId);
      this.classOf[lockId] = cls;
    }
    return cls;
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

function raiseMax(i32: Int32Array, index: number, value: number): void {
  let seen = Atomics.load(i32, index);
  while (value > seen) {
    const before = Atomics.compareExchange(i32, index, seen, value);
    if (before === seen) return;
    seen = before;
  }
}
