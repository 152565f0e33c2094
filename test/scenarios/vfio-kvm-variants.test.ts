/**
 * Every vfio/kvm version and broken variant on real threads: each shows what the model says it
 * must. Broken variants stop as soon as their expectation is met (the budget is only a bound);
 * clean variants run their whole budget and must have no finding at all.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Piscina } from 'piscina';
import { resolveStressOptions } from '../../src/runner/options.js';
import { runStress } from '../../src/runner/run-stress.js';
import type { VariantVerdict } from '../../src/runner/verdict.js';
import vfioKvm from '../../src/scenarios/vfio-kvm/index.js';
import { compiledPath } from '../helpers/compiled.js';

const kThreads = 4;
const pool = new Piscina({
  filename: compiledPath('workers/round-worker.js'),
  minThreads: kThreads,
  maxThreads: kThreads,
  atomics: 'sync',
});

async function runVariant(name: string, durationMs: number, threads = kThreads): Promise<VariantVerdict> {
  const run = await runStress(
    resolveStressOptions({ variants: [name], durationMs, threads, seed: 20261124, untilExpected: true }),
    threads === kThreads ? { pool } : {},
  );
  const verdict = run.variants[0];
  if (verdict === undefined) throw new Error(`no verdict for ${name}`);
  return verdict;
}

/** Whether `cycle` is `expected` rotated (a cycle has no first element). */
function isRotationOf(cycle: readonly string[], expected: readonly string[]): boolean {
  if (cycle.length !== expected.length) return false;
  return expected.some((_, shift) => expected.every((c, i) => cycle[(i + shift) % cycle.length] === c));
}

describe('vfio-kvm variants on real threads', () => {
  afterAll(async () => {
    await pool.destroy();
  });

  const broken = vfioKvm.variants.filter((v) => v.expect !== 'clean');
  const clean = vfioKvm.variants.filter((v) => v.expect === 'clean');

  it('expects every fixed version clean, on every driver, and declares the broken variants of the model', () => {
    const fixed = /^(fix-v2|2b48f52f2bff)(-destroy)?(@|$)/;
    for (const v of vfioKvm.variants) if (fixed.test(v.name)) expect(v.expect, v.name).toBe('clean');
    expect(clean.map((v) => v.name)).toEqual(
      expect.arrayContaining(['2b48f52f2bff', '2b48f52f2bff-destroy', 'fix-v2', '2b48f52f2bff@zpci', '2b48f52f2bff@kvmgt', '2b48f52f2bff@plain', '2b48f52f2bff@mix', '2b48f52f2bff@two-vms', 'cdev-5fcc26969a16-fixed', 'cdev-5fcc26969a16-fixed@two-vms']),
    );
    expect(broken.map((v) => v.name)).toEqual(
      expect.arrayContaining([
        '51cdc8bc',
        '51cdc8bc@zpci',
        'add-race',
        'ap-put-then-unlock',
        'cdev-5fcc26969a16',
        'double-put',
        'get-every-open',
        'get-helper-ignores-kvm',
        'get-on-openfail',
        'ignore-get-failure',
        'kvmgt-get-before-eexist',
        'missing-openfail-put',
        'missing-put',
        'pre-51cdc8bc',
        'pre-51cdc8bc@kvmgt',
        'pre-51cdc8bc@zpci',
        'put-before-close',
        'put-before-release',
        'put-under-ref-lock',
        'put-via-group-kvm',
        'set-kvm-dev-set-lock',
        'set-kvm-group-lock',
        'unlocked-open-count',
        'unlocked-read',
        'unsafe-get',
      ]),
    );
  });

  it.each(broken.map((v) => [v.name]))('%s shows its expected findings', async (name) => {
    const v = await runVariant(name, 8000);
    expect(v.errors).toEqual([]);
    expect(v.pass, `${name} saw ${v.seen.join(', ')}`).toBe(true);
  });

  it.each(clean.map((v) => [v.name]))('%s stays clean', async (name) => {
    const v = await runVariant(name, 1000);
    expect(v.rounds).toBeGreaterThan(50);
    expect(v.findings.map((f) => f.message)).toEqual([]);
  });

  it('51cdc8bc shows the chain of the real report and a deadlock between two threads', async () => {
    const v = await runVariant('51cdc8bc', 8000);
    const cycles = v.findings.filter((f) => f.kind === 'lock-order-cycle').map((f) => f.locks);
    expect(cycles.some((c) => isRotationOf(c, ['group_lock', 'dev_set->lock', 'guests_lock', 'kvm->lock']))).toBe(true);
    const deadlock = v.findings.find((f) => f.kind === 'deadlock')?.first;
    if (deadlock?.kind !== 'deadlock') throw new Error('no deadlock');
    expect(deadlock.evidence.cycle).toHaveLength(2);
    const waited = deadlock.evidence.cycle.map((t) => t.waitingFor?.class).sort();
    expect(waited).toEqual(['group_lock', 'kvm->lock']);
    const releaser = deadlock.evidence.cycle.find((t) => t.waitingFor?.class === 'group_lock');
    const opener = deadlock.evidence.cycle.find((t) => t.waitingFor?.class === 'kvm->lock');
    expect(releaser?.held.map((h) => h.class)).toContain('kvm->lock');
    expect(opener?.held.map((h) => h.class)).toEqual(expect.arrayContaining(['group_lock', 'dev_set->lock', 'guests_lock']));
  });

  it('with one thread 51cdc8bc shows the lock-order cycle but never an observed deadlock', async () => {
    const v = await runVariant('51cdc8bc', 600, 1);
    expect(v.seen).toContain('lock-order-cycle');
    expect(v.seen).not.toContain('deadlock');
    expect(v.abortedRounds).toBe(0);
  });
});
