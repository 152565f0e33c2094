/**
 * A finding's timeline as swimlanes, one per thread: what each thread held (bars stacked by
 * nesting depth), what it waited for (hatched), inside which op, and its refcount and finding
 * marks, on one time axis that ends where the finding was made.
 *
 * {@link buildLanes} turns the events into intervals (pure, tested on plain data);
 * {@link timelineSvg} draws them. Untimed events are placed by estimateTimes (lockdep/event-timeline.ts).
 */
import type { EventKindName, FindingTimeline } from '../event-types.js';
import { describeEvent, estimateTimes } from '../lockdep/event-timeline.js';
import { escapeHtml } from './html-escape.js';

export interface Interval {
  kind: 'op' | 'hold' | 'wait' | 'word-wait';
  /** The op, lock instance or shared word. */
  label: string;
  /** The lock class, for holds and waits. */
  class: string;
  start: number;
  end: number;
  /** Began before the first event the ring still had. */
  openStart: boolean;
  /** Still going when the finding was made. */
  openEnd: boolean;
  /** Nesting depth: locks held when it began. */
  depth: number;
}

export interface Mark {
  kind: EventKindName;
  text: string;
  at: number;
}

export interface Lane {
  thread: number;
  op: string;
  intervals: Interval[];
  marks: Mark[];
  /** Deepest nesting seen (rows needed). */
  depth: number;
  note: string;
}

export interface Lanes {
  lanes: Lane[];
  /** µs since the run epoch: where the axis starts, and the moment the finding was made. */
  start: number;
  end: number;
  /** Whether any event shown carries its own time; if none does, the axis is only an order. */
  timed: boolean;
}

/**
 * Intervals and marks of every thread of a timeline, on one axis. The axis starts at the earliest
 * start of an op a thread was still in (so a thread idle since its setup does not squeeze the
 * others into a corner); what began before is cut there (openStart), and earlier marks are left out.
 */
export function buildLanes(timeline: FindingTimeline): Lanes {
  const timed_ = timeline.threads.map((t) => ({ t, times: estimateTimes(t.events, timeline.atUs) }));
  const all = timed_.flatMap((x) => x.times);
  const first = all.length === 0 ? 0 : Math.min(...all);
  const end = timeline.atUs ?? (all.length === 0 ? 0 : Math.max(...all));
  const current = timed_.flatMap(({ t, times }) => {
    const last = t.events.map((e) => e.kind).lastIndexOf('op-begin');
    return last >= 0 && !t.events.slice(last).some((e) => e.kind === 'op-end') ? [times[last] ?? end] : [];
  });
  const focus = current.length === 0 ? first : Math.min(...current);
  const start = Math.max(first, focus - (end - focus) * 0.04);
  const lanes = timed_.map(({ t, times }): Lane => {
    const intervals: Interval[] = [];
    const marks: Mark[] = [];
    const held: Interval[] = [];
    let op: Interval | null = null;
    let lockWait: Interval | null = null;
    let wordWait: Interval | null = null;
    let depth = 0;
    const open = (kind: Interval['kind'], label: string, cls: string, at: number, d: number): Interval => ({
      kind,
      label,
      class: cls,
      start: at,
      end: at,
      openStart: false,
      openEnd: false,
      depth: d,
    });
    t.events.forEach((e, i) => {
      const at = times[i] ?? end;
      switch (e.kind) {
        case 'op-begin':
          op = open('op', e.target, '', at, 0);
          break;
        case 'op-end': {
          const o: Interval = op ?? { ...open('op', e.target, '', start, 0), openStart: true };
          intervals.push({ ...o, end: at });
          op = null;
          break;
        }
        case 'contended':
          lockWait = open('wait', e.target, e.class, at, held.length);
          break;
        case 'acquired':
        case 'acquire':
        case 'trylock': {
          const w: Interval | null = lockWait;
          if (w !== null && w.label === e.target) {
            intervals.push({ ...w, end: at });
            lockWait = null;
          }
          held.push(open('hold', e.target, e.class, at, held.length));
          break;
        }
        case 'release': {
          const k = held.findIndex((h) => h.label === e.target);
          const h = k >= 0 ? held.splice(k, 1)[0] : undefined;
          intervals.push({ ...(h ?? { ...open('hold', e.target, e.class, start, held.length), openStart: true }), end: at });
          break;
        }
        case 'wait-begin':
          wordWait = open('word-wait', e.target, '', at, held.length);
          break;
        case 'wait-end': {
          const w: Interval = wordWait ?? { ...open('word-wait', e.target, '', start, held.length), openStart: true };
          intervals.push({ ...w, end: at });
          wordWait = null;
          break;
        }
        case 'ref-get':
        case 'ref-put':
        case 'finding':
        case 'round-start':
          marks.push({ kind: e.kind, text: describeEvent(e), at });
          break;
      }
      depth = Math.max(depth, held.length);
    });
    for (const still of [op, lockWait, wordWait, ...held] as Array<Interval | null>) {
      if (still !== null) intervals.push({ ...still, end, openEnd: true });
    }
    // Cut to the axis.
    const shown = intervals.filter((i) => i.end >= start).map((i) => (i.start < start ? { ...i, start, openStart: true } : i));
    const hidden = t.events.length - t.events.filter((_, i) => (times[i] ?? end) >= start).length;
    depth = 0;
    for (const i of shown) depth = Math.max(depth, i.depth + (i.kind === 'op' ? 0 : 1));
    const note = t.note !== '' ? t.note : shown.length === 0 && hidden > 0 ? `${hidden} earlier event${hidden === 1 ? '' : 's'}, before this window (see the report text)` : '';
    return { thread: t.thread, op: t.op, intervals: shown, marks: marks.filter((m) => m.at >= start), depth, note };
  });
  const timed = timeline.atUs !== null || timed_.some(({ t, times }) => t.events.some((e, i) => e.timeUs !== null && (times[i] ?? end) >= start));
  return { lanes, start, end, timed };
}

const kPalette = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#ff9da7', '#bab0ac', '#e15759'];
const kWidth = 960;
const kLeft = 120;
const kRight = 24;
const kRow = 17;
const kOpBand = 16;

/** Tick step (µs) for a span: 1, 2 or 5 times a power of ten, about 8 ticks. */
function tickStep(span: number): number {
  const raw = Math.max(span, 1) / 8;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? p * 10;
}

/** A tick's label: whole µs, or as many decimals as the step needs (no float noise). */
export function tickLabel(value: number, step: number): string {
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
  const text = value.toFixed(decimals);
  return Number(text) === 0 ? '0' : text;
}

/** The swimlanes as SVG; `endLabel` names the moment the axis ends at. */
export function timelineSvg(timeline: FindingTimeline, endLabel: string): string {
  const { lanes, start, end, timed } = buildLanes(timeline);
  const span = Math.max(end - start, 1);
  const x = (t: number): number => kLeft + ((t - start) / span) * (kWidth - kLeft - kRight);
  const colors = new Map<string, string>();
  const colorOf = (cls: string): string => {
    let c = colors.get(cls);
    if (c === undefined) {
      c = kPalette[colors.size % kPalette.length] ?? '#888';
      colors.set(cls, c);
    }
    return c;
  };
  const out: string[] = [];
  let y = 8;
  const body: string[] = [];
  for (const lane of lanes) {
    const height = kOpBand + (lane.depth + 1) * kRow + 8;
    body.push(`<g class="lane" data-thread="${lane.thread}" transform="translate(0,${y})">`);
    body.push(`<rect class="lane-bg" x="0" y="0" width="${kWidth}" height="${height}"/>`);
    body.push(`<text class="lane-name" x="8" y="16">thread-${lane.thread}</text><text class="lane-op" x="8" y="31">${escapeHtml(lane.op || '')}</text>`);
    if (lane.note !== '') body.push(`<text class="lane-note" x="${kLeft}" y="${kOpBand + 12}">${escapeHtml(lane.note)}</text>`);
    for (const i of lane.intervals) {
      const x0 = x(i.start);
      const w = Math.max(x(i.end) - x0, 2);
      const title = escapeHtml(
        `${i.kind === 'op' ? 'op' : i.kind === 'hold' ? 'holds' : 'waits for'} ${i.label}${i.class !== '' && i.class !== i.label ? ` (${i.class})` : ''}: ${Math.round(i.start - end)} to ${i.openEnd ? 'the end' : Math.round(i.end - end)} µs${i.openStart ? ' (began earlier)' : ''}`,
      );
      const attrs = `data-kind="${i.kind}" data-target="${escapeHtml(i.label)}"${i.class === '' ? '' : ` data-class="${escapeHtml(i.class)}"`}`;
      if (i.kind === 'op') {
        body.push(
          `<g class="op" ${attrs}><title>${title}</title><rect x="${x0.toFixed(1)}" y="2" width="${w.toFixed(1)}" height="${kOpBand - 4}" rx="3"/>${w > i.label.length * 6 + 8 ? `<text x="${(x0 + 4).toFixed(1)}" y="${kOpBand - 5}">${escapeHtml(i.label)}</text>` : ''}</g>`,
        );
        continue;
      }
      const top = kOpBand + i.depth * kRow + 2;
      const color = i.kind === 'hold' ? colorOf(i.class) : '';
      const paint = i.kind === 'hold' ? `fill="${color}" fill-opacity="0.3" stroke="${color}"` : `fill="url(#${i.kind === 'wait' ? 'hatch-wait' : 'hatch-word'})"`;
      const label = i.kind === 'word-wait' ? `word ${i.label}` : i.label;
      body.push(
        `<g class="${i.kind}${i.openEnd ? ' open' : ''}" ${attrs}><title>${title}</title><rect x="${x0.toFixed(1)}" y="${top}" width="${w.toFixed(1)}" height="${kRow - 3}" rx="2" ${paint}/>` +
          (w > label.length * 6.3 + 8 ? `<text x="${(x0 + 4).toFixed(1)}" y="${top + kRow - 7}">${escapeHtml(label)}</text>` : '') +
          '</g>',
      );
    }
    for (const m of lane.marks) {
      const mx = x(m.at);
      body.push(
        `<g class="mark mark-${m.kind}" data-kind="${m.kind}"><title>${escapeHtml(`${m.kind} ${m.text} (${Math.round(m.at - end)} µs)`)}</title><path d="M${mx.toFixed(1)},${kOpBand - 1} l-4,-7 h8 z"/></g>`,
      );
    }
    body.push('</g>');
    y += height + 6;
  }
  // The axis: µs relative to the end.
  const axisY = y + 4;
  const step = tickStep(span);
  const ticks: string[] = [];
  // Without a single timed event the axis is an order, not a time: no ticks then.
  for (let k = Math.ceil((start - end) / step); timed && k <= 0; k++) {
    const v = k * step;
    const tx = x(end + v);
    ticks.push(`<line x1="${tx.toFixed(1)}" y1="${axisY}" x2="${tx.toFixed(1)}" y2="${axisY + 5}"/><text x="${tx.toFixed(1)}" y="${axisY + 17}" text-anchor="middle">${tickLabel(v, step)}</text>`);
  }
  const unit = timed
    ? `<text x="${kLeft - 8}" y="${axisY + 17}" text-anchor="end">µs</text>`
    : `<text x="${kLeft}" y="${axisY + 17}">events in their order; none of them was timed</text>`;
  const height = axisY + 36;
  out.push(
    `<svg class="timeline" data-graph="timeline" role="img" aria-label="timeline of ${lanes.length} threads" width="${kWidth}" height="${height}" viewBox="0 0 ${kWidth} ${height}" xmlns="http://www.w3.org/2000/svg">`,
    '<defs><pattern id="hatch-wait" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fde2e1"/><line x1="0" y1="0" x2="0" y2="6" stroke="#d62728" stroke-width="3"/></pattern>' +
      '<pattern id="hatch-word" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"/><line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>',
    ...body,
    `<g class="axis"><line x1="${kLeft}" y1="${axisY}" x2="${kWidth - kRight}" y2="${axisY}"/>${ticks.join('')}<line class="end-line" x1="${x(end).toFixed(1)}" y1="0" x2="${x(end).toFixed(1)}" y2="${axisY}"/>${unit}<text class="end-label" x="${(x(end) - 4).toFixed(1)}" y="${axisY + 31}" text-anchor="end">${escapeHtml(endLabel)}</text></g>`,
    '</svg>',
  );
  return out.join('');
}
