/**
 * The events of a finding's timeline as data: what the per-thread event rings
 * (primitives/event-ring.ts) held when the finding was made, with names instead of ids. Plain types
 * with no imports, so that the `--json` document's types (report/document-types.ts) can name them.
 */

/** What happened. Lock events follow lockdep's lock_acquire / lock_contended / lock_acquired / lock_release. */
export type EventKindName =
  /** A lock taken at the first attempt. */
  | 'acquire'
  /** The first attempt failed: the thread waits from here. */
  | 'contended'
  /** Taken after a wait. */
  | 'acquired'
  | 'release'
  /** A trylock that took the lock. */
  | 'trylock'
  /** refcount_inc / refcount_inc_not_zero (`value`: the count after; 0 = the get failed). */
  | 'ref-get'
  /** refcount_dec_and_test (`value`: the count after). */
  | 'ref-put'
  /** A shared word's waitFor begins (`value`: the value it waits for). */
  | 'wait-begin'
  /** It ends (`value`: 1 reached, 0 timed out). */
  | 'wait-end'
  | 'op-begin'
  | 'op-end'
  /** The thread starts its part of round `value`. */
  | 'round-start'
  /** The thread logged a finding (`target`: its kind). */
  | 'finding';

export interface TimelineEvent {
  /** The event's number on its thread: the exact order of that thread's events. */
  seq: number;
  round: number;
  kind: EventKindName;
  /** What it acts on: a lock instance, a refcount, a shared word, an op, a finding kind. */
  target: string;
  /** The lock class of a lock event, else ''. */
  class: string;
  site: string;
  /** µs since the run epoch, or null when the event was not timed (see README, "The event ring"). */
  timeUs: number | null;
  value: number;
}

export interface ThreadTimeline {
  thread: number;
  /** What the thread was running when the events were read (an op, `idle`, `setup`...). */
  op: string;
  /** Oldest first. */
  events: TimelineEvent[];
  /** Why events are missing, if they are: '' normally. */
  note: string;
}

/** The last events of the threads a finding involves, read when the finding was made. */
export interface FindingTimeline {
  /** When the rings were read (µs since the run epoch); null for a finding a thread logged. */
  atUs: number | null;
  threads: ThreadTimeline[];
}
