/**
 * The per-thread event ring: ftrace's per-CPU ring buffer in miniature. Each thread keeps its last
 * {@link kEventRingEntries} events (lock acquire, contended, acquired after a wait, release,
 * trylock, refcount get and put, shared-word wait begin and end, op begin and end, round start, and
 * a marker where it logged a finding) in its own record of the shared buffer, so the main thread
 * can show what each thread did just before a deadlock, even when the thread can no longer answer.
 *
 * Layout (layout.ts, kEvent*): a header (the number of the last event, the snapshot's owner), 64
 * entries of 8 words, and a 16-entry snapshot. An entry is
 *
 * | word | field                                                            |
 * |------|------------------------------------------------------------------|
 * | 0    | begin: the event number n (1, 2, ...)                            |
 * | 1    | kind | id << 5 (lock id, refcount id, word index, op index)      |
 * | 2    | site (string id)                                                 |
 * | 3    | time, µs since the run epoch; -1 when not timed                  |
 * | 4    | value (count after a refcount op, a round start's round...)      |
 * | 7    | end: n again                                                     |
 *
 * Event n goes to entry n mod 64. Publication, owner thread only, plain stores in this order:
 * begin = n, the fields, end = n, then the header's head = n. The lock tracker writes its untimed
 * lock events itself, with these stores in this order (lockdep/lock-tracker.ts acquiredAtOnce and
 * willRelease: V8 inlines them whole only while their bytecode is small, and a call here would
 * count twice against its budget); the rest come through {@link EventRing}. A reader (the main thread) reads end,
 * the fields, then begin, with Atomics.load; the entry is whole when begin === end !== 0. A writer
 * reusing the entry stores begin first, so a reader that saw any new field sees the new begin too.
 * This relies on the writer's stores becoming visible in program order: true on x86-64 (TSO), and
 * V8 does not reorder stores to a typed array. Where it were not, a torn entry could still pass; the
 * worst case is one wrong line in a report, never a wrong verdict (verdicts never read the ring).
 *
 * Cost: a lock event is 6 plain stores and one load, no atomic read-modify-write and no clock read
 * of its own. Stores are what costs here: the lock's next CAS waits for them to drain, so lock
 * events write no value and no round. The round of an event is the value of the last round-start
 * event before it (the reader works it out). A clock read costs about 45 ns here, more than an
 * uncontended lock, so events carry the time only where it was read anyway: a contended wait and
 * its end (the tracker times every wait), the one acquisition in 32 that lock_stat samples for hold
 * times, word waits (they read the clock to bound themselves), and op begin/end and round start
 * (once per op, not per lock). The others are -1: their order on the thread is exact (the event
 * number), and a report places them between their timed neighbours (lockdep/event-timeline.ts).
 *
 * The snapshot: when the thread logs a finding, it adds a `finding` event and, if the snapshot is
 * free, copies its last 16 entries there and stores the finding's log index + 1 as the owner. The
 * main thread drains findings every few ms, by which time the live ring may have moved on; it reads
 * the snapshot of that finding instead and frees it.
 */
import {
  type SharedMemory,
  eventRingBase,
  kEventBegin as kEventBegin_,
  kEventEnd as kEventEnd_,
  kEventHead as kEventHead_,
  kEventHeaderWords as kEventHeaderWords_,
  kEventIdShift as kEventIdShift_,
  kEventKindId as kEventKindId_,
  kEventRingEntries as kEventRingEntries_,
  kEventSite as kEventSite_,
  kEventSnapshotEntries as kEventSnapshotEntries_,
  kEventSnapshotOwner as kEventSnapshotOwner_,
  kEventTimeUs as kEventTimeUs_,
  kEventValue as kEventValue_,
  kEventWords as kEventWords_,
} from '../layout.js';

// Module-local copies of the layout's word indices: V8 reads an imported binding through its
// module cell on every use, but folds a local const into the code (measured: the tracked pair
// is several ns faster).
const kEventBegin = kEventBegin_;
const kEventEnd = kEventEnd_;
const kEventHead = kEventHead_;
const kEventHeaderWords = kEventHeaderWords_;
const kEventIdShift = kEventIdShift_;
const kEventKindId = kEventKindId_;
const kEventRingEntries = kEventRingEntries_;
const kEventSite = kEventSite_;
const kEventSnapshotEntries = kEventSnapshotEntries_;
const kEventSnapshotOwner = kEventSnapshotOwner_;
const kEventTimeUs = kEventTimeUs_;
const kEventValue = kEventValue_;
const kEventWords = kEventWords_;

/** Event kind codes (word 1, low 5 bits). A plain object, so compiled JS can import it. */
export const EventKind = {
  /** A lock taken at the first attempt (no wait). */
  Acquire: 1,
  /** The first attempt failed: the thread starts waiting (timed). */
  Contended: 2,
  /** Taken after a wait (timed). */
  Acquired: 3,
  Release: 4,
  /** A trylock that took the lock. */
  TryLock: 5,
  /** refcount_inc / refcount_inc_not_zero; value: the count after (0: inc_not_zero failed). */
  RefGet: 6,
  /** refcount_dec_and_test; value: the count after. */
  RefPut: 7,
  /** A shared word's waitFor starts (timed); value: the value it waits for. */
  WaitBegin: 8,
  /** It ends (timed); value: 1 when the word reached the value, 0 on timeout. */
  WaitEnd: 9,
  /** An operation starts (timed); id: its index. */
  OpBegin: 10,
  OpEnd: 11,
  /** The thread starts its part of a round (timed). */
  RoundStart: 12,
  /** The thread logged a finding; id: its kind code, value: its index in the finding log. */
  Finding: 13,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

// Module-local copies of the layout constants: V8 reads an imported binding through its module
// cell on every use (about 4 ns per event here, measured), a local const it folds.
const kBegin = kEventBegin;
const kKindId = kEventKindId;
const kSite = kEventSite;
const kTime = kEventTimeUs;
const kValue = kEventValue;
const kEnd = kEventEnd;
const kWords = kEventWords;
const kIdShift = kEventIdShift;
const kMask = kEventRingEntries - 1;
const kAcquire = EventKind.Acquire;
const kContended = EventKind.Contended;
const kAcquired = EventKind.Acquired;
const kRelease = EventKind.Release;
const kTryLock = EventKind.TryLock;
const kKindMask = (1 << kEventIdShift) - 1;
const kSnapshotOffset = kEventHeaderWords + kEventRingEntries * kEventWords;

/**
 * One thread's writer. Made on that thread; the ring's state is all in shared memory, so two
 * writers of one thread (the tracker's, and the one FindingLog makes for a marker) agree.
 */
export class EventRing {
  // Fields are assigned in the constructor only (no class-field initialisers): a field declared
  // first as `undefined` is kept by V8 as a generic tagged value, which made each event about
  // twice as slow (measured).
  private declare readonly i32: Int32Array;
  /** Word index of the ring's head, and of its entry 0 (the lock tracker writes lock events itself). */
  declare readonly head: number;
  declare readonly entries: number;
  /** The round of the last round-start event this writer recorded. */
  private declare lastRound: number;
  declare readonly thread: number;
  private declare readonly memory: SharedMemory;

  constructor(memory: SharedMemory, thread: number) {
    this.memory = memory;
    this.thread = thread;
    this.i32 = memory.i32;
    const base = eventRingBase(memory.layout, thread);
    this.head = base + kEventHead;
    this.entries = base + kEventHeaderWords;
    this.lastRound = -1;
  }

  /** Appends one event. `timeUs` is -1 when the caller did not read the clock anyway. */
  record(kind: EventKind, id: number, site: number, timeUs: number, value: number): void {
    const i32 = this.i32;
    const n = (i32[this.head] ?? 0) + 1;
    const e = this.entries + (n & kMask) * kWords;
    // Plain stores, begin first and end last (see the file comment).
    i32[e + kBegin] = n;
    i32[e + kKindId] = kind | (id << kIdShift);
    i32[e + kSite] = site;
    i32[e + kTime] = timeUs;
    i32[e + kValue] = value;
    i32[e + kEnd] = n;
    i32[this.head] = n;
  }

  /** A lock event: like {@link record}, without the value (see the file comment). */
  private lockEvent(kind: number, lockId: number, site: number, timeUs: number): void {
    const i32 = this.i32;
    const n = (i32[this.head] ?? 0) + 1;
    const e = this.entries + (n & kMask) * kWords;
    i32[e + kBegin] = n;
    i32[e + kKindId] = kind | (lockId << kIdShift);
    i32[e + kSite] = site;
    i32[e + kTime] = timeUs;
    i32[e + kEnd] = n;
    i32[this.head] = n;
  }

  // The lock events, one method each so that the tracker's hot path names no imported constant.
  /** A lock taken, at once (`waited` false) or after a wait; `timeUs` -1 when not timed. */
  acquired(lockId: number, site: number, timeUs: number, waited: boolean): void {
    this.lockEvent(waited ? kAcquired : kAcquire, lockId, site, timeUs);
  }

  /** The first attempt failed at `timeUs`: the thread waits. */
  contended(lockId: number, site: number, timeUs: number): void {
    this.lockEvent(kContended, lockId, site, timeUs);
  }

  released(lockId: number, site: number): void {
    this.lockEvent(kRelease, lockId, site, -1);
  }

  tryLocked(lockId: number, site: number): void {
    this.lockEvent(kTryLock, lockId, site, -1);
  }

  /** An event timed now (op boundaries, word waits: not per lock). */
  recordTimed(kind: EventKind, id: number, site: number, value: number): void {
    this.record(kind, id, site, this.memory.nowUs(), value);
  }

  /**
   * The thread starts its part of round `round` (thread 0: before the round's setup). Once per
   * round: a second call for the same round records nothing.
   */
  roundStart(round: number): void {
    if (round === this.lastRound) return;
    this.lastRound = round;
    this.recordTimed(EventKind.RoundStart, 0, 0, round);
  }

  /**
   * The thread logged finding `logIndex` of kind `kindCode`: a marker event, then, if the snapshot
   * is free, a copy of the last kEventSnapshotEntries entries, owned by that finding.
   */
  recordFinding(kindCode: number, logIndex: number): void {
    this.record(EventKind.Finding, kindCode, 0, -1, logIndex);
    const i32 = this.i32;
    const owner = this.head - kEventHead + kEventSnapshotOwner;
    if (Atomics.load(i32, owner) !== 0) return; // the main thread has not taken the last one yet
    const last = i32[this.head] ?? 0;
    const snapshot = this.head - kEventHead + kSnapshotOffset;
    for (let k = 0; k < kEventSnapshotEntries; k++) {
      const n = last - kEventSnapshotEntries + 1 + k;
      const to = snapshot + k * kEventWords;
      if (n <= 0) {
        i32[to + kEventBegin] = 0;
        i32[to + kEventEnd] = 0;
        continue;
      }
      const from = this.entries + (n & kMask) * kEventWords;
      for (let w = 0; w < kEventWords; w++) i32[to + w] = i32[from + w] ?? 0;
    }
    Atomics.store(i32, owner, logIndex + 1);
  }
}

/** An event as stored: ids, not names. */
export interface RawEvent {
  /** The event number on its thread (1, 2, ...): the exact order of the thread's events. */
  seq: number;
  kind: EventKind;
  id: number;
  site: number;
  /** The round: the value of the last round-start before it (see {@link assignRounds}). */
  round: number;
  /** µs since the run epoch, or -1 when not timed. */
  timeUs: number;
  /** 0 for lock events (they do not write it). */
  value: number;
}

const kLockKinds = new Set<number>([kAcquire, kContended, kAcquired, kRelease, kTryLock]);

/** Reads one entry; null when empty or torn (begin !== end). Its round is set later. */
function readEntry(i32: Int32Array, e: number): RawEvent | null {
  const end = Atomics.load(i32, e + kEventEnd);
  if (end === 0) return null;
  const kindId = Atomics.load(i32, e + kEventKindId);
  const site = Atomics.load(i32, e + kEventSite);
  const timeUs = Atomics.load(i32, e + kEventTimeUs);
  const value = Atomics.load(i32, e + kEventValue);
  if (Atomics.load(i32, e + kEventBegin) !== end) return null;
  const kind = kindId & kKindMask;
  if (kind < EventKind.Acquire || kind > EventKind.Finding) return null;
  return { seq: end, kind: kind as EventKind, id: kindId >>> kEventIdShift, site, round: 0, timeUs, value: kLockKinds.has(kind) ? 0 : value };
}

/**
 * Sets each event's round (events sorted oldest first): a round-start event's value is its round,
 * events after it are in that round, events before it in the round before. With no round start in
 * sight (a thread with more than 64 events in one round), every event is in `round`.
 */
export function assignRounds(events: RawEvent[], round: number): RawEvent[] {
  const last = [...events].reverse().find((e) => e.kind === EventKind.RoundStart);
  // Walking back from the newest: after the last round start, its round; before each, the one before.
  let current = last?.value ?? round;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e === undefined) continue;
    if (e.kind === EventKind.RoundStart) {
      e.round = e.value;
      current = e.value - 1;
    } else e.round = current;
  }
  return events;
}

/**
 * A thread's ring, oldest first, with rounds (main thread, at any time: the thread may be
 * writing). Torn entries are left out; so are entries older than the ring's span, which a slow
 * read can meet. `round` is the round of events after the last round start in sight, if none is.
 */
export function readEventRing(memory: SharedMemory, thread: number, round = memory.roundOf(thread)): RawEvent[] {
  const base = eventRingBase(memory.layout, thread);
  const events: RawEvent[] = [];
  for (let slot = 0; slot < kEventRingEntries; slot++) {
    const event = readEntry(memory.i32, base + kEventHeaderWords + slot * kEventWords);
    if (event !== null && (event.seq & kMask) === slot) events.push(event);
  }
  events.sort((a, b) => a.seq - b.seq);
  const newest = events[events.length - 1]?.seq ?? 0;
  return assignRounds(
    events.filter((e) => e.seq > newest - kEventRingEntries),
    round,
  );
}

/**
 * The events a thread had when it logged finding `logIndex` in round `round`, oldest first, ending
 * with the finding marker; null when neither the snapshot nor the live ring has them any more (the
 * ring moved on). Frees the snapshot if it holds this finding or an older one (drained or given up
 * before).
 */
export function takeFindingEvents(memory: SharedMemory, thread: number, logIndex: number, round = memory.roundOf(thread)): RawEvent[] | null {
  const { i32, layout } = memory;
  if (thread < 0 || thread >= layout.capacities.threads) return null;
  const base = eventRingBase(layout, thread);
  const ownerIndex = base + kEventSnapshotOwner;
  const owner = Atomics.load(i32, ownerIndex) - 1;
  if (owner === logIndex) {
    const events: RawEvent[] = [];
    for (let k = 0; k < kEventSnapshotEntries; k++) {
      const event = readEntry(i32, base + kSnapshotOffset + k * kEventWords);
      if (event !== null) events.push(event);
    }
    Atomics.store(i32, ownerIndex, 0);
    return assignRounds(events, round);
  }
  if (owner >= 0 && owner < logIndex) Atomics.store(i32, ownerIndex, 0);
  const live = readEventRing(memory, thread, round);
  const marker = live.findIndex((e) => e.kind === EventKind.Finding && e.value === logIndex);
  return marker < 0 ? null : live.slice(Math.max(0, marker + 1 - kEventSnapshotEntries), marker + 1);
}
