import { describe, expect, it } from 'vitest';
import { findingKindCode } from '../../src/finding-kinds.js';
import type { FindingTimeline, TimelineEvent } from '../../src/event-types.js';
import { type EventNames, estimateTimes, formatLastEvents, kUntimedStepUs, nameEvents } from '../../src/lockdep/event-timeline.js';
import { EventKind } from '../../src/primitives/event-ring.js';

const ev = (seq: number, kind: TimelineEvent['kind'], target: string, timeUs: number | null, extra: Partial<TimelineEvent> = {}): TimelineEvent => ({
  seq,
  round: 4,
  kind,
  target,
  class: '',
  site: '',
  timeUs,
  value: 0,
  ...extra,
});

describe('estimateTimes', () => {
  it('keeps timed events and interpolates the others by event number', () => {
    const times = estimateTimes([ev(10, 'op-begin', 'X', 100), ev(11, 'acquire', 'a', null), ev(12, 'acquire', 'b', null), ev(14, 'contended', 'c', 400)], null);
    expect(times).toEqual([100, 175, 250, 400]);
  });

  it('places events after the last timed one a step apart, never past the end', () => {
    expect(estimateTimes([ev(1, 'op-begin', 'X', 100), ev(2, 'acquire', 'a', null), ev(3, 'release', 'a', null)], 1000)).toEqual([
      100,
      100 + kUntimedStepUs,
      100 + 2 * kUntimedStepUs,
    ]);
    expect(estimateTimes([ev(1, 'op-begin', 'X', 100), ev(5, 'acquire', 'a', null)], 101)).toEqual([100, 101]);
  });

  it('places events before the first timed one a step apart, and untimed-only lists end at the end', () => {
    expect(estimateTimes([ev(1, 'acquire', 'a', null), ev(3, 'contended', 'b', 50)], null)).toEqual([50 - 2 * kUntimedStepUs, 50]);
    expect(estimateTimes([ev(1, 'acquire', 'a', null), ev(2, 'release', 'a', null)], 90)).toEqual([90 - kUntimedStepUs, 90]);
  });
});

describe('nameEvents', () => {
  it('names locks with their class, refcounts, words, ops and finding kinds', () => {
    const names: EventNames = {
      lock: (id) => ({ lock: `lock#${id}`, class: `class${id}` }),
      refcount: (id) => `ref${id}`,
      word: (id) => `word${id}`,
      string: (id) => (id === 0 ? '' : `site${id}`),
      opName: (id) => `OP${id}`,
    };
    const raw = [
      { seq: 1, kind: EventKind.Acquire, id: 2, site: 5, round: 3, timeUs: -1, value: 0 },
      { seq: 2, kind: EventKind.RefPut, id: 1, site: 6, round: 3, timeUs: 77, value: 0 },
      { seq: 3, kind: EventKind.WaitBegin, id: 4, site: 0, round: 3, timeUs: 80, value: 1 },
      { seq: 4, kind: EventKind.OpEnd, id: 0, site: 0, round: 3, timeUs: 90, value: 0 },
      { seq: 5, kind: EventKind.Finding, id: findingKindCode('inc-on-zero'), site: 0, round: 3, timeUs: -1, value: 12 },
    ];
    expect(nameEvents(raw, names).map((e) => [e.kind, e.target, e.class, e.site, e.timeUs])).toEqual([
      ['acquire', 'lock#2', 'class2', 'site5', null],
      ['ref-put', 'ref1', '', 'site6', 77],
      ['wait-begin', 'word4', '', '', 80],
      ['op-end', 'OP0', '', '', 90],
      ['finding', 'inc-on-zero', '', '', null],
    ]);
  });
});

describe('formatLastEvents', () => {
  it('prints the last events of each thread relative to the finding, marking estimated times', () => {
    const timeline: FindingTimeline = {
      atUs: 1000,
      threads: [
        {
          thread: 1,
          op: 'KVFIO_CLOSE',
          note: '',
          events: [
            ev(7, 'round-start', '', 600, { value: 4 }),
            ev(8, 'op-begin', 'KVFIO_CLOSE', 700),
            ev(9, 'acquire', 'kvm->lock', null, { class: 'kvm->lock', site: 'kvm_device_release' }),
            ev(10, 'contended', 'group->group_lock', 900, { class: 'group_lock', site: 'vfio_file_set_kvm' }),
          ],
        },
        { thread: 2, op: 'idle', note: 'its events were overwritten', events: [] },
      ],
    };
    expect(formatLastEvents(timeline, 3)).toBe(
      [
        'last 3 events of thread-1 (KVFIO_CLOSE, round 4), µs relative to the finding (~ estimated):',
        '   -300  op-begin    KVFIO_CLOSE',
        '  ~-200  acquire     kvm->lock at kvm_device_release',
        '   -100  contended   group->group_lock at vfio_file_set_kvm',
        '',
        'no events of thread-2 (idle): its events were overwritten',
      ].join('\n'),
    );
  });

  it('prints refcount, word-wait and finding events in words', () => {
    const timeline: FindingTimeline = {
      atUs: null,
      threads: [
        {
          thread: 0,
          op: 'DEV_OPEN',
          note: '',
          events: [
            ev(1, 'ref-get', 'users_count', null, { value: 0, site: 'kvm_get_kvm_safe' }),
            ev(2, 'ref-put', 'users_count', null, { value: 1, site: 'kvm_put_kvm' }),
            ev(3, 'wait-begin', 'state', 10, { value: 2 }),
            ev(4, 'wait-end', 'state', 30, { value: 0 }),
            ev(5, 'finding', 'use-after-free', null),
          ],
        },
      ],
    };
    const text = formatLastEvents(timeline);
    expect(text).toContain('ref-get     users_count not taken (it was 0) at kvm_get_kvm_safe');
    expect(text).toContain('ref-put     users_count -> 1 at kvm_put_kvm');
    expect(text).toContain('wait-begin  word state until it is 2');
    expect(text).toContain('wait-end    word state timed out');
    expect(text).toContain('~0  finding     logged use-after-free');
    expect(text.split('\n')[0]).toBe('last 5 events of thread-0 (DEV_OPEN, round 4), µs relative to its last event (~ estimated):');
  });
});
