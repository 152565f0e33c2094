import { describe, expect, it } from 'vitest';
import type { FindingKind } from '../../src/finding-kinds.js';
import type { Finding } from '../../src/runner/findings.js';
import { type StatusInputs, FindingCollector, decideStatus, expectationMet, formatExpectation } from '../../src/runner/verdict.js';
import { canonicalCycleKey } from '../../src/runner/run-stress.js';

const kinds = (...k: FindingKind[]): Set<FindingKind> => new Set(k);

function invariant(round: number, text: string): Finding {
  return { kind: 'invariant', round, thread: -1, locks: [], message: text, key: text, evidence: { text } };
}

describe('verdicts', () => {
  it('clean passes only with no finding at all', () => {
    expect(expectationMet('clean', kinds())).toBe(true);
    expect(expectationMet('clean', kinds('invariant'))).toBe(false);
  });

  it('every listed kind must be seen', () => {
    expect(expectationMet(['deadlock', 'lock-order-cycle'], kinds('deadlock'))).toBe(false);
    expect(expectationMet(['deadlock', 'lock-order-cycle'], kinds('deadlock', 'lock-order-cycle'))).toBe(true);
  });

  it('extra kinds do not fail a non-clean expectation', () => {
    expect(expectationMet(['deadlock'], kinds('deadlock', 'recursive-lock'))).toBe(true);
  });

  it('a nested list is satisfied by any one of its kinds', () => {
    const expect_ = [['refcount-underflow', 'use-after-free']] as const;
    expect(expectationMet(expect_, kinds('use-after-free'))).toBe(true);
    expect(expectationMet(expect_, kinds('refcount-underflow'))).toBe(true);
    expect(expectationMet(expect_, kinds('refcount-leak'))).toBe(false);
    expect(formatExpectation(expect_)).toBe('refcount-underflow|use-after-free');
    expect(formatExpectation(['deadlock', 'lock-order-cycle'])).toBe('deadlock + lock-order-cycle');
  });

  it('the collector counts rounds, not occurrences, and keeps the first round', () => {
    const collector = new FindingCollector();
    expect(collector.add(invariant(3, 'x'))).toBe(true);
    expect(collector.add(invariant(3, 'x'))).toBe(false);
    collector.add(invariant(5, 'x'));
    collector.add(invariant(4, 'y'));
    const [x, y] = collector.summaries();
    expect(x).toMatchObject({ key: 'x', count: 2, firstRound: 3 });
    expect(y).toMatchObject({ key: 'y', count: 1, firstRound: 4 });
    expect([...collector.kinds()]).toEqual(['invariant']);
  });

  it('one cycle has one key whatever edge closed it', () => {
    expect(canonicalCycleKey(['kvm->lock', 'group_lock', 'dev_set->lock'])).toBe(
      canonicalCycleKey(['group_lock', 'dev_set->lock', 'kvm->lock']),
    );
    expect(canonicalCycleKey(['a', 'b', 'c'])).not.toBe(canonicalCycleKey(['a', 'c', 'b']));
  });
});

describe('the status rule', () => {
  const base: StatusInputs = {
    expect: 'clean',
    seen: kinds(),
    rounds: 100,
    minRounds: 20,
    stoppedBy: 'duration',
    errors: 0,
    threads: 4,
    minThreads: 1,
  };
  const status = (over: Partial<StatusInputs>): string => decideStatus({ ...base, ...over });

  it('a clean variant passes only after the minimum rounds', () => {
    expect(status({})).toBe('pass');
    expect(status({ rounds: 19 })).toBe('inconclusive');
  });

  it('one round with a finding is enough to fail a clean variant', () => {
    expect(status({ rounds: 1, seen: kinds('deadlock') })).toBe('fail');
  });

  it('a broken variant that showed its bug passes at once, and fails only after enough rounds without it', () => {
    const expect_ = ['refcount-leak'] as const;
    expect(status({ expect: expect_, rounds: 1, seen: kinds('refcount-leak') })).toBe('pass');
    expect(status({ expect: expect_, rounds: 3 })).toBe('inconclusive');
    expect(status({ expect: expect_, rounds: 20 })).toBe('fail');
  });

  it('fewer threads than the variant needs is skipped, not a failure it could not avoid', () => {
    expect(status({ expect: ['deadlock'], threads: 1, minThreads: 2, seen: kinds('lock-order-cycle') })).toBe('skipped');
  });

  it('errors fail, and an interruption is its own status', () => {
    expect(status({ errors: 1 })).toBe('fail');
    expect(status({ stoppedBy: 'interrupted', rounds: 2 })).toBe('interrupted');
    expect(status({ stoppedBy: 'interrupted', rounds: 2, seen: kinds('deadlock') })).toBe('fail');
  });
});

describe('the minimum rounds of a verdict', () => {
  it('is --min-rounds up to 4 threads, scales by 4/threads beyond, never below 5, never past --rounds', async () => {
    const { effectiveMinRounds } = await import('../../src/runner/round-driver.js');
    expect(effectiveMinRounds({ minRounds: 20, rounds: 0, threads: 4 })).toBe(20);
    expect(effectiveMinRounds({ minRounds: 20, rounds: 0, threads: 8 })).toBe(10);
    expect(effectiveMinRounds({ minRounds: 20, rounds: 0, threads: 64 })).toBe(5);
    expect(effectiveMinRounds({ minRounds: 3, rounds: 0, threads: 64 })).toBe(3);
    expect(effectiveMinRounds({ minRounds: 20, rounds: 2, threads: 2 })).toBe(2);
  });
});
