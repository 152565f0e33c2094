/** Merging --json documents on plain data: order, verdict and exit status of the whole, bad input. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { type StressDocument, type VariantDocument, finishDocument, parseDocument, runVerdict } from '../../src/report/document.js';
import { mergeDocuments } from '../../src/report/merge.js';
import type { ShardSpec } from '../../src/runner/shard.js';
import type { VerdictStatus } from '../../src/runner/verdict.js';

function variant(name: string, status: VerdictStatus, seed = 1): VariantDocument {
  return {
    name,
    description: name,
    expect: ['clean'],
    seen: [],
    pass: status === 'pass',
    status,
    note: '',
    rounds: 20,
    durationMs: 100,
    abortedRounds: 0,
    firstDeadlockMs: null,
    stoppedBy: 'rounds',
    errors: [],
    findings: [],
    lockStats: [],
    coverage: { pairsOverlapped: 0, pairsPossible: 0, overlapped: [] },
    seed,
  };
}

function doc(variants: VariantDocument[], shard: ShardSpec | null = null, extra: Partial<StressDocument> = {}): StressDocument {
  return finishDocument({
    tool: 'lockstress',
    scenario: 'misuse',
    seed: 1,
    seeds: 1,
    threads: 2,
    startedAt: '2026-11-27T07:00:00.000Z',
    durationMs: 500,
    interrupted: false,
    shard,
    variants,
    ...extra,
  });
}

const names = (d: StressDocument): string[] => d.variants.map((v) => `${v.name}@${v.seed}:${v.status}`);

describe('merge', () => {
  it('puts shards back in run order, with the verdict and exit status of the whole', () => {
    // Units a b c d e, round-robin over 2 shards: shard 1 has a c e, shard 2 has b d.
    const one = doc([variant('a', 'pass'), variant('c', 'fail'), variant('e', 'pass')], { index: 1, count: 2 });
    const two = doc([variant('b', 'pass'), variant('d', 'skipped')], { index: 2, count: 2 });
    const merged = mergeDocuments([
      { file: 'two.json', doc: two },
      { file: 'one.json', doc: one },
    ]);
    expect(names(merged)).toEqual(['a@1:pass', 'b@1:pass', 'c@1:fail', 'd@1:skipped', 'e@1:pass']);
    expect(merged).toMatchObject({ verdict: 'fail', exitCode: 1, ok: false, shard: null, durationMs: 1000, seed: 1, threads: 2 });
    expect(merged.merged?.map((m) => m.file)).toEqual(['two.json', 'one.json']);
  });

  it.each([
    [['pass', 'skipped'], false, 'pass', 0],
    [['pass', 'inconclusive'], false, 'inconclusive', 3],
    [['inconclusive', 'fail'], false, 'fail', 1],
    [['pass'], true, 'interrupted', 130],
  ] as const)('statuses %o (interrupted %s) make the whole %s, exit %i, as for a run', (statuses, interrupted, verdict, exitCode) => {
    const merged = mergeDocuments([{ file: 'a.json', doc: doc(statuses.map((s, i) => variant(`v${i}`, s)), null, { interrupted }) }]);
    expect([merged.verdict, merged.exitCode]).toEqual([verdict, exitCode]);
    expect(runVerdict(statuses, interrupted)).toBe(verdict);
  });

  it('keeps one variant under several seeds, and says which seeds differ', () => {
    const merged = mergeDocuments([
      { file: 'a.json', doc: doc([variant('a', 'pass', 1)]) },
      { file: 'b.json', doc: doc([variant('a', 'pass', 2)], null, { seed: 2 }) },
    ]);
    expect(names(merged)).toEqual(['a@1:pass', 'a@2:pass']);
    expect([merged.seed, merged.seeds]).toEqual([null, 2]);
  });

  it.each([
    [[], 'no documents given'],
    [[['a.json', doc([variant('a', 'pass')])], ['b.json', doc([variant('b', 'pass')], null, { scenario: 'vfio-kvm' })]], '"b.json" is from scenario vfio-kvm, "a.json" from misuse'],
    [[['a.json', doc([variant('a', 'pass')])], ['b.json', doc([variant('a', 'fail')])]], 'variant a (seed 1) is in both "a.json" and "b.json"'],
    [[['a.json', doc([variant('a', 'pass')], { index: 1, count: 2 })]], 'shard 2/2 missing'],
    [[['a.json', doc([variant('a', 'pass')], { index: 1, count: 2 })], ['b.json', doc([], { index: 1, count: 2 })]], 'shard 1/2 is given twice'],
    [[['a.json', doc([variant('a', 'pass')], { index: 1, count: 2 })], ['b.json', doc([variant('b', 'pass')], { index: 2, count: 3 })]], '"b.json" is shard 2/3 but "a.json" is shard 1/2'],
    [[['a.json', doc([variant('a', 'pass')])], ['b.json', doc([variant('b', 'pass')], { index: 1, count: 2 })]], '"a.json" is a whole run but "b.json" is shard 1/2'],
  ] as Array<[Array<[string, StressDocument]>, string]>)('refuses bad input %#: %s', (inputs, why) => {
    const run = (): StressDocument => mergeDocuments(inputs.map(([file, d]) => ({ file, doc: d })));
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(why);
  });

  it.each([
    ['{', 'not JSON'],
    ['[]', 'not a lockstress --json document (not an object)'],
    ['{"tool":"other"}', 'no "tool": "lockstress"'],
    ['{"tool":"lockstress","scenario":"x"}', 'no "variants" list'],
    ['{"tool":"lockstress","scenario":"x","seed":1,"variants":[{"name":"a","status":"maybe"}]}', 'variant a has no valid status'],
  ])('reading %s is bad input naming the file', (text, why) => {
    expect(() => parseDocument(text, 'r.json')).toThrow(ConfigError);
    expect(() => parseDocument(text, 'r.json')).toThrow('merge: "r.json": ');
    expect(() => parseDocument(text, 'r.json')).toThrow(why);
  });

  it('reads a document written before statuses and per-variant seeds existed', () => {
    const old = parseDocument(JSON.stringify({ tool: 'lockstress', scenario: 'x', seed: 9, variants: [{ name: 'a', pass: false }] }), 'old.json');
    expect(old.variants[0]).toMatchObject({ name: 'a', status: 'fail', seed: 9 });
  });
});
