/** The scenario example of README.md works as the README says. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveStressOptions } from '../../src/runner/options.js';
import { runStress } from '../../src/runner/run-stress.js';

const example = fileURLToPath(new URL('../fixtures/scenarios/my-scenario.js', import.meta.url));

describe('README scenario example', () => {
  it('is the file the README shows', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const code = readFileSync(example, 'utf8').split('\n').slice(1).join('\n').trim();
    expect(readme).toContain(code);
  });

  it('finds the ABBA in the broken variant and nothing in the fixed one', async () => {
    const run = await runStress(
      resolveStressOptions({ scenario: example, threads: 2, durationMs: 20_000, rounds: 200, seed: 3, untilExpected: true }),
    );
    const [broken, fixed] = run.variants;
    expect(broken?.pass, broken?.seen.join(', ')).toBe(true);
    expect(fixed?.seen).toEqual([]);
    expect(fixed?.pass).toBe(true);
  });
});
