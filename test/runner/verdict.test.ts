import { describe, expect, it } from 'vitest';
import type { FindingKind } from '../../src/finding-kinds.js';
import type { Finding } from '../../src/runner/findings.js';
import { FindingCollector, expectationMet, formatExpectation } from '../../src/runner/verdict.js';
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
