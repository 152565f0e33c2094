/**
 * The CI features as a user runs them: --junit of real runs, --shard and --seeds, and
 * `lockstress merge`, with exit statuses and one-line errors. Rounds are bounded by count, and the
 * verdict-mix fixture's verdicts do not depend on timing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import vfioKvm from '../../src/scenarios/vfio-kvm/index.js';
import { compiledPath } from '../helpers/compiled.js';
import { type NodeRun, runNode } from '../helpers/run-node.js';
import { findAll, junitProblems, parseXml } from '../helpers/xml.js';

const cli = compiledPath('src/cli/stress.js');
const mix = compiledPath('test/fixtures/scenarios/verdict-mix.js');
const dir = mkdtempSync(join(tmpdir(), 'lockstress-ci-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Generous: these start processes and threads on a 2-core machine that may be busy. */
const kTestTimeoutMs = 120_000;
const runCli = (args: string[], env: Record<string, string> = {}): Promise<NodeRun> => runNode(cli, args, env, { killAfterMs: 120_000 });

interface Doc {
  scenario: string;
  verdict: string;
  exitCode: number;
  shard: { index: number; count: number } | null;
  variants: Array<{ name: string; seed: number; status: string }>;
}
const units = (doc: Doc): string[] => doc.variants.map((v) => `${v.name}@${v.seed}:${v.status}`);
const mixArgs = ['--scenario', mix, '--threads', '1', '--rounds', '20', '--seed', '41', '--json'];

function expectOneLineError(r: NodeRun, named: string): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(named);
  expect(r.stderr).not.toContain('    at ');
}

describe('--junit', () => {
  it('writes valid JUnit XML with one testcase per variant of the default scenario', async () => {
    const file = join(dir, 'default.xml');
    const r = await runCli(['--junit', file, '--rounds', '3', '--min-rounds', '3', '--threads', '2', '--hang-ms', '200', '--seed', '3']);
    expect([0, 1]).toContain(r.code);
    const root = parseXml(readFileSync(file, 'utf8'));
    expect(junitProblems(root)).toEqual([]);
    const cases = findAll(root, 'testcase');
    expect(cases).toHaveLength(vfioKvm.variants.length);
    expect(new Set(cases.map((c) => c.attrs.classname))).toEqual(new Set(['vfio-kvm']));
    expect(cases.map((c) => c.attrs.name)).toContain('2b48f52f2bff');
  }, kTestTimeoutMs);

  it('marks failing variants with their findings and skipped ones with the reason (LOCKSTRESS_JUNIT)', async () => {
    const file = join(dir, 'mix.xml');
    const r = await runCli(mixArgs.filter((a) => a !== '--json'), { LOCKSTRESS_JUNIT: file });
    expect(r.code).toBe(1);
    const root = parseXml(readFileSync(file, 'utf8'));
    expect(junitProblems(root)).toEqual([]);
    expect(findAll(root, 'testsuite')[0]?.attrs).toMatchObject({ name: 'verdict-mix', tests: '5', failures: '2', errors: '0', skipped: '1' });
    const byName = new Map(findAll(root, 'testcase').map((c) => [c.attrs.name, c]));
    const leak = byName.get('unexpected-leak')?.children.find((c) => c.name === 'failure');
    expect(leak?.attrs.message).toBe('expected clean; seen refcount-leak; 20 rounds');
    expect(leak?.text).toContain('refcount leak: obj = 1 after every fd was closed');
    expect(byName.get('missed')?.children.find((c) => c.name === 'failure')?.attrs.message).toBe('expected deadlock; seen clean; 20 rounds');
    expect(byName.get('needs-eight')?.children[0]?.attrs.message).toBe('skipped: needs 8 threads');
    expect(byName.get('clean')?.children.map((c) => c.name)).toEqual(['system-out']);
  }, kTestTimeoutMs);

  it.each([
    [['--junit', '/nonexistent-dir/r.xml'], {}, '--junit "/nonexistent-dir/r.xml": no such folder'],
    [[], { LOCKSTRESS_JUNIT: '/nonexistent-dir/r.xml' }, 'LOCKSTRESS_JUNIT "/nonexistent-dir/r.xml": no such folder'],
    [['--html', '/nonexistent-dir/r.html'], {}, '--html "/nonexistent-dir/r.html": no such folder'],
    [[], { LOCKSTRESS_HTML: '/nonexistent-dir/r.html' }, 'LOCKSTRESS_HTML "/nonexistent-dir/r.html": no such folder'],
  ])('a file that cannot be written is refused before the run: %o %o', async (args, env, named) => {
    expectOneLineError(await runCli([...args, '--scenario', mix], env), named);
  }, kTestTimeoutMs);
});

describe('--html', () => {
  it('LOCKSTRESS_HTML writes one HTML page with every variant of the run', async () => {
    const file = join(dir, 'mix.html');
    const r = await runCli(mixArgs.filter((a) => a !== '--json'), { LOCKSTRESS_HTML: file });
    expect(r.code).toBe(1);
    const html = readFileSync(file, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const name of ['clean', 'missed', 'needs-eight']) expect(html).toContain(`<tr data-variant="${name}"`);
    expect(html).toContain('data-status="skipped"');
  }, kTestTimeoutMs);
});

describe('--shard and merge', () => {
  it('shards 1/2 and 2/2 with --seeds 2, merged, give the variants, seeds and verdicts of one whole run', async () => {
    const [whole, one, two] = await Promise.all([
      runCli([...mixArgs, '--seeds', '2']),
      runCli([...mixArgs, '--seeds', '2', '--shard', '1/2']),
      runCli([...mixArgs], { LOCKSTRESS_SEEDS: '2', LOCKSTRESS_SHARD: '2/2' }),
    ]);
    for (const r of [whole, one, two]) expect(r.code).toBe(1);
    const [wholeDoc, oneDoc, twoDoc] = [whole, one, two].map((r) => JSON.parse(r.stdout) as Doc) as [Doc, Doc, Doc];
    expect(oneDoc.shard).toEqual({ index: 1, count: 2 });
    expect(units(oneDoc)).toHaveLength(5);
    expect(units(twoDoc)).toHaveLength(5);
    expect(units(oneDoc).filter((u) => units(twoDoc).includes(u))).toEqual([]);
    expect(units(wholeDoc)).toEqual([
      'clean@41:pass',
      'leak@41:pass',
      'unexpected-leak@41:fail',
      'missed@41:fail',
      'needs-eight@41:skipped',
      'clean@42:pass',
      'leak@42:pass',
      'unexpected-leak@42:fail',
      'missed@42:fail',
      'needs-eight@42:skipped',
    ]);
    writeFileSync(join(dir, 'one.json'), one.stdout);
    writeFileSync(join(dir, 'two.json'), two.stdout);
    const merged = await runCli(['merge', join(dir, 'two.json'), join(dir, 'one.json'), '--junit', join(dir, 'merged.xml')]);
    expect(merged.code).toBe(1);
    const mergedDoc = JSON.parse(merged.stdout) as Doc;
    expect(units(mergedDoc)).toEqual(units(wholeDoc));
    expect([mergedDoc.verdict, mergedDoc.exitCode]).toEqual(['fail', 1]);
    expect(merged.stderr).toContain('4/10 passed, 4 failed, 2 skipped; verdict fail (exit 1)');
    const junit = parseXml(readFileSync(join(dir, 'merged.xml'), 'utf8'));
    expect(junitProblems(junit)).toEqual([]);
    expect(findAll(junit, 'testcase').map((c) => c.attrs.name)).toContain('needs-eight (seed 42)');
  }, kTestTimeoutMs);

  it('a merge of passing shards exits 0, and a shard with nothing to run is an empty document', async () => {
    const args = ['--scenario', mix, '--variant', 'clean', '--threads', '1', '--rounds', '20', '--json'];
    const [one, two] = await Promise.all([runCli([...args, '--shard', '1/2']), runCli([...args, '--shard', '2/2'])]);
    expect([one.code, two.code]).toEqual([0, 0]);
    expect((JSON.parse(two.stdout) as Doc).variants).toEqual([]);
    expect(two.stderr).toContain('nothing to run in this shard');
    writeFileSync(join(dir, 'p1.json'), one.stdout);
    writeFileSync(join(dir, 'p2.json'), two.stdout);
    const merged = await runCli(['merge', join(dir, 'p1.json'), join(dir, 'p2.json')]);
    expect(merged.code).toBe(0);
    expect(units(JSON.parse(merged.stdout) as Doc)).toEqual([expect.stringMatching(/^clean@\d+:pass$/)]);
  }, kTestTimeoutMs);

  it.each([
    [['--shard', '0/2'], {}, '--shard="0/2"'],
    [['--shard', '3/2'], {}, '--shard="3/2"'],
    [['--shard', 'x'], {}, '--shard="x"'],
    [[], { LOCKSTRESS_SHARD: '3/2' }, 'LOCKSTRESS_SHARD="3/2"'],
    [['--seeds', '0'], {}, '--seeds="0"'],
    [['merge', '/nonexistent/a.json'], {}, 'merge: "/nonexistent/a.json": no such file'],
    [['merge'], {}, 'merge: no documents given'],
    [['merge', '--bogus'], {}, 'merge: unknown flag "--bogus"'],
  ])('bad input %o %o is one line naming it, exit 2', async (args, env, named) => {
    expectOneLineError(await runCli(args, env), named);
  }, kTestTimeoutMs);

  it('merge refuses a file that is not a lockstress document, documents of two scenarios, and duplicates', async () => {
    writeFileSync(join(dir, 'other.json'), '{"tool":"jest"}');
    expectOneLineError(await runCli(['merge', join(dir, 'other.json')]), 'not a lockstress --json document');
    const misuse = { tool: 'lockstress', scenario: 'misuse', seed: 1, variants: [{ name: 'clean', status: 'pass', seed: 1 }] };
    const mixDoc = { ...misuse, scenario: 'verdict-mix' };
    writeFileSync(join(dir, 'misuse.json'), JSON.stringify(misuse));
    writeFileSync(join(dir, 'mix-doc.json'), JSON.stringify(mixDoc));
    expectOneLineError(await runCli(['merge', join(dir, 'misuse.json'), join(dir, 'mix-doc.json')]), 'is from scenario verdict-mix');
    expectOneLineError(await runCli(['merge', join(dir, 'misuse.json'), join(dir, 'misuse.json')]), 'variant clean (seed 1) is in both');
  }, kTestTimeoutMs);
});
