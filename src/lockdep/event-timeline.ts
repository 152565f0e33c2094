/**
 * Timelines: the per-thread event rings (primitives/event-ring.ts) read back on the main thread at
 * the moment a finding is made, with names instead of ids, and printed as "last 8 events of
 * thread-1". Like ftrace's dump of the per-CPU rings in an oops, but per thread.
 *
 * Only some events carry a time (see event-ring.ts: a clock read costs more than a lock). The
 * others are placed by {@link estimateTimes} between their timed neighbours on the same thread, by
 * their event numbers; reports mark such times with `~`.
 */
import { type FindingKind, findingKindOf } from '../finding-kinds.js';
import type { EventKindName, FindingTimeline, ThreadTimeline, TimelineEvent } from '../event-types.js';
import { type SharedMemory, kThreadCurrentOp, threadBase } from '../layout.js';
import { EventKind, type RawEvent, readEventRing, takeFindingEvents } from '../primitives/event-ring.js';

/** Events kept per thread in a finding's timeline (of the ring's 64). */
export const kTimelineEvents = 32;
/** Events per thread in the text of a report. */
export const kReportEvents = 8;
/** Spacing given to untimed events beyond the last (or before the first) timed one, µs. */
export const kUntimedStepUs = 1;

/** Ids to names, for events (runner/names.ts implements it). */
export interface EventNames {
  lock(lockId: number): { lock: string; class: string };
  refcount(refId: number): string;
  /** A shared word's name, by its index. */
  word(index: number): string;
  string(id: number): string;
  /** An op name from an op index, or a step name from a negative one (`idle`, `setup`...). */
  opName(opIndex: number): string;
}

const kKindNames: Record<EventKind, EventKindName> = {
  [EventKind.Acquire]: 'acquire',
  [EventKind.Contended]: 'contended',
  [EventKind.Acquired]: 'acquired',
  [EventKind.Release]: 'release',
  [EventKind.TryLock]: 'trylock',
  [EventKind.RefGet]: 'ref-get',
  [EventKind.RefPut]: 'ref-put',
  [EventKind.WaitBegin]: 'wait-begin',
  [EventKind.WaitEnd]: 'wait-end',
  [EventKind.OpBegin]: 'op-begin',
  [EventKind.OpEnd]: 'op-end',
  [EventKind.RoundStart]: 'round-start',
  [EventKind.Finding]: 'finding',
};

const kLockKinds: ReadonlySet<EventKindName> = new Set(['acquire', 'contended', 'acquired', 'release', 'trylock']);

/** Whether an event is about a lock (its target is a lock instance and it has a class). */
export function isLockEvent(kind: EventKindName): boolean {
  return kLockKinds.has(kind);
}

/** Raw ring entries to named events. */
export function nameEvents(raw: readonly RawEvent[], names: EventNames): TimelineEvent[] {
  return raw.map((e) => {
    const kind = kKindNames[e.kind];
    let target = '';
    let cls = '';
    if (isLockEvent(kind)) {
      const lock = names.lock(e.id);
      target = lock.lock;
      cls = lock.class;
    } else if (kind === 'ref-get' || kind === 'ref-put') target = names.refcount(e.id);
    else if (kind === 'wait-begin' || kind === 'wait-end') target = names.word(e.id);
    else if (kind === 'op-begin' || kind === 'op-end') target = names.opName(e.id);
    else if (kind === 'finding') target = findingKindOf(e.id) ?? `kind ${e.id}`;
    return {
      seq: e.seq,
      round: e.round,
      kind,
      target,
      class: cls,
      site: names.string(e.site),
      timeUs: e.timeUs < 0 ? null : e.timeUs,
      value: e.value,
    };
  });
}

/**
 * The timeline of a watchdog finding (deadlock, stuck): every listed thread's ring, read live at
 * `atUs` (blocked threads' rings stand still; a running thread's torn entries are left out), its
 * events of `round` only, the last {@link kTimelineEvents}.
 */
export function captureTimeline(
  memory: SharedMemory,
  names: EventNames,
  threads: readonly number[],
  round: number,
  atUs: number,
): FindingTimeline {
  return {
    atUs,
    threads: threads.map((thread) => {
      const op = Atomics.load(memory.i32, threadBase(memory.layout, thread) + kThreadCurrentOp) - 1;
      const events = nameEvents(readEventRing(memory, thread), names).filter((e) => e.round === round);
      return { thread, op: names.opName(op), events: events.slice(-kTimelineEvents), note: '' };
    }),
  };
}

/**
 * The timeline of a finding thread `thread` logged as record `logIndex` of the finding log, in
 * round `round`: the events up to its marker, from the snapshot the thread took when it logged it,
 * or from the live ring if the snapshot was taken by an earlier finding and the ring still holds
 * the marker. Otherwise the events are gone, and the note says so.
 */
export function loggedFindingTimeline(memory: SharedMemory, names: EventNames, thread: number, logIndex: number, round: number): FindingTimeline {
  const raw = takeFindingEvents(memory, thread, logIndex);
  if (raw === null) {
    const note = 'its events were overwritten before the main thread read them (the thread logged another finding first, then ran on)';
    return { atUs: null, threads: [{ thread, op: '', events: [], note }] };
  }
  const events = nameEvents(raw, names).filter((e) => e.round === round);
  return { atUs: null, threads: [{ thread, op: opOf(events), events, note: '' }] };
}

/** The op inside which the last event happened, from the op-begin/op-end events ('' if none). */
function opOf(events: readonly TimelineEvent[]): string {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e?.kind === 'op-end') return '';
    if (e?.kind === 'op-begin') return e.target;
  }
  return '';
}

/**
 * A time for every event, in µs since the run epoch: its own when it was timed; else interpolated
 * between the timed events before and after it by event number; else {@link kUntimedStepUs} per
 * event after the last timed one (not past `endUs`) or before the first. With no timed event at
 * all, the events end at `endUs` (or at 0). Pure.
 */
export function estimateTimes(events: readonly Pick<TimelineEvent, 'seq' | 'timeUs'>[], endUs: number | null): number[] {
  const anchors: number[] = [];
  events.forEach((e, i) => {
    if (e.timeUs !== null) anchors.push(i);
  });
  const n = events.length;
  if (anchors.length === 0) {
    const end = endUs ?? 0;
    return events.map((e) => end - ((events[n - 1]?.seq ?? 0) - e.seq) * kUntimedStepUs);
  }
  const out: number[] = [];
  let a = 0;
  for (let i = 0; i < n; i++) {
    const e = events[i];
    if (e === undefined) continue;
    if (e.timeUs !== null) {
      out.push(e.timeUs);
      continue;
    }
    while (a < anchors.length && (anchors[a] ?? 0) < i) a++;
    const prev = events[anchors[a - 1] ?? -1];
    const next = events[anchors[a] ?? -1];
    if (prev?.timeUs != null && next?.timeUs != null) {
      out.push(prev.timeUs + ((next.timeUs - prev.timeUs) * (e.seq - prev.seq)) / (next.seq - prev.seq));
    } else if (prev?.timeUs != null) {
      const t = prev.timeUs + (e.seq - prev.seq) * kUntimedStepUs;
      out.push(endUs !== null && endUs >= prev.timeUs ? Math.min(t, endUs) : t);
    } else if (next?.timeUs != null) {
      out.push(next.timeUs - (next.seq - e.seq) * kUntimedStepUs);
    } else out.push(0);
  }
  return out;
}

/** One event as text: `acquire    kvm->lock at kvm_device_release`. */
export function describeEvent(e: TimelineEvent): string {
  const at = e.site === '' ? '' : ` at ${e.site}`;
  switch (e.kind) {
    case 'acquire':
    case 'contended':
    case 'acquired':
    case 'release':
    case 'trylock':
      return `${e.target}${at}`;
    case 'ref-get':
      return e.value === 0 ? `${e.target} not taken (it was 0)${at}` : `${e.target} -> ${e.value}${at}`;
    case 'ref-put':
      return `${e.target} -> ${e.value}${at}`;
    case 'wait-begin':
      return `word ${e.target} until it is ${e.value}`;
    case 'wait-end':
      return `word ${e.target} ${e.value === 1 ? 'reached' : 'timed out'}`;
    case 'op-begin':
    case 'op-end':
      return e.target;
    case 'round-start':
      return `round ${e.value}`;
    case 'finding':
      return `logged ${e.target as FindingKind}`;
  }
}

/**
 * "last 8 events of thread-1 (KVFIO_CLOSE, round 17):" and one line per event, for each thread of
 * the timeline, with times relative to the moment the finding was made (the read for a watchdog
 * finding, the last event for a logged one).
 */
export function formatLastEvents(timeline: FindingTimeline, count = kReportEvents, timed = true): string {
  const out: string[] = [];
  for (const t of timeline.threads) {
    if (out.length > 0) out.push('');
    out.push(...formatThread(t, timeline.atUs, count, timed));
  }
  return out.join('\n');
}

/**
 * One thread's last events. Untimed (a round under a controlled schedule, where a replay must
 * print the same text), the events are numbered in order instead of timed.
 */
function formatThread(t: ThreadTimeline, atUs: number | null, count: number, timed: boolean): string[] {
  const events = t.events.slice(-count);
  const round = events[events.length - 1]?.round;
  const what = [t.op, round === undefined ? '' : `round ${round}`].filter((s) => s !== '').join(', ');
  const name = `thread-${t.thread}${what === '' ? '' : ` (${what})`}`;
  if (events.length === 0) return [`no events of ${name}${t.note === '' ? '' : `: ${t.note}`}`];
  if (!timed) {
    // Only the finding's own round: what came before depends on how the round was reached.
    const own = events.filter((e) => e.round === round);
    const width = String(own.length).length;
    return [
      `last ${own.length} event${own.length === 1 ? '' : 's'} of ${name}, in order:`,
      ...own.map((e, i) => `  ${String(i + 1).padStart(width)}  ${e.kind.padEnd(11)} ${describeEvent(e)}`),
    ];
  }
  const times = estimateTimes(t.events, atUs).slice(-events.length);
  const end = atUs ?? times[times.length - 1] ?? 0;
  const reference = atUs === null ? 'its last event' : 'the finding';
  const lines = [`last ${events.length} event${events.length === 1 ? '' : 's'} of ${name}, µs relative to ${reference} (~ estimated):`];
  const cells = events.map((e, i) => {
    const delta = Math.round((times[i] ?? end) - end);
    return { time: `${e.timeUs === null ? '~' : ''}${delta === 0 ? '0' : `${delta}`}`, e };
  });
  const width = Math.max(...cells.map((c) => c.time.length));
  for (const { time, e } of cells) lines.push(`  ${time.padStart(width)}  ${e.kind.padEnd(11)} ${describeEvent(e)}`);
  return lines;
}
