/**
 * `npm run bench -- --plot DIR`: the timed mix's latency distribution of every version on one
 * log-scale chart, as a self-contained SVG (no script, no external font or stylesheet).
 *
 * The chart is a percentile plot, as HdrHistogram draws them: x is the percentile on a log scale of
 * 1 / (1 - q), so 90%, 99%, 99.9% and 99.99% are evenly spaced and the tail gets as much room as
 * the body; y is the op's latency on a log scale. A version that deadlocks leaves the others at
 * its tail: its line climbs to the milliseconds the watchdog took to tear the round down.
 */
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../src/errors.js';
import { quantileSorted } from './latency.js';

export const kPlotFile = 'mix-latency.svg';

export interface PlotSeries {
  label: string;
  /** Sorted ascending, µs. */
  sortedUs: readonly number[];
  /** Shown in the legend beside the label. */
  detail: string;
}

const kWidth = 920;
const kHeight = 520;
const kMargin = { left: 78, right: 290, top: 56, bottom: 64 };
const kColors = ['#d62728', '#ff7f0e', '#2ca02c', '#1f77b4', '#9467bd', '#8c564b', '#17becf'];

const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function formatUs(us: number): string {
  if (us >= 1_000_000) return `${us / 1_000_000} s`;
  if (us >= 1000) return `${us / 1000} ms`;
  if (us >= 1) return `${us} µs`;
  return `${Math.round(us * 1000)} ns`;
}

function formatPercentile(decade: number): string {
  if (decade === 0) return '0%';
  const q = 1 - 10 ** -decade;
  return `${(q * 100).toFixed(Math.max(0, decade - 2))}%`;
}

/** The SVG text of the chart. */
export function mixPlotSvg(series: readonly PlotSeries[], title: string, subtitle: string): string {
  const drawn = series.filter((s) => s.sortedUs.length > 0);
  const all = drawn.flatMap((s) => [s.sortedUs[0] ?? 0, s.sortedUs[s.sortedUs.length - 1] ?? 0]).filter((x) => x > 0);
  const yLo = Math.floor(Math.log10(Math.min(...all, 1)));
  const yHi = Math.max(yLo + 1, Math.ceil(Math.log10(Math.max(...all, 10))));
  // x: decades of 1 / (1 - q), up to the resolution of the largest sample count.
  const xHi = Math.max(1, Math.ceil(Math.log10(Math.max(...drawn.map((s) => s.sortedUs.length), 10))));
  const plotW = kWidth - kMargin.left - kMargin.right;
  const plotH = kHeight - kMargin.top - kMargin.bottom;
  const x = (decade: number): number => kMargin.left + (decade / xHi) * plotW;
  const y = (us: number): number => kMargin.top + plotH - ((Math.log10(Math.max(us, 10 ** yLo)) - yLo) / (yHi - yLo)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${kWidth}" height="${kHeight}" viewBox="0 0 ${kWidth} ${kHeight}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${kWidth}" height="${kHeight}" fill="#ffffff"/>`,
    `<text x="${kMargin.left}" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`,
    `<text x="${kMargin.left}" y="42" fill="#555555">${esc(subtitle)}</text>`,
  ];
  for (let d = yLo; d <= yHi; d++) {
    const yy = y(10 ** d).toFixed(1);
    out.push(`<line x1="${kMargin.left}" x2="${kMargin.left + plotW}" y1="${yy}" y2="${yy}" stroke="#dddddd"/>`);
    out.push(`<text x="${kMargin.left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle">${esc(formatUs(10 ** d))}</text>`);
  }
  for (let d = 0; d <= xHi; d++) {
    const xx = x(d).toFixed(1);
    out.push(`<line x1="${xx}" x2="${xx}" y1="${kMargin.top}" y2="${kMargin.top + plotH}" stroke="#dddddd"/>`);
    out.push(`<text x="${xx}" y="${kMargin.top + plotH + 18}" text-anchor="middle">${esc(formatPercentile(d))}</text>`);
  }
  out.push(`<rect x="${kMargin.left}" y="${kMargin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888888"/>`);
  out.push(`<text x="${kMargin.left + plotW / 2}" y="${kHeight - 18}" text-anchor="middle">percentile (log scale of 1 / (1 - q))</text>`);
  out.push(
    `<text transform="translate(18 ${kMargin.top + plotH / 2}) rotate(-90)" text-anchor="middle">op latency (log scale)</text>`,
  );
  drawn.forEach((s, i) => {
    const color = kColors[i % kColors.length] ?? '#000000';
    const n = s.sortedUs.length;
    // 60 points per decade, up to the largest decade this series resolves, then its max.
    const top = Math.log10(n);
    const points: string[] = [];
    for (let k = 0; k <= Math.floor(top * 60); k++) {
      const d = k / 60;
      points.push(`${x(d).toFixed(1)},${y(quantileSorted(s.sortedUs, 1 - 10 ** -d)).toFixed(1)}`);
    }
    points.push(`${x(top).toFixed(1)},${y(s.sortedUs[n - 1] ?? 0).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" points="${points.join(' ')}"/>`);
    out.push(`<circle cx="${x(top).toFixed(1)}" cy="${y(s.sortedUs[n - 1] ?? 0).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = kMargin.top + 14 + i * 38;
    const lx = kMargin.left + plotW + 18;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle" font-weight="bold">${esc(s.label)}</text>`);
    out.push(`<text x="${lx + 30}" y="${ly + 15}" dominant-baseline="middle" fill="#555555" font-size="11">${esc(s.detail)}</text>`);
  });
  out.push(
    `<text x="${kMargin.left + plotW + 18}" y="${kMargin.top + plotH}" fill="#555555" font-size="11">dot: the slowest op</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Before the run: makes `dir` if missing and checks it can be written; a ConfigError naming `--plot` if not. */
export function preparePlotDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new ConfigError(`--plot=${JSON.stringify(dir)}: cannot write a chart there (${code})`);
  }
}

/** Writes the chart into `dir` (made if missing); returns its path. */
export function writeMixPlot(dir: string, series: readonly PlotSeries[], title: string, subtitle: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, kPlotFile);
  writeFileSync(path, mixPlotSvg(series, title, subtitle));
  return path;
}
