/**
 * Mistakes in scenario code, as a user makes them: each ends the run by itself, within the
 * variant's budget, with one error line that names the cause and where it is, and exit 2.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compiledPath } from '../helpers/compiled.js';
import { type NodeRun, runNode } from '../helpers/run-node.js';

const cli = compiledPath('src/cli/stress.js');
const mistakes = compiledPath('test/fixtures/scenarios/scenario-mistakes.js');
const source = (name: string): string => fileURLToPath(new URL(`../fixtures/scenarios/${name}`, import.meta.url));

const run = (args: string[], env: Record<string, string> = {}): Promise<NodeRun> =>
  runNode(cli, ['--duration-ms', '20000', '--threads', '4', '--seed', '3', ...args], env, { killAfterMs: 60_000 });

function oneErrorLine(r: NodeRun): string {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  // The start line (what runs, the seed) is not an error; the error is the one line after it.
  const lines = r.stderr
    .trimEnd()
    .split('\n')
    .filter((line) => !line.startsWith('lockstress: running '));
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toContain('    at ');
  return lines[0] ?? '';
}

describe('scenario mistakes end the run with one line that says where', () => {
  it.each([
    ['op-throws', /variant op-throws, thread 1, op FINE: boom from the op \(at .*scenario-mistakes\.js:\d+:\d+\)$/],
    ['unknown-lock', /op FINE: ctx\.locks\["A_lock"\]: no lock "A_lock" in scenario scenario-mistakes \(declared: A\) \(at .*scenario-mistakes\.js:\d+:\d+\)$/],
    ['unknown-word', /ctx\.words\["flg"\]: no word "flg" .*\(declared: flag\)/],
    ['process-exit', /variant process-exit, thread 1, op FINE: the worker exited with code 3/],
    ['setup-throws', /variant setup-throws, thread 0, setup: setup cannot start \(at .*scenario-mistakes\.js:\d+:\d+\)$/],
    ['strings-unbounded', /the shared string table is full .*must come from a bounded set of strings \(at .*scenario-mistakes\.js:\d+:\d+\)$/],
    ['op-loops', /variant op-loops, thread 1, op FINE: has been running for \d+ ms without reaching a lock, a shared operation or a barrier/],
  ])('%s', async (variant, line) => {
    expect(oneErrorLine(await run(['--scenario', mistakes, '--variant', variant]))).toMatch(line);
  }, 60_000);

  it('a plan() that never returns ends the run by itself, naming it', async () => {
    const r = await run(['--scenario', compiledPath('test/fixtures/scenarios/plan-loops.js')]);
    expect(oneErrorLine(r)).toMatch(/plan\(\) of variant only did not finish within \d+ ms$/);
  }, 60_000);

  it('a plan that names an op nobody defined is refused before any round', async () => {
    const r = await run(['--scenario', source('plan-mistakes.js')], { LOCKSTRESS_FIXTURE: 'unknown-op' });
    expect(oneErrorLine(r)).toContain('variant only: plan() names op "NOPE" for thread 0, which is not defined (ops: NOP)');
  }, 60_000);

  it('an expect kind that does not exist is refused before any round', async () => {
    const r = await run(['--scenario', source('plan-mistakes.js')], { LOCKSTRESS_FIXTURE: 'unknown-kind' });
    expect(oneErrorLine(r)).toContain('expect names "no-such-kind", which is not a finding kind');
  }, 60_000);

  it('more object slots than a pointer can name is refused, naming the limit', async () => {
    const r = await run(['--scenario', source('plan-mistakes.js')], { LOCKSTRESS_FIXTURE: 'too-many-slots' });
    expect(oneErrorLine(r)).toContain('scenario plan-mistakes declares 300 object slots; the limit is 255');
  }, 60_000);

  it('a syntax error gives file:line:column', async () => {
    const r = await run(['--scenario', source('syntax-error.js')]);
    expect(oneErrorLine(r)).toMatch(/does not load: .*syntax-error\.js:5:37: Unexpected token/);
  }, 60_000);

  it('LOCKSTRESS_SCENARIO and LOCKSTRESS_VARIANT are named as such in errors', async () => {
    expect(oneErrorLine(await run([], { LOCKSTRESS_SCENARIO: './nope.js' }))).toContain('LOCKSTRESS_SCENARIO="./nope.js": no such file');
    expect(oneErrorLine(await run([], { LOCKSTRESS_VARIANT: 'nope' }))).toContain('LOCKSTRESS_VARIANT="nope": not a variant of vfio-kvm');
    expect(oneErrorLine(await run([], { LOCKSTRESS_VARIANT: ',,' }))).toContain('LOCKSTRESS_VARIANT=",,": names no variant');
  }, 60_000);
});
