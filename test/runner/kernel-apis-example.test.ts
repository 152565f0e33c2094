/** The README's example of the kernel APIs (rwsem, rwlock, irq, nesting, completions) works as shown. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveStressOptions } from '../../src/runner/options.js';
import { runStress } from '../../src/runner/run-stress.js';

const example = fileURLToPath(new URL('../fixtures/scenarios/kernel-apis.js', import.meta.url));

describe('README kernel-API example', () => {
  it('is the file the README shows', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const code = readFileSync(example, 'utf8').split('\n').slice(1).join('\n').trim();
    expect(readme).toContain(code);
  });

  it('every broken variant shows its finding and every fixed one is clean', async () => {
    const run = await runStress(resolveStressOptions({ scenario: example, threads: 1, rounds: 20, seed: 5, durationMs: 20_000 }));
    expect(run.variants.map((v) => `${v.name}: ${v.seen.join(', ') || 'clean'}`)).toEqual([
      'rwsem-read-twice: recursive-lock',
      'rwlock-read-twice: clean',
      'irq-unsafe: inconsistent-lock-state',
      'irq-safe: clean',
      'forks: recursive-lock',
      'forks-nested: clean',
      'flush-holding: lock-order-cycle',
      'flush-released: clean',
    ]);
    expect(run.variants.every((v) => v.pass)).toBe(true);
  });
});
