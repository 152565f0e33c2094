/**
 * The one place that defines lockstress's shared memory.
 *
 * Every word index, record size and alignment lives here, and so does the allocator that places the
 * regions inside one SharedArrayBuffer. No other file passes a numeric offset to `Atomics`: other
 * files name a field from this file (`kLockState`) and add it to a record base computed here.
 *
 * The layout is a pure function of the {@link Capacities}. The main thread and every worker compute
 * it from the same capacities, so nothing about positions has to be sent between threads.
 *
 * All records are Int32 words (4 bytes). Times are whole microseconds since the run epoch
 * (`kHeaderEpochMs`, a float64 written once by the main thread), so they fit a word for 35 minutes.
 */

/** How many of each thing the buffer holds. Fixed when the buffer is made. */
export interface Capacities {
  /** Worker threads plus one slot for the main thread (see {@link mainThreadIndex}). */
  threads: number;
  /** Lock instances (mutexes, spinlocks, ticket spinlocks). */
  locks: number;
  /** Refcounts. */
  refcounts: number;
  /** Object slots (the slab that poisons freed objects). */
  objects: number;
  /** Plain shared words a scenario declares (pointers, counters). */
  words: number;
  /** Findings records the workers can log between two drains by the main thread. */
  findings: number;
  /** Strings in the shared string table (sites, names). */
  strings: number;
  /** Bytes of UTF-8 in the shared string table. */
  stringBytes: number;
  /** Operation kinds a scenario declares (for overlap coverage). */
  ops: number;
}

export const kDefaultCapacities: Capacities = {
  threads: 65,
  locks: 64,
  refcounts: 32,
  objects: 64,
  words: 128,
  findings: 4096,
  strings: 4096,
  stringBytes: 256 * 1024,
  ops: 32,
};

/** Lock classes are bit positions in one Int32 mask, so there are at most 32. */
export const kMaxLockClasses = 32;
/** Locks one thread may hold at once (the kernel's MAX_LOCK_DEPTH is 48; our paths need far fewer). */
export const kMaxHeldLocks = 16;
/** Distinct holders a refcount's ledger tracks (like ref_tracker's per-holder entries). */
export const kMaxRefHolders = 8;

// ---------------------------------------------------------------------------------------------
// Header: run control. One record at word 0.
/** Non-zero: tear the round down. Every wait in lockstress rechecks it and gives up. */
export const kHeaderAbort = 0;
/** Current round number (written by the main thread before a round starts). */
export const kHeaderRound = 1;
/** Next lock-order edge sequence number (edges are numbered in the order they were learned). */
export const kHeaderEdgeSeq = 2;
/** Findings logged so far (may exceed the capacity: the excess is counted, not stored). */
export const kHeaderFindingCount = 3;
/** Findings the main thread has drained. */
export const kHeaderFindingDrained = 4;
/** Spinlock word guarding the string table's appends. */
export const kHeaderStringLock = 5;
/** Strings in the table. */
export const kHeaderStringCount = 6;
/** UTF-8 bytes used in the table. */
export const kHeaderStringBytes = 7;
/** Lock classes registered. */
export const kHeaderClassCount = 8;
/**
 * Threads inside a shared word's `waitFor`. Writers of shared words notify only while it is
 * non-zero: a notify costs more than the store, and most writes have no waiter.
 */
export const kHeaderWordWaiters = 9;
/** Float64 run epoch (Date-free wall clock: performance.timeOrigin + performance.now()), words 10-11. */
export const kHeaderEpochMs = 10;
/** Barrier: threads arrived in the current phase. */
export const kHeaderBarrierCount = 12;
/** Barrier: phase number; waiters sleep on it and the last arrival bumps it. */
export const kHeaderBarrierPhase = 13;
/** Barrier: how many threads it waits for. */
export const kHeaderBarrierParties = 14;
/**
 * Rounds in the workers (runner/variant-task.ts): non-zero once the main thread wants the variant
 * to end; thread 0 ends it at the next round boundary.
 */
export const kHeaderStop = 16;
/** Non-zero: the variant is over; every thread returns at the next round start or release. */
export const kHeaderDone = 17;
/** Bumped by the main thread to release the threads parked after a teardown. */
export const kHeaderRelease = 18;
/** Findings not stored because the log was full (the ring held kFindingCapacity undrained). */
export const kHeaderFindingDropped = 19;
/** Header size in words (a multiple of 2, so the region after it is 8-byte aligned). */
export const kHeaderWords = 32;

// ---------------------------------------------------------------------------------------------
// Lock record: one per lock instance.
/**
 * FutexMutex: `(owner << 1) | waitersBit`, 0 when unlocked. TTAS spinlock: owner, 0 when unlocked.
 * Ticket spinlock: the ticket now served.
 */
export const kLockState = 0;
/** Ticket spinlock: the next ticket to hand out. */
export const kLockNextTicket = 1;
/** Owner code (thread index + 1) for lock kinds whose state word does not hold it; 0 = none. */
export const kLockOwner = 2;
/** Lock class id (index into the class table). */
export const kLockClass = 3;
/** {@link LockKind} code. */
export const kLockKind = 4;
/** String id of the instance name (`group_lock#0`). */
export const kLockName = 5;
/** Ticket spinlock: waiters sleeping in a timed wait on kLockState (unlock wakes them if any). */
export const kLockSleepers = 6;
export const kLockWords = 8;

/** Lock kind codes in kLockKind. A plain object, not a const enum, so compiled JS can import it. */
export const LockKind = { Mutex: 1, SpinLock: 2, TicketSpinLock: 3 } as const;
export type LockKind = (typeof LockKind)[keyof typeof LockKind];

// ---------------------------------------------------------------------------------------------
// Lock class record: name and the lock_stat maxima, one per class. (The counts are per thread,
// below, so that an uncontended acquire writes only to its own thread's cache lines.)
export const kClassName = 0;
export const kClassMaxWaitUs = 3;
export const kClassMaxHoldUs = 4;
/** 1 if locks of this class may sleep (mutex), 0 for spinning locks. */
export const kClassSleeps = 5;
export const kClassWords = 8;

// ---------------------------------------------------------------------------------------------
// Per-thread record: what the thread holds and what it waits for. Read by the watchdog.
/** How many entries of the held stack are valid. */
export const kThreadDepth = 0;
/** Lock id + 1 the thread is blocked on; 0 when not waiting. */
export const kThreadWaitingLock = 1;
/** When the wait began (µs since epoch). */
export const kThreadWaitingSinceUs = 2;
/** String id of the site of the wait. */
export const kThreadWaitingSite = 3;
/** Spinlocks held (atomic context depth). */
export const kThreadAtomicDepth = 4;
/** Bit mask of the lock classes held. */
export const kThreadHeldClassMask = 5;
/**
 * What the thread is running: operation index + 1 inside an op, 0 between ops, or a negative
 * {@link ThreadStep} for the other scenario code a round runs (read by the runaway check and the
 * hung-task dump).
 */
export const kThreadCurrentOp = 6;
/** Bumped at every operation start, so the main thread can tell two runs of one op apart. */
export const kThreadOpEpoch = 7;
/**
 * The release generation this thread waits for while parked after a teardown, + 1; 0 while it
 * runs rounds. The main thread waits until every live thread is parked before it resets anything.
 */
export const kThreadParked = 10;
/**
 * Bumped before each wait is published (kThreadWaitingLock): one value per wait, so the watchdog
 * can tell that a thread stayed in the same wait between two reads (see wait-for-graph.ts).
 */
export const kThreadWaitEpoch = 8;
/**
 * Bumped (plain store, by its thread only) at every scheduling point: lock, unlock, shared word,
 * refcount and object operations, wait slices. The watchdog tells a runaway op by a progress word
 * that stops moving while the thread is inside an op and not waiting.
 */
export const kThreadProgress = 9;
/** First held-stack entry. Entry i is at kThreadHeld + i * kHeldWords. */
export const kThreadHeld = 12;
export const kHeldLock = 0;
export const kHeldSite = 1;
export const kHeldSinceUs = 2;
export const kHeldWords = 3;
export const kThreadWords = kThreadHeld + kMaxHeldLocks * kHeldWords;

// ---------------------------------------------------------------------------------------------
// Per-thread event ring (primitives/event-ring.ts): the thread's last kEventRingEntries lock, refcount,
// word-wait and op events, like one CPU's ftrace ring. Only the owning thread writes its ring
// (plain stores); the main thread reads it at any time and drops torn entries. One ring record per
// thread: a header, the entries, then a snapshot of the last kEventSnapshotEntries entries that the
// thread copies when it logs a finding (so the report still has them after the ring moved on).
/** Events in one thread's ring (a power of two). */
export const kEventRingEntries = 64;
/** Entries copied into the snapshot when the thread logs a finding. */
export const kEventSnapshotEntries = 16;
/** Ring header: the number of the last event written (events are numbered 1, 2, ...; 0 = none). */
export const kEventHead = 0;
/** Ring header: the finding-log index + 1 whose events the snapshot holds; 0 = the snapshot is free. */
export const kEventSnapshotOwner = 1;
export const kEventHeaderWords = 8;
/** Entry: the event number, written first (an entry being written has begin != end). */
export const kEventBegin = 0;
/** Entry: kind | id << kEventIdShift (kind codes: primitives/event-ring.ts EventKind). */
export const kEventKindId = 1;
/** Entry: string id of the site. */
export const kEventSite = 2;
/** Entry: µs since the run epoch, or -1 when the event was not timed. */
export const kEventTimeUs = 3;
/**
 * Entry: a kind-specific value (the count after a refcount get or put, the value a wait wants,
 * the round of a round start). Lock events leave it unwritten: a store less on the hot path.
 */
export const kEventValue = 4;
/** Entry: the event number again, written last: begin === end means the entry is whole. */
export const kEventEnd = 7;
export const kEventWords = 8;
export const kEventIdShift = 5;
export const kEventRingWords = kEventHeaderWords + (kEventRingEntries + kEventSnapshotEntries) * kEventWords;

/** kThreadCurrentOp values outside operations. */
export const ThreadStep = { Idle: 0, Plan: -1, Setup: -2, Finish: -3, Checks: -4 } as const;
export type ThreadStep = (typeof ThreadStep)[keyof typeof ThreadStep];

// ---------------------------------------------------------------------------------------------
// Per-thread lock_stat counts: a kMaxLockClasses array of records per thread. Only the owning
// thread writes them (plain stores); readers sum over threads.
export const kStatAcquisitions = 0;
export const kStatContentions = 1;
export const kStatWords = 2;

// ---------------------------------------------------------------------------------------------
// Lock-order graph: a kMaxLockClasses x kMaxLockClasses matrix of edge records, keyed (from, to).
/** Sequence number + 1 when the edge exists; 0 = no edge. The first writer claims it by CAS. */
export const kEdgeSeq = 0;
/** Site where `from` was taken (the first time this edge was seen). */
export const kEdgeFromSite = 1;
/** Site where `to` was taken. */
export const kEdgeToSite = 2;
/** Thread that first made the edge. */
export const kEdgeThread = 3;
/** Classes held under both ends every time this edge was seen (ANDed): a non-zero mask is a gate. */
export const kEdgeGateMask = 4;
/** Round in which the edge was first seen. */
export const kEdgeRound = 5;
/** 1 once the fields above are written (readers skip half-written edges). */
export const kEdgeReady = 6;
export const kEdgeWords = 8;

// ---------------------------------------------------------------------------------------------
// Refcount record: refcount_t plus a ledger of who holds references (like the kernel's ref_tracker).
export const kRefCount = 0;
/** String id of the object name (`kvm#0 users_count`). */
export const kRefName = 1;
/** Ledger entry i is at kRefLedger + i * kRefHolderWords. */
export const kRefLedger = 2;
/** String id of the holder tag; 0 = free entry. */
export const kRefHolderTag = 0;
/** Net references this holder took (gets minus puts). */
export const kRefHolderNet = 1;
/** String id of the site of the holder's last get. */
export const kRefHolderLastGetSite = 2;
export const kRefHolderWords = 3;
export const kRefWords = kRefLedger + kMaxRefHolders * kRefHolderWords;

// ---------------------------------------------------------------------------------------------
// Object slot: the slab. A pointer is (slot, generation); a freed slot is poisoned.
export const kObjGeneration = 0;
/** {@link ObjState} code. */
export const kObjState = 1;
/** String id of the object's type (`struct kvm`). */
export const kObjType = 2;
/** String id of the site that created the object. */
export const kObjCreatedSite = 3;
/** String id of the site that freed it. */
export const kObjFreedSite = 4;
/** How many times the current generation was freed (more than once is a double free). */
export const kObjFrees = 5;
export const kObjWords = 6;

export const ObjState = { Free: 0, Live: 1, Poisoned: 2 } as const;
export type ObjState = (typeof ObjState)[keyof typeof ObjState];

// ---------------------------------------------------------------------------------------------
// Findings log: fixed-size records the workers append and the main thread drains.
export const kFindingKind = 0;
export const kFindingRound = 1;
export const kFindingThread = 2;
/** Four kind-specific arguments (ids of locks, strings, refcounts, counts). */
export const kFindingArg0 = 3;
export const kFindingArgCount = 5;
export const kFindingWords = 8;

// ---------------------------------------------------------------------------------------------
// String table: an index of (offset, length) pairs, then the UTF-8 bytes.
export const kStringOffset = 0;
export const kStringLength = 1;
export const kStringWords = 2;

// ---------------------------------------------------------------------------------------------
// Overlap coverage: an ops x ops matrix; cell (a, b) is 1 once op a was seen running while b ran
// on another thread.
export const kOverlapWords = 1;

/** Absolute word bases of every region, computed from the capacities. */
export interface Layout {
  readonly capacities: Capacities;
  readonly header: number;
  readonly locks: number;
  readonly classes: number;
  readonly threads: number;
  readonly threadStats: number;
  readonly edges: number;
  readonly refcounts: number;
  readonly objects: number;
  readonly words: number;
  readonly findings: number;
  readonly stringIndex: number;
  readonly overlap: number;
  /** Per-thread event rings, kEventRingWords each. */
  readonly events: number;
  /** Byte offset of the string bytes (after all word regions). */
  readonly stringBytesOffset: number;
  readonly totalBytes: number;
}

/** Places every region, in a fixed order, each aligned to 8 bytes (2 words). */
export function computeLayout(capacities: Capacities): Layout {
  let next = 0;
  const take = (words: number): number => {
    const base = next;
    next += words + (words % 2);
    return base;
  };
  const header = take(kHeaderWords);
  const locks = take(capacities.locks * kLockWords);
  const classes = take(kMaxLockClasses * kClassWords);
  const threads = take(capacities.threads * kThreadWords);
  const threadStats = take(capacities.threads * kMaxLockClasses * kStatWords);
  const edges = take(kMaxLockClasses * kMaxLockClasses * kEdgeWords);
  const refcounts = take(capacities.refcounts * kRefWords);
  const objects = take(capacities.objects * kObjWords);
  const words = take(capacities.words);
  const findings = take(capacities.findings * kFindingWords);
  const stringIndex = take(capacities.strings * kStringWords);
  const overlap = take(capacities.ops * capacities.ops * kOverlapWords);
  const events = take(capacities.threads * kEventRingWords);
  const stringBytesOffset = next * 4;
  const totalBytes = stringBytesOffset + capacities.stringBytes;
  return {
    capacities: { ...capacities },
    header,
    locks,
    classes,
    threads,
    threadStats,
    edges,
    refcounts,
    objects,
    words,
    findings,
    stringIndex,
    overlap,
    events,
    stringBytesOffset,
    totalBytes: totalBytes + ((8 - (totalBytes % 8)) % 8),
  };
}

/** Record bases. */
export const lockBase = (l: Layout, lockId: number): number => l.locks + lockId * kLockWords;
export const classBase = (l: Layout, classId: number): number => l.classes + classId * kClassWords;
export const threadBase = (l: Layout, thread: number): number => l.threads + thread * kThreadWords;
export const heldBase = (l: Layout, thread: number, depth: number): number =>
  threadBase(l, thread) + kThreadHeld + depth * kHeldWords;
export const threadStatBase = (l: Layout, thread: number, classId: number): number =>
  l.threadStats + (thread * kMaxLockClasses + classId) * kStatWords;
export const edgeBase = (l: Layout, from: number, to: number): number =>
  l.edges + (from * kMaxLockClasses + to) * kEdgeWords;
export const refBase = (l: Layout, refId: number): number => l.refcounts + refId * kRefWords;
export const refHolderBase = (l: Layout, refId: number, holder: number): number =>
  refBase(l, refId) + kRefLedger + holder * kRefHolderWords;
export const objectBase = (l: Layout, slot: number): number => l.objects + slot * kObjWords;
export const wordIndex = (l: Layout, word: number): number => l.words + word;
export const findingBase = (l: Layout, n: number): number => l.findings + n * kFindingWords;
export const stringIndexBase = (l: Layout, id: number): number => l.stringIndex + id * kStringWords;
export const overlapIndex = (l: Layout, a: number, b: number): number =>
  l.overlap + a * l.capacities.ops + b;
/** Base of a thread's event ring (its header); entry e is at + kEventHeaderWords + e * kEventWords. */
export const eventRingBase = (l: Layout, thread: number): number => l.events + thread * kEventRingWords;

/** The main thread's slot in the per-thread table: the last one. Workers use 0..threads-2. */
export const mainThreadIndex = (l: Layout): number => l.capacities.threads - 1;

/**
 * The views every thread uses over one buffer. Made once per thread per buffer; holds no state of
 * its own beyond the views.
 */
export class SharedMemory {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  readonly layout: Layout;

  constructor(
    readonly buffer: SharedArrayBuffer,
    capacities: Capacities,
  ) {
    this.layout = computeLayout(capacities);
    if (buffer.byteLength < this.layout.totalBytes) {
      throw new RangeError(
        `shared buffer of ${buffer.byteLength} bytes is smaller than the layout's ${this.layout.totalBytes}`,
      );
    }
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer, 0, Math.floor(buffer.byteLength / 8));
    this.u8 = new Uint8Array(buffer);
  }

  /** Makes a zeroed buffer for the capacities and stamps the epoch. Main thread only. */
  static create(capacities: Capacities = kDefaultCapacities): SharedMemory {
    const layout = computeLayout(capacities);
    const memory = new SharedMemory(new SharedArrayBuffer(layout.totalBytes), capacities);
    memory.f64[kHeaderEpochMs / 2] = wallClockMs();
    return memory;
  }

  /** This thread's performance.timeOrigin minus the run epoch, read once (both are fixed). */
  private originMinusEpochMs = Number.NaN;

  /** Microseconds since the run epoch, as a word. */
  nowUs(): number {
    if (Number.isNaN(this.originMinusEpochMs)) {
      this.originMinusEpochMs = performance.timeOrigin - (this.f64[kHeaderEpochMs / 2] ?? 0);
    }
    return ((performance.now() + this.originMinusEpochMs) * 1000) | 0;
  }

  isAborted(): boolean {
    return Atomics.load(this.i32, this.layout.header + kHeaderAbort) !== 0;
  }

  round(): number {
    return Atomics.load(this.i32, this.layout.header + kHeaderRound);
  }
}

/** A clock that agrees across threads (each worker's performance.now() has its own origin). */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

// ---------------------------------------------------------------------------------------------
// The bench crew's control block (bench/crew.ts, bench/bench-worker-loop.ts): a small
// SharedArrayBuffer of its own, apart from the SharedMemory that holds the measured lock or the
// vfio/kvm world, so the handshake never overwrites the scenario's words.
/** Bumped by the main thread to start a burst; workers wait on it. */
export const kBenchGo = 0;
/** Workers that finished the current burst; the main thread waits on it. */
export const kBenchDone = 1;
/** Non-zero: workers leave their loop and exit. */
export const kBenchStop = 2;
/** Handoff suites: whose turn it is (0 or 1). */
export const kBenchTurn = 3;
/** Contended suites: the word the critical section increments. */
export const kBenchCounter = 4;
/** Handoff suites: set by thread 0 when its burst time is up, so thread 1 stops waiting for its turn. */
export const kBenchHandoffEnd = 5;
/** Per-thread results start here: acquisitions, then elapsed ns, for each thread. */
export const kBenchThreadResults = 8;
export const kBenchResultCount = 0;
export const kBenchResultElapsedNs = 1;
export const kBenchResultWords = 2;

export const benchResultBase = (thread: number): number => kBenchThreadResults + thread * kBenchResultWords;

export function createBenchControlBlock(maxThreads: number): Int32Array {
  const words = kBenchThreadResults + maxThreads * kBenchResultWords;
  return new Int32Array(new SharedArrayBuffer(words * Int32Array.BYTES_PER_ELEMENT));
}
