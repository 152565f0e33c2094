/**
 * Which variants a run selects: the default (quick) run leaves out the variants marked extended,
 * --full takes them all, and --variant names any, extended or not.
 */
import { describe, expect, it } from 'vitest';
import { resolveStressOptions } from '../../src/runner/options.js';
import { loadSelection } from '../../src/runner/run-stress.js';

describe('variant selection', () => {
  it('quick by default, everything with --full, and a named extended variant runs when named', async () => {
    const quick = await loadSelection(resolveStressOptions({}));
    const full = await loadSelection(resolveStressOptions({ full: true }));
    const named = await loadSelection(resolveStressOptions({ variants: ['2b48f52f2bff@zpci'] }));
    const extended = full.variants.filter((v) => v.extended).map((v) => v.name);
    expect(extended).toContain('2b48f52f2bff@zpci');
    expect(quick.variants.some((v) => v.extended)).toBe(false);
    expect(quick.variants.map((v) => v.name)).toContain('51cdc8bc');
    expect(full.variants.map((v) => v.name)).toEqual(expect.arrayContaining([...quick.variants.map((v) => v.name), ...extended]));
    expect(full.variants).toHaveLength(quick.variants.length + extended.length);
    expect(named.variants.map((v) => v.name)).toEqual(['2b48f52f2bff@zpci']);
  });
});

describe('the extended field of a variant', () => {
  it('must be true or false: anything else is named in the problems of the scenario', async () => {
    const { scenarioProblems } = await import('../../src/scenarios/contract.js');
    const base = { name: 's', description: 'd', objects: {}, ops: {}, plan: () => [[]] };
    expect(scenarioProblems({ ...base, variants: [{ name: 'v', description: 'd', expect: 'clean', extended: true }] })).toEqual([]);
    expect(scenarioProblems({ ...base, variants: [{ name: 'v', description: 'd', expect: 'clean', extended: 'yes' }] })).toEqual([
      'variant v: extended must be true or false',
    ]);
  });
});
