/** The HTML report from plain document data: what the page holds, escaping, no network; and the timeline model. */
import { describe, expect, it } from 'vitest';
import type { FindingTimeline, TimelineEvent } from '../../src/event-types.js';
import { type StressDocument, type VariantDocument, finishDocument } from '../../src/report/document.js';
import { toHtml } from '../../src/report/html.js';
import { buildLanes, tickLabel, timelineSvg } from '../../src/report/html-timeline.js';

const ev = (seq: number, kind: TimelineEvent['kind'], target: string, timeUs: number | null, cls = ''): TimelineEvent => ({
  seq,
  round: 3,
  kind,
  target,
  class: cls,
  site: 'site',
  timeUs,
  value: 0,
});

const kTimeline: FindingTimeline = {
  atUs: 1000,
  threads: [
    { thread: 0, op: 'AB', note: '', events: [ev(1, 'op-begin', 'AB', 100), ev(2, 'acquire', 'a#0', null, 'A'), ev(3, 'contended', 'b#0', 300, 'B')] },
    { thread: 1, op: 'BA', note: '', events: [ev(1, 'op-begin', 'BA', 150), ev(2, 'acquire', 'b#0', null, 'B'), ev(3, 'contended', 'a#0', 350, 'A')] },
  ],
};

function variant(extra: Partial<VariantDocument>): VariantDocument {
  return {
    name: 'broken',
    description: 'takes <A> & B the wrong way round',
    expect: ['deadlock', 'lock-order-cycle'],
    seen: ['deadlock', 'lock-order-cycle'],
    pass: true,
    status: 'pass',
    note: '',
    rounds: 12,
    durationMs: 300,
    roundsPerSec: 40,
    abortedRounds: 12,
    firstDeadlockMs: 4,
    stoppedBy: 'rounds',
    errors: [],
    findings: [
      {
        kind: 'lock-order-cycle',
        count: 1,
        firstRound: 1,
        locks: ['A', 'B'],
        message: 'possible circular locking dependency: A -> B -> A <script>alert(1)</script>',
        evidence: { chain: [{ class: 'A', site: 'take_BA' }, { class: 'B', site: 'take_AB' }], closing: { thread: 1, held: 'B', heldSite: 'take_BA', wanted: 'A', wantedSite: 'take_BA' } },
        report: 'WARNING: possible circular locking dependency detected',
        replay: null,
      },
      {
        kind: 'deadlock',
        count: 12,
        firstRound: 1,
        locks: ['B', 'A'],
        message: 'deadlock: thread 0 (AB) waits for b#0 held by thread 1; thread 1 (BA) waits for a#0 held by thread 0',
        evidence: {
          cycle: [
            { thread: 0, op: 'AB', held: [{ lock: 'a#0', class: 'A', site: 'take_AB', heldMs: 1 }], waitingFor: { lock: 'b#0', class: 'B', site: 'take_AB', waitedMs: 1, ownerThread: 1 } },
            { thread: 1, op: 'BA', held: [{ lock: 'b#0', class: 'B', site: 'take_BA', heldMs: 1 }], waitingFor: { lock: 'a#0', class: 'A', site: 'take_BA', waitedMs: 1, ownerThread: 0 } },
          ],
          others: [{ thread: 2, op: 'AB', held: [], waitingFor: { lock: 'a#0', class: 'A', site: 'take_AB', waitedMs: 1, ownerThread: 0 } }],
        },
        report: 'INFO: task thread-0:AB blocked for more than 3 ms.',
        replay: null,
        timeline: kTimeline,
      },
    ],
    lockStats: [
      { lock: 'A', acquisitions: 40, contentions: 12, maxWaitUs: 900, maxHoldUs: 20 },
      { lock: 'B', acquisitions: 20, contentions: 0, maxWaitUs: 0, maxHoldUs: 5 },
    ],
    lockOrder: [
      { from: 'A', to: 'B', fromSite: 'take_AB', toSite: 'take_AB', thread: 0, round: 1 },
      { from: 'B', to: 'A', fromSite: 'take_BA', toSite: 'take_BA', thread: 1, round: 1 },
      { from: 'A', to: 'C', fromSite: 'take_AB', toSite: 'take_C', thread: 0, round: 2 },
    ],
    coverage: { ops: ['AB', 'BA'], pairsOverlapped: 1, pairsPossible: 3, overlapped: ['AB || BA'] },
    seed: 5,
    ...extra,
  };
}

function document(variants: VariantDocument[]): StressDocument {
  return finishDocument({
    tool: 'lockstress',
    scenario: 'fixture',
    seed: 5,
    seeds: 1,
    threads: 3,
    startedAt: '2026-11-27T07:13:07.123Z',
    durationMs: 600,
    interrupted: false,
    shard: null,
    variants,
  });
}

/** The element of an SVG with the given data-graph attribute. */
function svg(html: string, graph: string): string {
  const start = html.indexOf(`data-graph="${graph}"`);
  expect(start, graph).toBeGreaterThan(0);
  return html.slice(start, html.indexOf('</svg>', start));
}

describe('toHtml', () => {
  const clean = variant({ name: 'fixed', description: 'the right order', expect: ['clean'], seen: [], findings: [], status: 'fail', note: '', lockOrder: [] });
  const html = toHtml(document([variant({}), clean]));

  it('is one self-contained page: no script, no stylesheet or image to fetch', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|src=|@import|url\(http/i);
    // The only URL is the SVG namespace, which is a name, not a fetch.
    expect(html.match(/https?:\/\/[^"]+/g)?.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
  });

  it('has the verdict table, one row per variant with its status and rounds/s', () => {
    expect(html).toMatch(/<tr data-variant="broken" data-status="pass">.*<td class="num">12<\/td><td class="num">40<\/td>/);
    expect(html).toContain('<tr data-variant="fixed" data-status="fail">');
    expect(html).toContain('class="verdict verdict-fail"');
  });

  it('escapes scenario text', () => {
    expect(html).toContain('takes &lt;A&gt; &amp; B the wrong way round');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('draws the lock-order graph with the cycle highlighted and the other learned edges plain', () => {
    const graph = svg(html, 'lock-order');
    expect(graph).toContain('<g class="node class hot" data-class="A" data-cycle="1">');
    expect(graph).toContain('<g class="node class hot" data-class="B" data-cycle="1">');
    expect(graph).toContain('<g class="node class" data-class="C" data-cycle="0">');
    expect(graph).toContain('data-from="A" data-to="B" data-cycle="1"');
    expect(graph).toContain('data-from="B" data-to="A" data-cycle="1"');
    expect(graph).toContain('data-from="A" data-to="C" data-cycle="0"');
    // Each cycle edge is labelled with the site that took its lock.
    expect(graph).toMatch(/data-from="A" data-to="B".*?class="edge-label"[^>]*>take_AB</);
    expect(html).toContain('Closed by thread 1 taking <b>A</b>');
  });

  it('draws the wait-for graph: cycle threads wait for locks the other holds; bystanders plain', () => {
    const graph = svg(html, 'wait-for');
    expect(graph).toContain('data-kind="waits" data-lock="b#0" data-thread="0" data-cycle="1"');
    expect(graph).toContain('data-kind="holds" data-lock="b#0" data-thread="1" data-cycle="1"');
    expect(graph).toContain('data-kind="waits" data-lock="a#0" data-thread="1" data-cycle="1"');
    expect(graph).toContain('data-kind="holds" data-lock="a#0" data-thread="0" data-cycle="1"');
    expect(graph).toContain('data-kind="waits" data-lock="a#0" data-thread="2" data-cycle="0"');
    expect(graph).toContain('<g class="node thread" data-thread="2" data-cycle="0">');
  });

  it('draws the timeline, lock_stat bars scaled to the column maximum, and the coverage matrix', () => {
    const timeline = svg(html, 'timeline');
    expect(timeline.match(/<g class="lane"/g)).toHaveLength(2);
    expect(timeline.match(/<g class="wait open"/g)).toHaveLength(2);
    expect(html).toMatch(/<tr data-lock="A"><td>A<\/td><td class="bar bar-acquisitions"><span style="width:100.0%"><\/span><em>40<\/em>/);
    expect(html).toMatch(/<tr data-lock="B"><td>B<\/td><td class="bar bar-acquisitions"><span style="width:50.0%"><\/span>/);
    expect(html).toContain('<td class="on" data-pair="AB || BA"');
    expect(html).toContain('<td class="off" data-pair="AB || AB"');
  });

  it('reads documents of older lockstress versions (no lockOrder, no timeline, no ops) without failing', () => {
    const old = variant({ lockOrder: undefined, coverage: { pairsOverlapped: 1, pairsPossible: 3, overlapped: ['AB || BA'] } });
    for (const f of old.findings) delete f.timeline;
    const page = toHtml(document([old]));
    // The cycle is still drawn, from the finding's own chain.
    expect(svg(page, 'lock-order')).toContain('data-from="B" data-to="A" data-cycle="1"');
    expect(page).not.toContain('data-graph="timeline"');
    expect(page).toContain('data-pair="AB || BA"');
  });
});

describe('buildLanes', () => {
  it('turns events into op, hold and wait intervals; what is still going runs to the end', () => {
    const timeline: FindingTimeline = {
      atUs: 500,
      threads: [
        {
          thread: 4,
          op: 'X',
          note: '',
          events: [
            ev(1, 'release', 'z', 90, 'Z'),
            ev(2, 'op-begin', 'X', 100),
            ev(3, 'acquire', 'a', 110, 'A'),
            ev(4, 'acquire', 'b', 120, 'B'),
            ev(5, 'release', 'b', 130, 'B'),
            ev(6, 'contended', 'c', 140, 'C'),
            ev(7, 'ref-put', 'ref', 150),
          ],
        },
      ],
    };
    const { lanes, start, end } = buildLanes(timeline);
    expect([start, end]).toEqual([90, 500]);
    const lane = lanes[0];
    const brief = lane?.intervals.map((i) => [i.kind, i.label, i.start, i.end, i.depth, i.openStart, i.openEnd]);
    expect(brief).toEqual([
      ['hold', 'z', 90, 90, 0, true, false], // released before anything else: held since before the ring
      ['hold', 'b', 120, 130, 1, false, false],
      ['op', 'X', 100, 500, 0, false, true],
      ['wait', 'c', 140, 500, 1, false, true],
      ['hold', 'a', 110, 500, 0, false, true],
    ]);
    expect(lane?.marks.map((m) => [m.kind, m.at])).toEqual([['ref-put', 150]]);
    expect(lane?.depth).toBe(2);
  });

  it('starts the axis at the earliest op still running, so an idle thread does not squeeze the rest', () => {
    const { lanes, start } = buildLanes({
      atUs: 1000,
      threads: [
        { thread: 0, op: 'idle', note: '', events: [ev(1, 'acquire', 'a', 10, 'A'), ev(2, 'release', 'a', 20, 'A')] },
        { thread: 1, op: 'X', note: '', events: [ev(5, 'acquire', 'b', 850, 'B'), ev(6, 'op-begin', 'X', 900), ev(7, 'contended', 'c', 950, 'C')] },
      ],
    });
    expect(start).toBe(896); // 4% of the op's span before it
    expect(lanes[0]?.intervals).toEqual([]);
    expect(lanes[0]?.note).toBe('2 earlier events, before this window (see the report text)');
    // A hold that began before the window is cut at its start.
    expect(lanes[1]?.intervals.find((i) => i.label === 'b')).toMatchObject({ start: 896, openStart: true, openEnd: true });
  });

  it('a logged finding whose events carry no time gets an axis of order, not of µs', () => {
    const untimed: FindingTimeline = {
      atUs: null,
      threads: [{ thread: 2, op: 'X', note: '', events: [ev(1, 'acquire', 'a', null, 'A'), ev(2, 'finding', 'use-after-free', null)] }],
    };
    expect(buildLanes(untimed).timed).toBe(false);
    const svgText = timelineSvg(untimed, 'finding logged');
    expect(svgText).toContain('events in their order; none of them was timed');
    expect(svgText).not.toContain('>µs<');
    expect(buildLanes(kTimeline).timed).toBe(true);
    expect(timelineSvg(kTimeline, 'seen')).toContain('>µs<');
  });

  it('labels ticks without float noise', () => {
    expect([tickLabel(-0.6000000000000001, 0.2), tickLabel(-5.551115123125783e-17, 0.2), tickLabel(-3000, 1000), tickLabel(-0.05, 0.05)]).toEqual(['-0.6', '0', '-3000', '-0.05']);
  });

  it('closes a wait when the lock is acquired after it', () => {
    const { lanes } = buildLanes({
      atUs: null,
      threads: [{ thread: 0, op: '', note: '', events: [ev(1, 'contended', 'a', 10, 'A'), ev(2, 'acquired', 'a', 40, 'A'), ev(3, 'release', 'a', 50, 'A')] }],
    });
    expect(lanes[0]?.intervals.map((i) => [i.kind, i.start, i.end, i.openEnd])).toEqual([
      ['wait', 10, 40, false],
      ['hold', 40, 50, false],
    ]);
  });
});
