/**
 * The human summary of `lockstress merge` (the merged JSON goes to stdout): one line per variant
 * and seed with the file it came from, then the verdict of the whole.
 */
import { statusWord } from '../runner/report.js';
import { type StressDocument, formatDocumentExpectation } from './document.js';

export function formatMergeSummary(doc: StressDocument, fileOf: (index: number) => string): string {
  const rows = doc.variants.map((v, i) => [
    doc.seeds > 1 ? `${v.name} (seed ${v.seed})` : v.name,
    formatDocumentExpectation(v.expect),
    v.seen.length === 0 ? 'clean' : v.seen.join(', '),
    statusWord(v),
    String(v.rounds),
    fileOf(i),
  ]);
  const header = ['variant', 'expected', 'seen', 'pass', 'rounds', 'from'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)) + 2);
  const line = (cells: readonly string[]): string =>
    cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('');
  const count = (status: string): number => doc.variants.filter((v) => v.status === status).length;
  const others = (['fail', 'inconclusive', 'skipped'] as const)
    .filter((s) => count(s) > 0)
    .map((s) => `, ${count(s)} ${s === 'fail' ? 'failed' : s}`)
    .join('');
  const files = doc.merged?.length ?? 1;
  return [
    `lockstress merge: scenario ${doc.scenario}, ${files} document${files === 1 ? '' : 's'}, ${doc.variants.length} variant runs`,
    '',
    line(header),
    ...rows.map(line),
    '',
    `${doc.interrupted ? 'INTERRUPTED: ' : ''}${count('pass')}/${doc.variants.length} passed${others}; verdict ${doc.verdict} (exit ${doc.exitCode})`,
  ].join('\n');
}
