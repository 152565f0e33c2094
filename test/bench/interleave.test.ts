/**
 * Interleaved rounds on fake sides: the order is rotated every round, each round gives one ratio,
 * and an abort stops between sides. Behaviour only: the ratios' values are not asserted.
 */
import { describe, expect, it } from 'vitest';
import { type Side, interleave, roundOrder } from '../../bench/interleave.js';

/** Two sides that log their name on every call. */
function loggingSides(): { a: Side; b: Side; log: string[] } {
  const log: string[] = [];
  const side = (name: string): Side => ({ name, isAsync: false, opsPerSample: 10, fn: () => void log.push(name) });
  return { a: side('a'), b: side('b'), log };
}

/** Consecutive repeats collapsed: ['a','a','b'] -> ['a','b']. */
const runs = (log: readonly string[]): string[] => log.filter((x, i) => i === 0 || log[i - 1] !== x);

describe('interleaved rounds', () => {
  it('alternate the order: A B, B A, A B, ...', () => {
    expect([0, 1, 2, 3].map((r) => roundOrder(r).join(''))).toEqual(['ab', 'ba', 'ab', 'ba']);
  });

  it('warm both sides, then run each round in its order and give one ratio per round', async () => {
    const { a, b, log } = loggingSides();
    const cuts: number[] = [];
    const ratios = await interleave(a, b, { roundMs: 1, rounds: 4, warmupMs: 2, onRound: () => cuts.push(log.length) });
    expect(ratios).toHaveLength(4);
    expect(ratios.every((x) => Number.isFinite(x) && x > 0)).toBe(true);
    const rounds = cuts.map((end, i) => runs(log.slice(i === 0 ? 0 : (cuts[i - 1] ?? 0), end)).join(''));
    // The warm-up (a b a b) runs before round 0 (a b); then the order rotates.
    expect(rounds).toEqual(['ababab', 'ba', 'ab', 'ba']);
  });

  it('an abort stops before the next side and keeps the rounds done', async () => {
    const { a, b } = loggingSides();
    const controller = new AbortController();
    let seen = 0;
    const ratios = await interleave(a, b, {
      roundMs: 1,
      rounds: 50,
      warmupMs: 2,
      signal: controller.signal,
      onRound: () => {
        if (++seen === 2) controller.abort();
      },
    });
    expect(ratios).toHaveLength(2);
  });

  it('an async side is measured too', async () => {
    const { a } = loggingSides();
    const asyncSide: Side = { name: 'async', isAsync: true, opsPerSample: 1, fn: async () => undefined };
    const ratios = await interleave(asyncSide, a, { roundMs: 1, rounds: 2, warmupMs: 2 });
    expect(ratios).toHaveLength(2);
  });
});
