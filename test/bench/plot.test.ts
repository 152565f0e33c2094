/** The timed mix's chart (bench/plot.ts) on plain data: one line per version, log axes, self-contained. */
import { describe, expect, it } from 'vitest';
import { mixPlotSvg } from '../../bench/plot.js';

const sorted = (n: number, top: number): number[] => Array.from({ length: n }, (_, i) => 1 + (top * i) / n).sort((a, b) => a - b);

describe('the mix chart', () => {
  const svg = mixPlotSvg(
    [
      { label: '51cdc8bc', sortedUs: sorted(1000, 8000), detail: '158 deadlocks' },
      { label: '2b48f52f2bff', sortedUs: sorted(5000, 50), detail: '0 deadlocks' },
      { label: 'empty', sortedUs: [], detail: '' },
    ],
    'title <&>',
    'subtitle',
  );

  it('draws one line and one legend entry per version that has samples', () => {
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('>51cdc8bc</text>');
    expect(svg).toContain('>2b48f52f2bff</text>');
    expect(svg).not.toContain('>empty</text>');
  });

  it('has log axes: decades of latency, and percentiles up to what the samples resolve', () => {
    for (const tick of ['1 µs', '10 µs', '100 µs', '1 ms', '10 ms']) expect(svg).toContain(`>${tick}</text>`);
    for (const tick of ['0%', '90%', '99%', '99.9%', '99.99%']) expect(svg).toContain(`>${tick}</text>`);
    expect(svg).not.toContain('>99.999%</text>');
  });

  it('is one self-contained SVG document, text escaped', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).not.toMatch(/<script|<image|href=|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(svg).toContain('title &lt;&amp;&gt;');
  });
});
