/**
 * `--html FILE`: one self-contained HTML page from the `--json` document. Everything is inline
 * (CSS and SVG; the page has no script and loads nothing), so the file opens anywhere, offline:
 *
 * - the verdict table (every variant: status, seen, rounds, rounds/s, time);
 * - per finding: for a lock-order cycle, the variant's lock-order graph with the cycle
 *   highlighted; for a deadlock, the wait-for graph (threads and locks, who holds and who waits
 *   for what); the timeline of its threads' last events (swimlanes, from the event rings); and the
 *   kernel-format report;
 * - per variant: lock_stat as a table with bars, and the op-overlap coverage matrix.
 *
 * Pure: a document in, a string out (report/html-graphs.ts lays out the graphs).
 */
import type { FindingTimeline } from '../event-types.js';
import type { FindingDocument, StressDocument, VariantDocument } from './document-types.js';
import { formatDocumentExpectation } from './document.js';
import { escapeHtml } from './html-escape.js';
import { type WaitForThread, lockOrderSvg, waitForSvg } from './html-graphs.js';
import { timelineSvg } from './html-timeline.js';

const h = escapeHtml;

export function toHtml(doc: StressDocument): string {
  const title = `lockstress: ${doc.scenario}${doc.seed === null ? '' : `, seed ${doc.seed}`} — ${doc.verdict}`;
  const body = [header(doc), verdictTable(doc), ...doc.variants.map((v) => variantSection(v, doc.seeds > 1)), footer()];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)}</title>
<style>${kCss}</style>
</head>
<body>
<main>
${body.join('\n')}
</main>
</body>
</html>
`;
}

function statusWord(status: string): string {
  return status === 'skipped' ? 'SKIP' : status.toUpperCase();
}

function badge(status: string): string {
  return `<span class="badge badge-${h(status)}">${statusWord(status)}</span>`;
}

function variantId(v: VariantDocument, withSeed: boolean): string {
  return `v-${v.name.replace(/[^A-Za-z0-9_-]/g, '_')}${withSeed ? `-${v.seed}` : ''}`;
}

function header(doc: StressDocument): string {
  const facts = [
    `scenario <b>${h(doc.scenario)}</b>`,
    doc.threads === null ? '' : `${doc.threads} threads`,
    doc.seed === null ? '' : `seed <b>${doc.seed}</b>${doc.seeds > 1 ? ` (+${doc.seeds - 1} more)` : ''}`,
    doc.shard === null ? '' : `shard ${doc.shard.index}/${doc.shard.count}`,
    doc.startedAt === '' ? '' : `started ${h(doc.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}`,
    `${(doc.durationMs / 1000).toFixed(1)} s`,
  ].filter((s) => s !== '');
  const passed = doc.variants.filter((v) => v.status === 'pass').length;
  return `<header>
<h1>lockstress report</h1>
<p class="facts">${facts.join(' · ')}</p>
<p class="verdict verdict-${h(doc.verdict)}">${statusWord(doc.verdict)} <span>${passed}/${doc.variants.length} variants passed${doc.interrupted ? ', interrupted' : ''} · exit ${doc.exitCode}${doc.seed === null ? '' : ` · replay with <code>LOCKSTRESS_SEED=${doc.seed}</code>`}</span></p>
</header>`;
}

function verdictTable(doc: StressDocument): string {
  const withSeed = doc.seeds > 1;
  const rows = doc.variants.map((v) => {
    const rate = v.roundsPerSec ?? (v.durationMs > 0 ? Math.round((v.rounds * 1000) / v.durationMs) : 0);
    const seen = v.seen.length === 0 ? '<span class="clean">clean</span>' : v.seen.map((k) => `<span class="kind kind-${h(k)}">${h(k)}</span>`).join(' ');
    return `<tr data-variant="${h(v.name)}" data-status="${h(v.status)}"><td><a href="#${variantId(v, withSeed)}">${h(v.name)}</a>${withSeed ? ` <small>seed ${v.seed}</small>` : ''}</td><td>${h(formatDocumentExpectation(v.expect))}</td><td>${seen}</td><td>${badge(v.status)}${v.note === '' ? '' : ` <small>${h(v.note)}</small>`}</td><td class="num">${v.rounds}</td><td class="num">${rate}</td><td class="num">${v.durationMs} ms</td></tr>`;
  });
  return `<section id="verdicts">
<h2>Verdicts</h2>
<table class="verdicts">
<thead><tr><th>variant</th><th>expected</th><th>seen</th><th>status</th><th class="num">rounds</th><th class="num">rounds/s</th><th class="num">time</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</section>`;
}

function variantSection(v: VariantDocument, withSeed: boolean): string {
  const facts = [
    `expected <b>${h(formatDocumentExpectation(v.expect))}</b>`,
    `${v.rounds} round${v.rounds === 1 ? '' : 's'} in ${v.durationMs} ms (stopped by ${h(v.stoppedBy)})`,
    `${v.abortedRounds} torn down`,
    v.firstDeadlockMs === null ? '' : `first deadlock after ${v.firstDeadlockMs} ms`,
  ].filter((s) => s !== '');
  const parts = [
    `<section class="variant" id="${variantId(v, withSeed)}" data-variant="${h(v.name)}">`,
    `<h2>${h(v.name)} ${badge(v.status)}${withSeed ? ` <small>seed ${v.seed}</small>` : ''}</h2>`,
    `<p class="desc">${h(v.description)}</p>`,
    `<p class="facts">${facts.join(' · ')}</p>`,
    ...v.errors.map((e) => `<p class="error">${h(e)}</p>`),
    ...v.findings.map((f, i) => findingArticle(v, f, i)),
    `<div class="tables">${lockStatTable(v)}${coverageMatrix(v)}</div>`,
    '</section>',
  ];
  return parts.join('\n');
}

function findingArticle(v: VariantDocument, f: FindingDocument, index: number): string {
  const figures: string[] = [];
  if (f.kind === 'lock-order-cycle') {
    const chain = chainOf(f.evidence);
    if (chain.length > 0) {
      const svg = lockOrderSvg(
        v.lockOrder ?? [],
        chain.map((c) => c.class),
        chain.map((c) => c.site),
      );
      figures.push(
        figure(
          'lock-order graph',
          `the variant's ${v.lockOrder?.length ?? 0} learned lock-order edges (A -> B: B was taken while A was held); the cycle in red, each of its edges labelled with the site that took its lock`,
          `<div class="side">${svg}${chainTable(chain, f.evidence)}</div>`,
        ),
      );
    }
  }
  if (f.kind === 'deadlock') {
    const evidence = deadlockOf(f.evidence);
    if (evidence !== null) {
      figures.push(figure('wait-for graph', 'threads (rounded) and locks (square): a lock points to the thread that holds it, a thread to the lock it waits for; the cycle in red', waitForSvg(evidence.cycle, evidence.others)));
    }
  }
  const timeline = f.timeline;
  if (timeline !== undefined && timeline.threads.some((t) => t.events.length > 0)) {
    figures.push(figure('timeline', timelineCaption(f, timeline), timelineSvg(timeline, endLabel(f))));
  } else if (timeline !== undefined) {
    figures.push(`<p class="note">No events: ${h(timeline.threads.map((t) => t.note).filter((n) => n !== '').join('; ') || 'the ring was empty')}.</p>`);
  }
  return `<article class="finding" data-kind="${h(f.kind)}" data-index="${index}">
<h3><span class="kind kind-${h(f.kind)}">${h(f.kind)}</span> <small>${f.count} round${f.count === 1 ? '' : 's'}, first in round ${f.firstRound}</small></h3>
<p class="message">${h(f.message)}</p>
${figures.join('\n')}
<details><summary>kernel-format report and last events</summary><pre>${h(f.report)}</pre></details>
</article>`;
}

/** The cycle's edges as lockdep's dependency chain: held, then taken, where. */
function chainTable(chain: ReadonlyArray<{ class: string; site: string }>, evidence: unknown): string {
  const rows = chain.map((c, i) => {
    const next = chain[(i + 1) % chain.length];
    return `<tr><td>${h(c.class)}</td><td class="arrow">→</td><td>${h(next?.class ?? '')}</td><td><code>${h(next?.site ?? '')}</code></td></tr>`;
  });
  const closing = (evidence as { closing?: { thread?: unknown; held?: unknown; heldSite?: unknown; wanted?: unknown; wantedSite?: unknown } } | null)?.closing;
  const closed =
    closing !== undefined && typeof closing.wanted === 'string'
      ? `<p class="note">Closed by thread ${h(String(closing.thread))} taking <b>${h(closing.wanted)}</b> at <code>${h(String(closing.wantedSite))}</code> while holding <b>${h(String(closing.held))}</b> (taken at <code>${h(String(closing.heldSite))}</code>).</p>`
      : '';
  return `<div class="chain"><h4>the cycle</h4><table class="chain"><thead><tr><th>held</th><th></th><th>then took</th><th>at</th></tr></thead><tbody>${rows.join('')}</tbody></table>${closed}</div>`;
}

function figure(kind: string, caption: string, svg: string): string {
  return `<figure class="figure-${kind.replace(/ /g, '-')}"><figcaption><b>${h(kind)}</b> — ${h(caption)}</figcaption><div class="scroll">${svg}</div></figure>`;
}

function endLabel(f: FindingDocument): string {
  if (f.kind === 'deadlock') return 'watchdog saw the deadlock';
  if (f.kind === 'stuck') return 'watchdog saw the hang';
  return 'finding logged';
}

function timelineCaption(f: FindingDocument, t: FindingTimeline): string {
  const threads = t.threads.map((x) => `thread-${x.thread}`).join(', ');
  const round = t.threads.flatMap((x) => x.events).at(-1)?.round;
  const what = t.atUs === null ? `the events of ${threads} before it logged this ${f.kind}` : `the last events of ${threads}, read when the watchdog made this finding`;
  return `${what}${round === undefined ? '' : `, round ${round}`}: ops on top, held locks below by nesting depth, waits hatched; µs relative to the finding; untimed events placed between timed ones`;
}

// ---- evidence, read defensively (a merged document may come from an older lockstress) -------

function chainOf(evidence: unknown): Array<{ class: string; site: string }> {
  const chain = (evidence as { chain?: unknown } | null)?.chain;
  if (!Array.isArray(chain)) return [];
  return chain
    .filter((c): c is { class: string; site?: unknown } => typeof (c as { class?: unknown })?.class === 'string')
    .map((c) => ({ class: c.class, site: typeof c.site === 'string' ? c.site : '' }));
}

function deadlockOf(evidence: unknown): { cycle: WaitForThread[]; others: WaitForThread[] } | null {
  const e = evidence as { cycle?: unknown; others?: unknown } | null;
  if (!Array.isArray(e?.cycle)) return null;
  const threads = (list: unknown): WaitForThread[] =>
    (Array.isArray(list) ? list : []).map((raw) => {
      const t = raw as Partial<WaitForThread>;
      return {
        thread: typeof t.thread === 'number' ? t.thread : -1,
        op: typeof t.op === 'string' ? t.op : '',
        held: Array.isArray(t.held) ? t.held : [],
        waitingFor: t.waitingFor ?? null,
      };
    });
  return { cycle: threads(e.cycle), others: threads(e.others) };
}

// ---- tables --------------------------------------------------------------------------------

function lockStatTable(v: VariantDocument): string {
  if (v.lockStats.length === 0) return '';
  const columns = [
    ['acquisitions', 'acquisitions'],
    ['contentions', 'contentions'],
    ['maxWaitUs', 'max wait µs'],
    ['maxHoldUs', 'max hold µs'],
  ] as const;
  const max = Object.fromEntries(columns.map(([key]) => [key, Math.max(1, ...v.lockStats.map((s) => s[key]))]));
  const rows = v.lockStats.map(
    (s) =>
      `<tr data-lock="${h(s.lock)}"><td>${h(s.lock)}</td>${columns
        .map(([key]) => {
          const pct = (100 * s[key]) / (max[key] ?? 1);
          return `<td class="bar bar-${key}"><span style="width:${pct.toFixed(1)}%"></span><em>${s[key]}</em></td>`;
        })
        .join('')}</tr>`,
  );
  return `<div class="lockstat"><h4>lock_stat</h4><table class="lockstat"><thead><tr><th>lock class</th>${columns.map(([, label]) => `<th>${label}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table><p class="note">max hold is sampled (1 acquisition in 32 is timed)</p></div>`;
}

function coverageMatrix(v: VariantDocument): string {
  const pairs = new Set<string>();
  const ops: string[] = [...(v.coverage.ops ?? [])];
  for (const pair of v.coverage.overlapped) {
    const [a, b] = pair.split(' || ');
    if (a === undefined || b === undefined) continue;
    pairs.add(`${a}\u0000${b}`);
    pairs.add(`${b}\u0000${a}`);
    for (const op of [a, b]) if (!ops.includes(op)) ops.push(op);
  }
  if (ops.length === 0) return '';
  const head = `<tr><th></th>${ops.map((o) => `<th class="col"><span>${h(o)}</span></th>`).join('')}</tr>`;
  const rows = ops.map(
    (a) =>
      `<tr><th>${h(a)}</th>${ops
        .map((b) => {
          const seen = pairs.has(`${a}\u0000${b}`);
          return `<td class="${seen ? 'on' : 'off'}" data-pair="${h(`${a} || ${b}`)}" title="${h(`${a} || ${b}: ${seen ? 'seen running together' : 'never seen together'}`)}">${seen ? '●' : ''}</td>`;
        })
        .join('')}</tr>`,
  );
  return `<div class="coverage"><h4>overlap coverage <small>${v.coverage.pairsOverlapped}/${v.coverage.pairsPossible} pairs</small></h4><table class="coverage">${head}${rows.join('')}</table><p class="note">● the two ops were seen running at the same time on two threads</p></div>`;
}

function footer(): string {
  return '<footer>Written by lockstress. This page is self-contained: no script, no network.</footer>';
}

const kCss = `
:root { --fg:#1d2330; --muted:#5f6b7a; --line:#d9dee5; --bg:#f6f7f9; --card:#fff; --hot:#d62728; --hot-bg:#fde2e1;
  --pass:#1b7f3b; --fail:#c62828; --inc:#a36200; --skip:#5f6b7a; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg); font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width:1120px; margin:0 auto; padding:20px 24px 40px; }
header h1 { margin:0 0 4px; font-size:24px; }
h2 { font-size:19px; margin:0 0 6px; }
h3 { font-size:15px; margin:0 0 4px; }
h4 { font-size:13px; margin:0 0 6px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
small { color:var(--muted); font-weight:normal; }
code, pre, .graph text, .timeline text { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.facts { color:var(--muted); margin:2px 0 8px; }
.verdict { display:inline-block; padding:6px 12px; border-radius:6px; font-weight:700; margin:4px 0 14px; }
.verdict span { font-weight:400; margin-left:8px; }
.verdict-pass { background:#e3f4e8; color:var(--pass); } .verdict-fail { background:#fdecea; color:var(--fail); }
.verdict-inconclusive { background:#fff3dc; color:var(--inc); } .verdict-interrupted { background:#eceff3; color:var(--skip); }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:16px 18px; margin:0 0 16px; }
table { border-collapse:collapse; }
table.verdicts { width:100%; }
.verdicts th, .verdicts td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
.verdicts tbody tr:hover { background:#f2f5f9; }
th { font-weight:600; color:var(--muted); font-size:12px; }
.num { text-align:right !important; font-variant-numeric:tabular-nums; }
a { color:#1f5fbf; text-decoration:none; } a:hover { text-decoration:underline; }
.badge { display:inline-block; font-size:11px; font-weight:700; padding:1px 7px; border-radius:10px; color:#fff; vertical-align:middle; }
.badge-pass { background:var(--pass); } .badge-fail { background:var(--fail); } .badge-inconclusive { background:var(--inc); }
.badge-skipped, .badge-interrupted { background:var(--skip); }
.kind { display:inline-block; font-size:12px; padding:0 6px; border-radius:4px; background:#eef1f5; border:1px solid var(--line); margin:1px 0; }
.kind-deadlock, .kind-lock-order-cycle { background:var(--hot-bg); border-color:#f3b5b3; color:#9b1c1c; }
.clean { color:var(--pass); }
.desc { margin:0 0 2px; }
.error { color:var(--fail); font-weight:600; }
article.finding { border-top:1px solid var(--line); padding:12px 0 4px; }
.message { margin:2px 0 8px; }
figure { margin:8px 0 10px; }
figcaption { font-size:12px; color:var(--muted); margin-bottom:4px; }
.scroll { overflow-x:auto; border:1px solid var(--line); border-radius:6px; background:#fbfcfd; padding:6px; }
details { margin:4px 0 8px; } summary { cursor:pointer; color:#1f5fbf; font-size:13px; }
pre { background:#0f1720; color:#dde3ea; padding:10px 12px; border-radius:6px; overflow-x:auto; font-size:12px; line-height:1.35; }
.note { color:var(--muted); font-size:12px; margin:4px 0; }
.side { display:flex; flex-wrap:wrap; gap:24px; align-items:flex-start; }
.chain { flex:1 1 320px; max-width:560px; padding-top:8px; }
table.chain th, table.chain td { padding:3px 8px; border-bottom:1px solid #eef0f3; font-size:12.5px; text-align:left; }
table.chain td.arrow { color:var(--hot); padding:3px 2px; }
table.chain code { font-size:12px; color:#8f1515; }
.tables { display:flex; flex-wrap:wrap; gap:28px; border-top:1px solid var(--line); padding-top:12px; margin-top:8px; }
table.lockstat th, table.lockstat td { padding:3px 8px; text-align:left; border-bottom:1px solid #eef0f3; font-size:12.5px; }
td.bar { position:relative; min-width:110px; }
td.bar span { position:absolute; left:4px; top:4px; bottom:4px; background:#cfe0f5; border-radius:2px; }
td.bar-contentions span, td.bar-maxWaitUs span { background:#f7c9c7; }
td.bar em { position:relative; font-style:normal; font-variant-numeric:tabular-nums; }
table.coverage th, table.coverage td { border:1px solid var(--line); padding:3px 7px; font-size:12px; text-align:center; }
table.coverage th { text-align:right; }
table.coverage th.col { text-align:center; }
table.coverage td.on { background:#dff0e4; color:var(--pass); }
table.coverage td.off { background:#fafafa; }
footer { color:var(--muted); font-size:12px; text-align:center; margin-top:20px; }
/* graphs */
.graph .node rect { fill:#fff; stroke:#7b8794; stroke-width:1.3; }
.graph .node text.name { font-size:12px; fill:var(--fg); }
.graph .node text.sub { font-size:10.5px; fill:var(--muted); }
.graph .node.thread rect { fill:#eef4fb; stroke:#4e79a7; }
.graph .node.hot rect { fill:var(--hot-bg); stroke:var(--hot); stroke-width:2.2; }
.graph .node.hot text.name { fill:#8f1515; font-weight:700; }
.graph .edge path { fill:none; stroke:#9aa5b1; stroke-width:1.4; }
.graph .edge.waits path { stroke-dasharray:5 4; }
.graph .edge.hot path { stroke:var(--hot); stroke-width:2.4; }
.graph .arrowhead { fill:#9aa5b1; } .graph .arrowhead.hot { fill:var(--hot); }
.graph .edge-label { font-size:10.5px; fill:#444; paint-order:stroke; stroke:#fbfcfd; stroke-width:4px; }
.graph .edge.hot .edge-label { fill:#8f1515; }
/* timeline */
.timeline .lane-bg { fill:#fff; stroke:#e6e9ee; }
.timeline .lane-name { font-size:12px; font-weight:700; fill:var(--fg); }
.timeline .lane-op { font-size:11px; fill:var(--muted); }
.timeline .lane-note { font-size:11px; fill:var(--muted); }
.timeline .op rect { fill:#e9edf3; stroke:#c6ced8; }
.timeline .op text { font-size:10.5px; fill:#44505e; }
.timeline .hold text, .timeline .wait text, .timeline .word-wait text { font-size:10.5px; fill:#1d2330; }
.timeline .wait rect { stroke:var(--hot); stroke-width:1; }
.timeline .wait text { fill:#7a1010; font-weight:700; paint-order:stroke; stroke:#fde2e1; stroke-width:3px; }
.timeline .word-wait rect { stroke:#999; }
.timeline .word-wait text { fill:#333; }
.timeline .mark path { fill:#555; }
.timeline .mark-finding path { fill:var(--hot); }
.timeline .mark-round-start path { fill:#59a14f; }
.timeline .axis line { stroke:#9aa5b1; }
.timeline .axis text { font-size:10.5px; fill:var(--muted); }
.timeline .axis .end-line { stroke:var(--hot); stroke-dasharray:3 3; }
.timeline .axis .end-label { fill:var(--hot); }
`;
