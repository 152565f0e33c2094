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
import { LimitError } from './errors.js';

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
  /**
   * Lock classes (lockdep's `lock_class`): the class table, and the per-thread lock_stat records
   * (`threads x classes`). Defining one more throws a LimitError. At most {@link kMaxLockClassesLimit}.
   */
  classes: number;
  /**
   * Slots of the shared lock-order edge table (src/lockdep/edge-table.ts), rounded up to a power of
   * two. An edge the full table cannot take is counted in {@link kHeaderEdgesDropped}, not stored.
   * Keep it at least twice the edges a scenario can make (open addressing slows when nearly full).
   * At most {@link kMaxEdgesLimit}.
   */
  edges: number;
  /** Scheduling decisions a controlled round can record (schedule region). */
  scheduleSteps: number;
  /**
   * Per-op timing (the bench's timed mix, src/runner/op-timing.ts): op durations each thread can
   * record in one variant. 0 (the default) means timing is off and the region takes no room.
   */
  opTimingSamples: number;
  /** Completions (`struct completion`): wait_for_completion / complete. */
  completions: number;
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
  classes: 1024,
  edges: 16384,
  scheduleSteps: 8192,
  opTimingSamples: 0,
  completions: 16,
};

/**
 * Hard limit of {@link Capacities.classes}: lockdep's own MAX_LOCKDEP_KEYS (8192). Class ids are
 * below it, so an edge key `from * kMaxLockClassesLimit + to` fits 26 bits.
 */
export const kMaxLockClassesLimit = 8192;
/**
 * Hard limit of {@link Capacities.edges}: 2^18 slots (19 MB of edge records). The kernel's table
 * of dependencies holds 2^15 (MAX_LOCKDEP_ENTRIES with CONFIG_LOCKDEP_BITS=15).
 */
export const kMaxEdgesLimit = 1 << 18;
/** Hard limit of {@link Capacities.opTimingSamples}: 2^20 samples (8 MB) per thread. */
export const kMaxOpTimingSamples = 1 << 20;
/** Locks one thread may hold at once: the kernel's MAX_LOCK_DEPTH. */
export const kMaxHeldLocks = 48;
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
/**
 * Lock-order edges the full edge table could not store, counted once per thread that met each
 * (so an upper bound on the distinct edges lost; any non-zero value means the order graph is
 * incomplete and a cycle may have gone unseen).
 */
export const kHeaderEdgesDropped = 28;
/** Bumped after every gate narrowing of a stored edge (the main thread then looks for dirty edges). */
export const kHeaderEdgeGateChanges = 29;
/** Bumped by every reset of the edge table, so a reader can tell its edges are gone. */
export const kHeaderEdgeGeneration = 30;
/**
 * Bumped after a lock class gains an irq usage bit (kClassUsage), so the main thread looks for
 * irq lock inversions only when something changed (lockdep/irq-usage.ts).
 */
export const kHeaderUsageChanges = 20;
/** Spinlock word guarding the lazy definition of subclass classes by workers (lock-table.ts). */
export const kHeaderClassLock = 21;
/**
 * Rounds in the next rendezvous under a stride (variant-task.ts): 1 at a variant's start and
 * after a teardown, doubled by thread 0 after each rendezvous that ran to its end, up to the stride.
 */
export const kHeaderBatch = 22;
/** Header size in words (a multiple of 2, so the region after it is 8-byte aligned). */
export const kHeaderWords = 32;

// ---------------------------------------------------------------------------------------------
// Lock record: one per lock instance.
/**
 * FutexMutex: `(owner << 1) | waitersBit`, 0 when unlocked. TTAS spinlock: owner, 0 when unlocked.
 * Ticket spinlock: the ticket now served. rwsem and rwlock: readers, waiting writers and the
 * writer bit (rw-semaphore.ts).
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
/**
 * Ticket spinlock and rwsem: waiters sleeping in a wait on kLockState (unlock wakes them if any).
 */
export const kLockSleepers = 6;
/** {@link LockFlag} bits set at definition (a queued rwlock). */
export const kLockFlags = 7;
export const kLockWords = 8;

/** Lock kind codes in kLockKind. A plain object, not a const enum, so compiled JS can import it. */
export const LockKind = { Mutex: 1, SpinLock: 2, TicketSpinLock: 3, RwSemaphore: 4, RwLock: 5 } as const;
export type LockKind = (typeof LockKind)[keyof typeof LockKind];

/** kLockFlags bits. */
export const LockFlag = {
  /**
   * A queued rwlock (CONFIG_QUEUED_RWLOCKS): readers outside interrupt context wait behind a
   * waiting writer, so lockdep treats their read_lock as non-recursive.
   */
  Queued: 1,
} as const;

// ---------------------------------------------------------------------------------------------
// Lock class record: name, identity, lock_stat maxima, irq usage, one per class, capacities.classes
// of them. (The lock_stat counts are per thread, below, so that an uncontended acquire writes only
// to its own thread's cache lines.)
/** String id of the name reports print (`kvm->lock`, `fork/1` for a subclass, `fork#2` for a second key). */
export const kClassName = 0;
/** String id of the class's identity (name, or name and lockdep_set_class key): dedupes definitions. */
export const kClassKey = 1;
/** Subclass classes: the base class id + 1 (and the subclass in kClassSubclass); 0 for a base class. */
export const kClassBase = 2;
export const kClassMaxWaitUs = 3;
export const kClassMaxHoldUs = 4;
/** 1 if locks of this class may sleep (mutex, rwsem, completion), 0 for spinning locks. */
export const kClassSleeps = 5;
/** lockdep's usage_mask: {@link UsageBit} bits, only ever set (Atomics.or). */
export const kClassUsage = 6;
/** {@link ClassKind}: a lock class or a completion's (DEPT-style wait/event) class. */
export const kClassKind = 7;
/** Subclass s (1..kMaxSubclasses-1) of a base class: its class id + 1, 0 until defined. */
export const kClassSubclass = 8;
/** Subclasses per class: lockdep's MAX_LOCKDEP_SUBCLASSES. */
export const kMaxSubclasses = 8;
/** Per usage bit b: site string id + 1 of the acquisition that first set it (lockdep's usage_traces). */
export const kClassUsageSite = 16;
/** Per usage bit b: kHeaderEdgeSeq when it was set (orders it against edges for the report). */
export const kClassUsageSeq = 24;
/** Per usage bit b: thread + 1 that set it. */
export const kClassUsageThread = 32;
/** Usage bits per class (hardirq and softirq, used-in and enabled, write and read). */
export const kUsageBits = 8;
export const kClassWords = 40;

export const ClassKind = { Lock: 0, Completion: 1 } as const;
export type ClassKind = (typeof ClassKind)[keyof typeof ClassKind];

/**
 * lockdep's lock usage bits (LOCK_USED_IN_HARDIRQ ...), as bit numbers of kClassUsage. Bit 0 of the
 * number is READ, bit 1 the direction (0 used in irq, 1 enabled), bit 2 the state (hardirq, softirq),
 * as the kernel encodes them (LOCK_USAGE_READ_MASK, LOCK_USAGE_DIR_MASK).
 */
export const UsageBit = {
  UsedInHardirq: 0,
  UsedInHardirqRead: 1,
  EnabledHardirq: 2,
  EnabledHardirqRead: 3,
  UsedInSoftirq: 4,
  UsedInSoftirqRead: 5,
  EnabledSoftirq: 6,
  EnabledSoftirqRead: 7,
} as const;
export type UsageBit = (typeof UsageBit)[keyof typeof UsageBit];

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
/**
 * The thread's atomic context, one word so that an acquire tests it with one load: the spinlocks
 * held in bits 0..7 ({@link IrqWord}.SpinMask), and above them its simulated CPU interrupt state
 * ({@link IrqWord} fields: hardirqs disabled, the local_bh_disable count, hardirq and softirq
 * context depths). 0 = process context, everything enabled, no spinlock held.
 */
export const kThreadAtomicDepth = 4;
/** The same word as {@link kThreadAtomicDepth}, named for readers of the irq state. */
export const kThreadIrq = kThreadAtomicDepth;
/**
 * The round this thread is in (its copy of the world's round under a stride: see variant-task.ts);
 * 0 before its first. Findings, edges and events of the thread carry it.
 */
export const kThreadRound = 5;
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
/**
 * {@link WaitKind} of the wait published in kThreadWaitingLock: a lock taken exclusively, a lock
 * taken for read, or a completion (kThreadWaitingLock then holds the completion id + 1).
 */
export const kThreadWaitingKind = 11;
/** First held-stack entry. Entry i is at kThreadHeld + i * kHeldWords. */
export const kThreadHeld = 12;
export const kHeldLock = 0;
export const kHeldSite = 1;
export const kHeldSinceUs = 2;
/**
 * The class of this acquisition (the lock's class, or its subclass class) in the low 16 bits,
 * and its {@link HeldFlag} bits (read mode, trylock) above: `cls | (flags << kHeldFlagsShift)`.
 */
export const kHeldClass = 3;
export const kHeldFlagsShift = 16;
export const kHeldClassMask = 0xffff;
export const kHeldWords = 4;

export const WaitKind = { Write: 0, Read: 1, Completion: 2 } as const;
export type WaitKind = (typeof WaitKind)[keyof typeof WaitKind];

/**
 * The flags of a held entry (kHeldClass >> kHeldFlagsShift): the low two bits are lockdep's `read`
 * (0 exclusive, 1 a non-recursive reader, 2 a recursive reader); then the trylock bit.
 */
export const HeldFlag = { ReadMask: 3, Trylock: 4 } as const;

/** Fields of the atomic-context word kThreadAtomicDepth (see primitives/irq-state.ts). */
export const IrqWord = {
  /** Spinlocks held (at most kMaxHeldLocks), bits 0..7. */
  SpinMask: 0xff,
  /** Every irq field: the word without the spinlock count. */
  IrqMask: ~0xff,
  /** local_irq_disable() is in force. */
  HardirqsOff: 1 << 8,
  /** local_bh_disable() nesting count, in bits 9..16. */
  BhUnit: 1 << 9,
  BhMask: 0xff << 9,
  /** Hardirq context depth (irq_enter), bits 17..20. */
  HardirqUnit: 1 << 17,
  HardirqMask: 0xf << 17,
  /** Softirq context depth (lockdep_softirq_enter), bits 21..24. */
  SoftirqUnit: 1 << 21,
  SoftirqMask: 0xf << 21,
} as const;
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
// Per-thread lock_stat counts: a capacities.classes array of records per thread. Only the owning
// thread writes them (plain stores); readers sum over threads.
export const kStatAcquisitions = 0;
export const kStatContentions = 1;
export const kStatWords = 2;

// ---------------------------------------------------------------------------------------------
// Lock-order edge table: capacities.edges slots of edge records, an open-addressing hash table
// keyed (from, to), then the edge log (one word per slot: slot + 1 of the edge with that sequence
// number). The protocol (claim, fill, publish, narrow) is in src/lockdep/edge-table.ts.
/** 0 = free slot; else `from * kMaxLockClassesLimit + to + 1`. Set once, by the claiming CAS. */
export const kEdgeKey = 0;
/** Gate entries the first writer stored (0..kMaxEdgeGate); written before kEdgeReady. */
export const kEdgeGateCount = 1;
/** First gate entry: a class id held under `from` every time the edge was seen, or -1 once dropped. */
export const kEdgeGate = 2;
/** Gate entries per edge (classes held around an edge beyond these are left out: see edge-table.ts). */
export const kMaxEdgeGate = 8;
/** 0 = free or just claimed; -1 while its first writer fills it in; sequence number + 1 when published. */
export const kEdgeSeq = kEdgeGate + kMaxEdgeGate;
/** 1 once every field is written; sighters of a claimed edge wait for it. */
export const kEdgeReady = kEdgeSeq + 1;
/** Site where `from` was taken (the first time this edge was seen). */
export const kEdgeFromSite = kEdgeSeq + 2;
/** Site where `to` was taken. */
export const kEdgeToSite = kEdgeSeq + 3;
/** Thread that first made the edge. */
export const kEdgeThread = kEdgeSeq + 4;
/** Round in which the edge was first seen. */
export const kEdgeRound = kEdgeSeq + 5;
/** 1 after a sighting dropped a gate entry or added a dependency type, until the main thread read them again. */
export const kEdgeGateDirty = kEdgeSeq + 6;
/** {@link DepBit} bits: the read/write dependency types this edge was seen with (only ever set). */
export const kEdgeDeps = kEdgeSeq + 7;
export const kEdgeWords = kEdgeSeq + 8;

/**
 * lockdep's dependency types (DEP_SR_BIT ...) for an edge prev -> next: S (prev held as a reader) or
 * E (exclusively), then R (next taken as a recursive reader) or N (anything else).
 */
export const DepBit = { SR: 1, ER: 2, SN: 4, EN: 8 } as const;
export type DepBit = (typeof DepBit)[keyof typeof DepBit];

// ---------------------------------------------------------------------------------------------
// Completion record: `struct completion` (primitives/completion.ts).
/** `done`: completions not yet consumed; {@link kCompletionAll} after complete_all. */
export const kCompletionDone = 0;
/** Threads sleeping in wait_for_completion (complete wakes them only if any). */
export const kCompletionSleepers = 1;
/** Class id of the completion (its node in the lock-order graph). */
export const kCompletionClass = 2;
/** String id of its name. */
export const kCompletionName = 3;
export const kCompletionWords = 4;
/** kCompletionDone after complete_all(): the kernel's UINT_MAX, never consumed. */
export const kCompletionAll = 0x7fffffff;

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

// ---------------------------------------------------------------------------------------------
// Controlled schedule (src/schedule/controlled-schedule.ts): a turn word, per-thread states, and
// the round's log of scheduling decisions. Only the thread holding the turn writes it.
/** Thread index + 1 whose turn it is; 0 = nobody's (before the first decision, after the last). */
export const kSchedTurn = 0;
/** Decisions taken this round (entries in the step log). */
export const kSchedSteps = 1;
/** 1 once no thread could run while some had not finished: a deadlock or a hang. */
export const kSchedStall = 2;
/** Replay: a recorded decision named a thread that could not run there (the scenario changed?). */
export const kSchedDiverged = 3;
/** Decisions of the step log that were preemptions (the running thread could have gone on). */
export const kSchedPreemptions = 4;
/** Decisions of the last finished round (not reset between rounds): PCT's estimate of k. */
export const kSchedLastSteps = 5;
/** Exhaustive exploration: the round whose plan is being explored (the plan is drawn from it). */
export const kSchedPlanRound = 6;
/** Exhaustive exploration: decisions forced at the start of this round (the prefix region). */
export const kSchedPrefixLength = 7;
export const kSchedHeaderWords = 8;
/** Per-thread: a {@link SchedState}, and the word a waiting thread waits on and the value it saw. */
export const kSchedState = 0;
export const kSchedWaitIndex = 1;
export const kSchedWaitExpected = 2;
/** PCT: the thread's priority (higher runs first); lowered at a change point. */
export const kSchedPriority = 3;
export const kSchedThreadWords = 4;
/** One step: who ran, what it was about to do, and what the scheduler chose next. */
export const kStepThread = 0;
export const kStepPoint = 1;
export const kStepObject = 2;
export const kStepSite = 3;
/** Bit mask of the threads that could run at this decision (controlled runs have at most 31 threads). */
export const kStepRunnable = 4;
export const kStepChosen = 5;
/** The op (index + 1) the thread was running. */
export const kStepOp = 6;
export const kStepWords = 8;

/** WaitingWord: a `waitFor` on a shared word, which a stall answers with a time-out. */
export const SchedState = { Idle: 0, Runnable: 1, Waiting: 2, Finished: 3, WaitingWord: 4 } as const;
export type SchedState = (typeof SchedState)[keyof typeof SchedState];

// ---------------------------------------------------------------------------------------------
// Per-op timing (src/runner/op-timing.ts), only when capacities.opTimingSamples > 0: one record per
// thread, a header then the samples. Only the owning thread writes its record while it runs; the
// main thread writes it only for a thread whose worker it terminated (closing its open op).
/** Ops timed so far (may exceed capacities.opTimingSamples: the excess is counted, not stored). */
export const kOpTimingCount = 0;
/**
 * Start of the op running now, in µs since the run epoch, + 1; 0 between ops. The main thread
 * reads it to close the op of a thread it terminated in a teardown.
 */
export const kOpTimingStartUs = 1;
/** Ops ended by a teardown (a deadlock, or a wait behind one), counted with the time until then. */
export const kOpTimingTornDown = 2;
/** References the arbiter found leaked (refcount-leak findings' counts), summed over rounds (thread 0). */
export const kOpTimingLeakedRefs = 3;
/** Index of the op running now (valid while kOpTimingStartUs is non-zero). */
export const kOpTimingOp = 4;
export const kOpTimingHeaderWords = 6;
/** Sample i: its duration in ns (clamped to 2^31 - 1) at kOpTimingHeaderWords + 2i, its op index at + 1. */
export const kOpSampleNs = 0;
export const kOpSampleOp = 1;
export const kOpSampleWords = 2;

/** Absolute word bases of every region, computed from the capacities. */
export interface Layout {
  readonly capacities: Capacities;
  readonly header: number;
  readonly locks: number;
  readonly classes: number;
  readonly threads: number;
  readonly threadStats: number;
  /** The edge table's slots. */
  readonly edges: number;
  /** The edge log: word i is slot + 1 of the edge with sequence number i; 0 = not yet written. */
  readonly edgeLog: number;
  readonly refcounts: number;
  readonly completions: number;
  readonly objects: number;
  readonly words: number;
  readonly findings: number;
  readonly stringIndex: number;
  readonly overlap: number;
  readonly schedule: number;
  readonly scheduleThreads: number;
  readonly scheduleSteps: number;
  readonly schedulePrefix: number;
  /** Per-op timing records, one per thread (empty when capacities.opTimingSamples is 0). */
  readonly opTiming: number;
  /** Words of one thread's per-op timing record (0 when timing is off). */
  readonly opTimingWords: number;
  /** Per-thread event rings, kEventRingWords each. */
  readonly events: number;
  /** Byte offset of the string bytes (after all word regions). */
  readonly stringBytesOffset: number;
  readonly totalBytes: number;
}

/** Places every region, in a fixed order, each aligned to 8 bytes (2 words). */
export function computeLayout(requested: Capacities): Layout {
  const capacities = checkCapacities(requested);
  let next = 0;
  const take = (words: number): number => {
    const base = next;
    next += words + (words % 2);
    return base;
  };
  const header = take(kHeaderWords);
  const locks = take(capacities.locks * kLockWords);
  const classes = take(capacities.classes * kClassWords);
  const threads = take(capacities.threads * kThreadWords);
  const threadStats = take(capacities.threads * capacities.classes * kStatWords);
  const edges = take(capacities.edges * kEdgeWords);
  const edgeLog = take(capacities.edges);
  const refcounts = take(capacities.refcounts * kRefWords);
  const completions = take(capacities.completions * kCompletionWords);
  const objects = take(capacities.objects * kObjWords);
  const words = take(capacities.words);
  const findings = take(capacities.findings * kFindingWords);
  const stringIndex = take(capacities.strings * kStringWords);
  const overlap = take(capacities.ops * capacities.ops * kOverlapWords);
  const schedule = take(kSchedHeaderWords);
  const scheduleThreads = take(capacities.threads * kSchedThreadWords);
  const scheduleSteps = take(capacities.scheduleSteps * kStepWords);
  const schedulePrefix = take(capacities.scheduleSteps);
  const events = take(capacities.threads * kEventRingWords);
  // Last, so that turning per-op timing on moves no other region.
  const opTimingWords = capacities.opTimingSamples > 0 ? kOpTimingHeaderWords + capacities.opTimingSamples * kOpSampleWords : 0;
  const opTiming = take(capacities.threads * opTimingWords);
  const stringBytesOffset = next * 4;
  const totalBytes = stringBytesOffset + capacities.stringBytes;
  return {
    capacities,
    header,
    locks,
    classes,
    threads,
    threadStats,
    edges,
    edgeLog,
    refcounts,
    completions,
    objects,
    words,
    findings,
    stringIndex,
    overlap,
    schedule,
    scheduleThreads,
    scheduleSteps,
    schedulePrefix,
    opTiming,
    opTimingWords,
    events,
    stringBytesOffset,
    totalBytes: totalBytes + ((8 - (totalBytes % 8)) % 8),
  };
}

/**
 * The capacities as the layout uses them: `edges` rounded up to a power of two (at least 16).
 * Past a hard limit: a LimitError naming it. Not a whole number >= 0: a RangeError (a bug).
 */
function checkCapacities(requested: Capacities): Capacities {
  for (const [field, value] of Object.entries(requested)) {
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw new RangeError(`capacity ${field} must be a whole number >= 0, not ${String(value)}`);
    }
  }
  if (requested.classes > kMaxLockClassesLimit) {
    throw new LimitError(`${requested.classes} lock classes (lockstress's limit is ${kMaxLockClassesLimit})`);
  }
  if (requested.opTimingSamples > kMaxOpTimingSamples) {
    throw new LimitError(`${requested.opTimingSamples} timed ops per thread (lockstress's limit is ${kMaxOpTimingSamples})`);
  }
  if (requested.edges > kMaxEdgesLimit) {
    throw new LimitError(`${requested.edges} lock-order edge slots (lockstress's limit is ${kMaxEdgesLimit})`);
  }
  let edges = 16;
  while (edges < requested.edges) edges *= 2;
  return { ...requested, edges };
}

/** Record bases. */
export const lockBase = (l: Layout, lockId: number): number => l.locks + lockId * kLockWords;
export const classBase = (l: Layout, classId: number): number => l.classes + classId * kClassWords;
export const threadBase = (l: Layout, thread: number): number => l.threads + thread * kThreadWords;
export const heldBase = (l: Layout, thread: number, depth: number): number =>
  threadBase(l, thread) + kThreadHeld + depth * kHeldWords;
export const threadStatBase = (l: Layout, thread: number, classId: number): number =>
  l.threadStats + (thread * l.capacities.classes + classId) * kStatWords;
/** Base of edge-table slot `slot` (0..capacities.edges-1); which edge it holds is in its kEdgeKey. */
export const edgeSlotBase = (l: Layout, slot: number): number => l.edges + slot * kEdgeWords;
/** The kEdgeKey word of the edge from -> to (never 0). */
export const edgeKeyOf = (from: number, to: number): number => from * kMaxLockClassesLimit + to + 1;
export const refBase = (l: Layout, refId: number): number => l.refcounts + refId * kRefWords;
export const refHolderBase = (l: Layout, refId: number, holder: number): number =>
  refBase(l, refId) + kRefLedger + holder * kRefHolderWords;
export const objectBase = (l: Layout, slot: number): number => l.objects + slot * kObjWords;
export const completionBase = (l: Layout, id: number): number => l.completions + id * kCompletionWords;
export const wordIndex = (l: Layout, word: number): number => l.words + word;
export const findingBase = (l: Layout, n: number): number => l.findings + n * kFindingWords;
export const stringIndexBase = (l: Layout, id: number): number => l.stringIndex + id * kStringWords;
export const schedThreadBase = (l: Layout, thread: number): number => l.scheduleThreads + thread * kSchedThreadWords;
export const stepBase = (l: Layout, step: number): number => l.scheduleSteps + step * kStepWords;
export const overlapIndex = (l: Layout, a: number, b: number): number =>
  l.overlap + a * l.capacities.ops + b;
/** Base of `thread`'s per-op timing record (only meaningful when capacities.opTimingSamples > 0). */
export const opTimingBase = (l: Layout, thread: number): number => l.opTiming + thread * l.opTimingWords;
/** Word of sample `i` of `thread` (its ns; its op index is at + kOpSampleOp). */
export const opSampleIndex = (l: Layout, thread: number, i: number): number =>
  opTimingBase(l, thread) + kOpTimingHeaderWords + i * kOpSampleWords;
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
    return this.usAt(performance.now());
  }

  /** {@link nowUs} for a `performance.now()` reading this thread took earlier. */
  usAt(performanceNowMs: number): number {
    if (Number.isNaN(this.originMinusEpochMs)) {
      this.originMinusEpochMs = performance.timeOrigin - (this.f64[kHeaderEpochMs / 2] ?? 0);
    }
    return ((performanceNowMs + this.originMinusEpochMs) * 1000) | 0;
  }

  isAborted(): boolean {
    return Atomics.load(this.i32, this.layout.header + kHeaderAbort) !== 0;
  }

  round(): number {
    return Atomics.load(this.i32, this.layout.header + kHeaderRound);
  }

  /** The round `thread` is in ({@link kThreadRound}); the header's round for no thread or before its first. */
  roundOf(thread: number): number {
    const own = thread >= 0 && thread < this.layout.capacities.threads ? Atomics.load(this.i32, this.layout.threads + thread * kThreadWords + kThreadRound) : 0;
    return own > 0 ? own : this.round();
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
/**
 * Barrier-limit bursts (bench/suites/engine-limit.ts): the crossing count at which every thread
 * stops; 0 until thread 0, its burst time up, decides it.
 */
export const kBenchBarrierStopAt = 6;
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
