/**
 * The graphs of the HTML report as inline SVG, laid out when the report is written (Node, not the
 * browser) with dagre, the layered graph layout of dagrejs: the page then needs no script, opens
 * at once, and looks the same everywhere; a test can check the SVG without a browser.
 *
 * - {@link lockOrderSvg}: lockdep's lock-order graph of a variant (classes, and an edge A -> B for
 *   "B was taken while A was held"), with a cycle's classes and edges highlighted.
 * - {@link waitForSvg}: a deadlock's wait-for graph: threads and locks, "holds" edges from a lock
 *   to the thread that holds it and "waits for" edges from a thread to the lock it waits for.
 *
 * Every node and edge carries data attributes (data-class, data-thread, data-lock, data-from,
 * data-to, data-cycle) so a reader or a test can find them. Text is measured as monospace.
 */
import { Graph, layout } from '@dagrejs/dagre';
import { escapeHtml } from './html-escape.js';

/** Width of one character of the graphs' 12 px monospace font, px. */
const kCharWidth = 7.3;
const kLineHeight = 15;

interface NodeSpec {
  id: string;
  lines: string[];
  shape: 'rect' | 'pill';
  classes: string[];
  data: Record<string, string>;
  title: string;
}

interface EdgeSpec {
  from: string;
  to: string;
  label: string;
  classes: string[];
  data: Record<string, string>;
  title: string;
}

interface Laid {
  width: number;
  height: number;
  nodes: Array<NodeSpec & { x: number; y: number; w: number; h: number }>;
  edges: Array<EdgeSpec & { points: Array<{ x: number; y: number }>; labelAt: { x: number; y: number } | null }>;
}

function measure(lines: readonly string[]): { w: number; h: number } {
  return { w: Math.max(...lines.map((l) => l.length)) * kCharWidth + 22, h: lines.length * kLineHeight + 14 };
}

function lay(nodes: readonly NodeSpec[], edges: readonly EdgeSpec[], rankdir: 'TB' | 'LR'): Laid {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir, nodesep: 28, ranksep: 44, edgesep: 14, marginx: 12, marginy: 12 });
  for (const n of nodes) {
    const { w, h } = measure(n.lines);
    g.setNode(n.id, { width: w, height: h });
  }
  edges.forEach((e, i) => {
    const label = e.label === '' ? { width: 0, height: 0 } : { width: e.label.length * 6.2 + 8, height: 14, labelpos: 'c' };
    g.setEdge(e.from, e.to, label, `e${i}`);
  });
  layout(g);
  const info = g.graph() as { width?: number; height?: number };
  return {
    width: Math.ceil(info.width ?? 0),
    height: Math.ceil(info.height ?? 0),
    nodes: nodes.map((n) => {
      const at = g.node(n.id) as { x: number; y: number; width: number; height: number };
      return { ...n, x: at.x, y: at.y, w: at.width, h: at.height };
    }),
    edges: edges.map((e, i) => {
      const at = g.edge(e.from, e.to, `e${i}`) as { points?: Array<{ x: number; y: number }>; x?: number; y?: number };
      return { ...e, points: at.points ?? [], labelAt: e.label !== '' && at.x !== undefined && at.y !== undefined ? { x: at.x, y: at.y } : null };
    }),
  };
}

function dataAttrs(data: Record<string, string>): string {
  return Object.entries(data)
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join('');
}

/** A smooth path through dagre's points (quadratic segments through the midpoints). */
function pathThrough(points: ReadonlyArray<{ x: number; y: number }>): string {
  const p = points.map((q) => ({ x: Math.round(q.x * 10) / 10, y: Math.round(q.y * 10) / 10 }));
  const first = p[0];
  if (first === undefined) return '';
  if (p.length === 2) return `M${first.x},${first.y} L${p[1]?.x},${p[1]?.y}`;
  let d = `M${first.x},${first.y}`;
  for (let i = 1; i < p.length - 1; i++) {
    const c = p[i];
    const n = p[i + 1];
    if (c === undefined || n === undefined) continue;
    const end = i === p.length - 2 ? n : { x: (c.x + n.x) / 2, y: (c.y + n.y) / 2 };
    d += ` Q${c.x},${c.y} ${end.x},${end.y}`;
  }
  return d;
}

function render(laid: Laid, graph: string, aria: string): string {
  const out: string[] = [];
  out.push(
    `<svg class="graph" data-graph="${graph}" role="img" aria-label="${escapeHtml(aria)}" width="${laid.width}" height="${laid.height}" viewBox="0 0 ${laid.width} ${laid.height}" xmlns="http://www.w3.org/2000/svg">`,
  );
  out.push(
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker>' +
      '<marker id="arrow-hot" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead hot"/></marker></defs>',
  );
  // Edges first, under the nodes.
  for (const e of laid.edges) {
    const hot = e.classes.includes('hot');
    out.push(
      `<g class="edge ${e.classes.join(' ')}"${dataAttrs(e.data)}><title>${escapeHtml(e.title)}</title><path d="${pathThrough(e.points)}" marker-end="url(#${hot ? 'arrow-hot' : 'arrow'})"/>` +
        (e.labelAt === null ? '' : `<text class="edge-label" x="${e.labelAt.x.toFixed(1)}" y="${(e.labelAt.y + 4).toFixed(1)}" text-anchor="middle">${escapeHtml(e.label)}</text>`) +
        '</g>',
    );
  }
  for (const n of laid.nodes) {
    const x = n.x - n.w / 2;
    const y = n.y - n.h / 2;
    const rx = n.shape === 'pill' ? n.h / 2 : 5;
    const text = n.lines
      .map((line, i) => `<text x="${n.x.toFixed(1)}" y="${(y + 7 + kLineHeight * (i + 0.78)).toFixed(1)}" text-anchor="middle" class="${i === 0 ? 'name' : 'sub'}">${escapeHtml(line)}</text>`)
      .join('');
    out.push(
      `<g class="node ${n.classes.join(' ')}"${dataAttrs(n.data)}><title>${escapeHtml(n.title)}</title><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${n.w.toFixed(1)}" height="${n.h.toFixed(1)}" rx="${rx.toFixed(1)}"/>${text}</g>`,
    );
  }
  out.push('</svg>');
  return out.join('');
}

export interface OrderEdgeInput {
  from: string;
  to: string;
  fromSite: string;
  toSite: string;
}

/**
 * The lock-order graph: every learned edge (`edges`), with the cycle `cycle` (classes in cycle
 * order, each edge cycle[i] -> cycle[i + 1] and the last back to the first) highlighted. Cycle
 * edges are labelled with the site where their target was taken (`sites[i]` for cycle[i]).
 */
export function lockOrderSvg(edges: readonly OrderEdgeInput[], cycle: readonly string[], sites: readonly string[]): string {
  const inCycle = new Set(cycle);
  const cycleEdge = new Map<string, number>();
  cycle.forEach((c, i) => cycleEdge.set(`${c}\u0000${cycle[(i + 1) % cycle.length]}`, (i + 1) % cycle.length));
  const all = new Map<string, OrderEdgeInput>();
  for (const e of edges) all.set(`${e.from}\u0000${e.to}`, e);
  // The cycle's edges are drawn even when the variant's edge list does not have them (an old document).
  cycle.forEach((c, i) => {
    const to = cycle[(i + 1) % cycle.length] ?? c;
    const key = `${c}\u0000${to}`;
    if (!all.has(key)) all.set(key, { from: c, to, fromSite: sites[i] ?? '', toSite: sites[(i + 1) % cycle.length] ?? '' });
  });
  const classes = new Set<string>();
  for (const e of all.values()) {
    classes.add(e.from);
    classes.add(e.to);
  }
  const nodes: NodeSpec[] = [...classes].map((c) => ({
    id: c,
    lines: [c],
    shape: 'rect',
    classes: inCycle.has(c) ? ['class', 'hot'] : ['class'],
    data: { class: c, cycle: inCycle.has(c) ? '1' : '0' },
    title: inCycle.has(c) ? `${c}: in the cycle` : c,
  }));
  const edgeSpecs: EdgeSpec[] = [...all.values()].map((e) => {
    const at = cycleEdge.get(`${e.from}\u0000${e.to}`);
    const hot = at !== undefined;
    const site = hot ? (sites[at] ?? e.toSite) : e.toSite;
    return {
      from: e.from,
      to: e.to,
      label: hot ? site : '',
      classes: hot ? ['hot'] : [],
      data: { from: e.from, to: e.to, cycle: hot ? '1' : '0' },
      title: `${e.from} held at ${e.fromSite || '?'} while ${e.to} was taken at ${site || '?'}`,
    };
  });
  return render(lay(nodes, edgeSpecs, 'TB'), 'lock-order', `lock-order graph, cycle ${cycle.join(' -> ')}`);
}

export interface WaitForThread {
  thread: number;
  op: string;
  held: Array<{ lock: string; class: string; site: string }>;
  waitingFor: { lock: string; class: string; site: string; ownerThread: number } | null;
}

/**
 * A deadlock's wait-for graph: the threads of the cycle and the others blocked with it, the locks
 * they hold and wait for. The cycle's threads, locks and edges are highlighted.
 */
export function waitForSvg(cycle: readonly WaitForThread[], others: readonly WaitForThread[]): string {
  const hotThreads = new Set(cycle.map((t) => t.thread));
  const hotLocks = new Set(cycle.map((t) => t.waitingFor?.lock ?? ''));
  const locks = new Map<string, string>();
  const edges: EdgeSpec[] = [];
  const threadId = (t: number): string => `t${t}`;
  const lockId = (l: string): string => `l:${l}`;
  for (const t of [...cycle, ...others]) {
    for (const h of t.held) {
      locks.set(h.lock, h.class);
      const hot = hotThreads.has(t.thread) && hotLocks.has(h.lock);
      edges.push({
        from: lockId(h.lock),
        to: threadId(t.thread),
        label: 'held by',
        classes: hot ? ['holds', 'hot'] : ['holds'],
        data: { kind: 'holds', lock: h.lock, thread: String(t.thread), cycle: hot ? '1' : '0' },
        title: `${h.lock} is held by thread-${t.thread} (taken at ${h.site})`,
      });
    }
    const w = t.waitingFor;
    if (w !== null) {
      locks.set(w.lock, w.class);
      const hot = hotThreads.has(t.thread);
      edges.push({
        from: threadId(t.thread),
        to: lockId(w.lock),
        label: 'waits for',
        classes: hot ? ['waits', 'hot'] : ['waits'],
        data: { kind: 'waits', lock: w.lock, thread: String(t.thread), cycle: hot ? '1' : '0' },
        title: `thread-${t.thread} waits for ${w.lock} at ${w.site}`,
      });
    }
  }
  const nodes: NodeSpec[] = [
    ...[...cycle, ...others].map((t): NodeSpec => {
      const hot = hotThreads.has(t.thread);
      return {
        id: threadId(t.thread),
        lines: [`thread-${t.thread}`, t.op || 'idle'],
        shape: 'pill',
        classes: hot ? ['thread', 'hot'] : ['thread'],
        data: { thread: String(t.thread), cycle: hot ? '1' : '0' },
        title: `thread-${t.thread} running ${t.op || 'nothing'}${hot ? ', in the cycle' : ''}`,
      };
    }),
    ...[...locks].map(([lock, cls]): NodeSpec => {
      const hot = hotLocks.has(lock);
      return {
        id: lockId(lock),
        lines: lock === cls ? [lock] : [lock, cls],
        shape: 'rect',
        classes: hot ? ['lock', 'hot'] : ['lock'],
        data: { lock, class: cls, cycle: hot ? '1' : '0' },
        title: `${lock} (class ${cls})`,
      };
    }),
  ];
  return render(lay(nodes, edges, 'LR'), 'wait-for', `wait-for graph of threads ${[...hotThreads].map((t) => `thread-${t}`).join(', ')}`);
}
