/**
 * The built-in port of lib/locking-selftest.c: every ported case matches the kernel's expected
 * outcome (SUCCESS -> clean, FAILURE -> lockdep's finding), on one thread and on two, and the
 * ported and out-of-reach lists together are the kernel file's 395 cases.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Piscina } from 'piscina';
import { resolveStressOptions } from '../../src/runner/options.js';
import { runStress } from '../../src/runner/run-stress.js';
import { kSelftestCases } from '../../src/scenarios/locking-selftest/cases.js';
import selftest from '../../src/scenarios/locking-selftest/index.js';
import { kKernelCaseCount, kUnportedCases } from '../../src/scenarios/locking-selftest/out-of-reach.js';
import { compiledPath } from '../helpers/compiled.js';

describe('locking-selftest port', () => {
  const pool = new Piscina({ filename: compiledPath('workers/round-worker.js'), minThreads: 2, maxThreads: 2, atomics: 'sync' });
  afterAll(async () => {
    await pool.destroy();
  });

  it('ported and out-of-reach cases are the kernel file, each once, with at least 150 ported', () => {
    const ported = kSelftestCases.map((c) => c.name);
    const unported = kUnportedCases.map((c) => c.name);
    expect(new Set(ported).size).toBe(ported.length);
    expect(new Set([...ported, ...unported]).size).toBe(kKernelCaseCount);
    expect(ported.length).toBeGreaterThanOrEqual(150);
    expect(selftest.variants.map((v) => v.name)).toEqual(ported);
    // The families the issue names are there.
    for (const name of ['rlock_AA1', 'rsem_AA1', 'rlock_ABBA2', 'irqsafe2B_soft_rlock_21', 'irq_inversion_hard_wlock_312', 'irq_read_recursion3_soft_rlock_231', 'W1R2_W2R3_W3R1_123', 'ww_test_context_context']) {
      expect(ported).toContain(name);
    }
    for (const c of kUnportedCases) expect(c.reason).not.toBe('');
  });

  it.each([1, 2])('every case matches the kernel on %i thread(s)', async (threads) => {
    const run = await runStress(resolveStressOptions({ scenario: 'locking-selftest', rounds: 2, threads, seed: 11, durationMs: 60_000 }), threads === 2 ? { pool } : {});
    const failed = run.variants.filter((v) => v.status !== 'pass').map((v) => `${v.name}: expected ${JSON.stringify(v.expect)}, seen ${v.seen.join(', ')} (${v.status})`);
    expect(failed).toEqual([]);
    expect(run.variants).toHaveLength(kSelftestCases.length);
  }, 120_000);
});
