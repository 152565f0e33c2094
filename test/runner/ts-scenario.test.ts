/**
 * TypeScript scenarios as a user runs them: `--scenario x.ts` compiles in-process, runs on real
 * threads (workers import the compiled module too), resolves a relative .ts import and
 * `import ... from 'lockstress'`, and errors name the .ts file, line and column. The fixtures in
 * test/fixtures/ts-scenarios stay TypeScript: the project's tsc excludes them.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compiledPath } from '../helpers/compiled.js';
import { type NodeRun, runNode } from '../helpers/run-node.js';

const cli = compiledPath('src/cli/stress.js');
const fixtures = fileURLToPath(new URL('../fixtures/ts-scenarios/', import.meta.url));
const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
/** Generous: these start processes and threads on a 2-core machine that may be busy. */
const kTestTimeoutMs = 120_000;
const runCli = (args: string[]): Promise<NodeRun> => runNode(cli, args, {}, { killAfterMs: 60_000 });

function expectOneLine(r: NodeRun, text: string): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(text);
  expect(r.stderr).not.toContain('    at ');
}

describe('TypeScript scenarios', () => {
  it('a .ts scenario with a relative .ts import runs on threads and gives the expected verdicts', async () => {
    const r = await runCli(['--scenario', `${fixtures}abba.ts`, '--threads', '2', '--rounds', '3', '--seed', '1', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { scenario: string; variants: Array<{ name: string; status: string; seen: string[] }> };
    expect(doc.scenario).toBe('ts-abba');
    expect(doc.variants.map((v) => [v.name, v.status, v.seen])).toEqual([
      ['abba', 'pass', ['deadlock', 'lock-order-cycle']],
      ['ordered', 'pass', []],
    ]);
    // The compiled module lived beside the .ts file for the run only.
    expect(readdirSync(fixtures).filter((f) => f.endsWith('.lockstress.mjs'))).toEqual([]);
  }, kTestTimeoutMs);

  it('a syntax error is one line: file.ts:line:column: message, exit 2', async () => {
    expectOneLine(await runCli(['--scenario', `${fixtures}syntax-error.ts`]), 'syntax-error.ts:4:24: Unexpected ";" (--scenario');
  }, kTestTimeoutMs);

  it('an error thrown while the scenario loads names the .ts line (through the source map), exit 2', async () => {
    expectOneLine(await runCli(['--scenario', `${fixtures}throws-on-load.ts`]), 'throws-on-load.ts:15:11: scenario table is empty');
  }, kTestTimeoutMs);

  it('an op that throws on a worker thread names the .ts line too, exit 2', async () => {
    const r = await runCli(['--scenario', `${fixtures}op-throws.ts`, '--threads', '2']);
    expect(r.code).toBe(2);
    const errors = r.stderr
      .trimEnd()
      .split('\n')
      .filter((line) => !line.startsWith('lockstress: running '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/op BOOM: thrown from a TypeScript op \(at .*op-throws\.ts:14:11\)$/);
  }, kTestTimeoutMs);

  it("`import { defineScenario } from 'lockstress'` type-checks, and a misspelled finding kind does not", async () => {
    const good = await runNode(tsc, ['-p', `${fixtures}tsconfig.json`], {}, { killAfterMs: 60_000 });
    expect(good.stdout + good.stderr).toBe('');
    expect(good.code).toBe(0);
    const bad = await runNode(tsc, ['-p', `${fixtures}tsconfig.bad-types.json`], {}, { killAfterMs: 60_000 });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/bad-types\.ts\(12,\d+\): error TS2322: Type '\["dedlock"\]' is not assignable to type 'Expectation'/);
  }, kTestTimeoutMs);
});
