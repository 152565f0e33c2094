import { describe, expect, it } from 'vitest';
import { LockKind, eventRingBase, kEventBegin, kEventHeaderWords, kEventRingEntries, kEventWords, wordIndex } from '../../src/layout.js';
import { LockTracker } from '../../src/lockdep/lock-tracker.js';
import { EventKind, EventRing, readEventRing, takeFindingEvents } from '../../src/primitives/event-ring.js';
import { FutexMutex } from '../../src/primitives/futex-mutex.js';
import { Refcount } from '../../src/primitives/refcount.js';
import { freshMemory } from '../helpers/memory.js';
import { startWorker } from '../helpers/threads.js';

describe('EventRing', () => {
  it('keeps the last 64 events of its thread, oldest first, with every field', () => {
    const { memory } = freshMemory();
    const ring = new EventRing(memory, 2);
    for (let k = 1; k <= 100; k++) ring.record(EventKind.RefPut, k, k + 1000, k % 2 === 0 ? k * 10 : -1, -k);
    const events = readEventRing(memory, 2);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: kEventRingEntries }, (_, i) => 100 - kEventRingEntries + 1 + i));
    expect(events[events.length - 1]).toEqual({ seq: 100, kind: EventKind.RefPut, id: 100, site: 1100, round: 0, timeUs: 1000, value: -100 });
    expect(events.every((e) => e.round === 0)).toBe(true); // no round start in sight: the memory's round
    expect(events[0]?.timeUs).toBe(-1); // event 37 was not timed
    expect(readEventRing(memory, 1)).toEqual([]); // other threads' rings are untouched
  });

  it('an event is in the round of the last round start before it; with none in sight, in the round given', () => {
    const { memory } = freshMemory();
    const ring = new EventRing(memory, 0);
    ring.record(EventKind.OpEnd, 0, 0, -1, 0); // before any round start in sight: the round before
    ring.roundStart(7);
    ring.record(EventKind.OpBegin, 0, 0, -1, 0);
    ring.roundStart(7); // once per round
    ring.roundStart(8);
    ring.acquired(0, 0, -1, false);
    expect(readEventRing(memory, 0, 99).map((e) => [e.kind, e.round])).toEqual([
      [EventKind.OpEnd, 6],
      [EventKind.RoundStart, 7],
      [EventKind.OpBegin, 7],
      [EventKind.RoundStart, 8],
      [EventKind.Acquire, 8],
    ]);
    const other = new EventRing(memory, 1);
    other.acquired(0, 0, -1, false);
    expect(readEventRing(memory, 1, 99).map((e) => e.round)).toEqual([99]);
  });

  it('lock events leave the value word alone and read back with value 0', () => {
    const { memory } = freshMemory();
    const ring = new EventRing(memory, 0);
    for (let k = 0; k < 64; k++) ring.record(EventKind.RefGet, 1, 1, -1, 12345); // every value word dirty
    ring.released(2, 3);
    expect(readEventRing(memory, 0).at(-1)).toMatchObject({ kind: EventKind.Release, id: 2, site: 3, value: 0 });
  });

  it('a second writer object for the same thread continues the numbering (the head is shared)', () => {
    const { memory } = freshMemory();
    new EventRing(memory, 0).record(EventKind.OpBegin, 1, 0, -1, 0);
    new EventRing(memory, 0).record(EventKind.OpEnd, 1, 0, -1, 0);
    expect(readEventRing(memory, 0).map((e) => [e.seq, e.kind])).toEqual([
      [1, EventKind.OpBegin],
      [2, EventKind.OpEnd],
    ]);
  });

  it('a torn entry (begin and end differ) is left out, the others are kept', () => {
    const { memory } = freshMemory();
    const ring = new EventRing(memory, 0);
    for (let k = 1; k <= 3; k++) ring.record(EventKind.Release, k, 0, -1, 0);
    // Event 2 half-rewritten: its begin already says event 66.
    memory.i32[eventRingBase(memory.layout, 0) + kEventHeaderWords + 2 * kEventWords + kEventBegin] = 66;
    expect(readEventRing(memory, 0).map((e) => e.seq)).toEqual([1, 3]);
  });

  it('a reader on another thread never gets a torn entry while the writer runs', async () => {
    const { memory } = freshMemory();
    const total = 50_000_000;
    const running = startWorker({ buffer: memory.buffer, capacities: memory.layout.capacities, thread: 3, job: { mode: 'event-writer', events: total } });
    const written = (): number => Atomics.load(memory.i32, wordIndex(memory.layout, 1));
    let reads = 0;
    let seen = 0;
    try {
      // Every wait is bounded: the writer starts within 10 s, and the reads stop at 2000 or when it is done.
      const started = Date.now();
      while (written() === 0 && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 1));
      while (written() < total && reads < 2000) {
        for (const e of readEventRing(memory, 3)) {
          seen++;
          expect([e.id, e.site, e.timeUs, e.value]).toEqual([e.seq & 0xfff, e.seq, 2 * e.seq, -e.seq]);
        }
        reads++;
      }
    } finally {
      Atomics.store(memory.i32, wordIndex(memory.layout, 0), 1);
      const result = await running.result;
      await running.worker.terminate();
      expect(result.ok).toBe(true);
    }
    expect(seen).toBeGreaterThan(0);
  }, 60_000);
});

describe('the tracker and refcounts write the ring', () => {
  it('an uncontended lock and unlock are an acquire and a release with the lock and its sites', () => {
    const { memory, strings, log, table } = freshMemory();
    const id = table.defineLock(LockKind.Mutex, 'group_lock', 'group->group_lock');
    const tracker = new LockTracker(memory, strings, log, 1);
    const lock = new FutexMutex(memory, id, 1, tracker);
    lock.lock('vfio_device_group_open');
    lock.unlock('vfio_device_group_close');
    expect(readEventRing(memory, 1).map((e) => [e.kind, e.id, strings.lookup(e.site)])).toEqual([
      [EventKind.Acquire, id, 'vfio_device_group_open'],
      [EventKind.Release, id, 'vfio_device_group_close'],
    ]);
  });

  it('a contended wait is a timed contended event, then a timed acquired event', () => {
    const { memory, strings, log, table } = freshMemory();
    const id = table.defineLock(LockKind.Mutex, 'kvm->lock', 'kvm->lock');
    const tracker = new LockTracker(memory, strings, log, 0);
    const start = tracker.contended(id, 'kvm_vfio_release');
    tracker.acquired(id, 'kvm_vfio_release', start);
    const events = readEventRing(memory, 0);
    expect(events.map((e) => e.kind)).toEqual([EventKind.Contended, EventKind.Acquired]);
    expect(events[0]?.timeUs).toBe(start);
    expect(events[1]?.timeUs).toBeGreaterThanOrEqual(start);
  });

  it('a trylock that took the lock is a trylock event; one that failed writes nothing', () => {
    const { memory, strings, log, table } = freshMemory();
    const id = table.defineLock(LockKind.Mutex, 'a', 'a');
    const mine = new FutexMutex(memory, id, 0, new LockTracker(memory, strings, log, 0));
    const theirs = new FutexMutex(memory, id, 1, new LockTracker(memory, strings, log, 1));
    expect(mine.tryLock('try_site')).toBe(true);
    expect(theirs.tryLock('try_site')).toBe(false);
    expect(readEventRing(memory, 0).map((e) => e.kind)).toEqual([EventKind.TryLock]);
    expect(readEventRing(memory, 1)).toEqual([]);
  });

  it('refcount gets and puts carry the count after them; a failed inc_not_zero carries 0', () => {
    const { memory, strings, log } = freshMemory();
    const ring = new EventRing(memory, 0);
    const ref = new Refcount(memory, 3, 0, log, strings, ring);
    ref.reset(1, 'creator', 'create');
    ref.inc('a', 'kvm_get_kvm');
    ref.decAndTest('a', 'kvm_put_kvm');
    ref.decAndTest('creator', 'kvm_put_kvm');
    ref.incNotZero('b', 'kvm_get_kvm_safe');
    expect(readEventRing(memory, 0).map((e) => [e.kind, e.id, strings.lookup(e.site), e.value])).toEqual([
      [EventKind.RefGet, 3, 'kvm_get_kvm', 2],
      [EventKind.RefPut, 3, 'kvm_put_kvm', 1],
      [EventKind.RefPut, 3, 'kvm_put_kvm', 0],
      [EventKind.RefGet, 3, 'kvm_get_kvm_safe', 0],
    ]);
  });
});

describe('a finding keeps the events before it', () => {
  /** Logs a bad unlock on thread 0 after `before` events; returns its log index. */
  function logFinding(w: ReturnType<typeof freshMemory>, ring: EventRing, before: number): number {
    for (let k = 0; k < before; k++) ring.record(EventKind.OpBegin, k, 0, -1, 0);
    const id = w.table.defineLock(LockKind.Mutex, `c${before}`, `l${before}`);
    new FutexMutex(w.memory, id, 0, new LockTracker(w.memory, w.strings, w.log, 0)).unlock('bad_site');
    const records = w.log.drain().records;
    expect(records.map((r) => r.kind)).toEqual(['bad-unlock']);
    return records[0]?.index ?? -1;
  }

  it('the snapshot still has them after the live ring moved on, and is freed once taken', () => {
    const w = freshMemory();
    const ring = new EventRing(w.memory, 0);
    const index = logFinding(w, ring, 20);
    for (let k = 0; k < 200; k++) ring.record(EventKind.Release, 0, 0, -1, 0); // the ring moves on
    const events = takeFindingEvents(w.memory, 0, index);
    expect(events?.length).toBe(16);
    expect(events?.[15]).toMatchObject({ kind: EventKind.Finding, value: index });
    expect(events?.slice(0, 15).every((e) => e.kind === EventKind.OpBegin)).toBe(true);
    // Freed: the next finding gets the snapshot.
    const next = logFinding(w, ring, 1);
    for (let k = 0; k < 200; k++) ring.record(EventKind.Release, 0, 0, -1, 0);
    expect(takeFindingEvents(w.memory, 0, next)?.at(-1)).toMatchObject({ kind: EventKind.Finding, value: next });
  });

  it('a second finding while the snapshot is taken falls back to the live ring, or to nothing once it moved on', () => {
    const w = freshMemory();
    const ring = new EventRing(w.memory, 0);
    const first = logFinding(w, ring, 5);
    const second = logFinding(w, ring, 5); // the snapshot is still the first's
    expect(takeFindingEvents(w.memory, 0, first)?.at(-1)).toMatchObject({ kind: EventKind.Finding, value: first });
    expect(takeFindingEvents(w.memory, 0, second)?.at(-1)).toMatchObject({ kind: EventKind.Finding, value: second });

    const third = logFinding(w, ring, 5); // takes the snapshot
    const fourth = logFinding(w, ring, 5);
    for (let k = 0; k < 200; k++) ring.record(EventKind.Release, 0, 0, -1, 0);
    expect(takeFindingEvents(w.memory, 0, third)?.at(-1)).toMatchObject({ kind: EventKind.Finding, value: third });
    expect(takeFindingEvents(w.memory, 0, fourth)).toBeNull();
  });

  it('a snapshot whose finding was never taken (given up at a teardown) is freed by a later one', () => {
    const w = freshMemory();
    const ring = new EventRing(w.memory, 0);
    logFinding(w, ring, 5); // its snapshot is never taken
    const second = logFinding(w, ring, 5);
    expect(takeFindingEvents(w.memory, 0, second)?.at(-1)).toMatchObject({ kind: EventKind.Finding, value: second });
    const third = logFinding(w, ring, 5);
    for (let k = 0; k < 200; k++) ring.record(EventKind.Release, 0, 0, -1, 0);
    expect(takeFindingEvents(w.memory, 0, third)?.at(-1)).toMatchObject({ kind: EventKind.Finding, value: third });
  });
});
