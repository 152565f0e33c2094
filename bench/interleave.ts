/**
 * Interleaved measurement of a ratio: the two sides run in alternating short rounds inside one
 * process, the order rotated each round (A B, B A, A B, ...), so both sides of every round see the
 * machine at the same moment. Within a round each side is one tinybench run of `roundMs`; the
 * side's cost in that round is tinybench's median sample (p50) per operation, so a sample in
 * which the thread was preempted or collected garbage is an outlier, not a shift. The result is
 * one ratio A/B per round; bench/report.ts summarises them (median, min, max).
 */
import { Bench } from 'tinybench';

/** One side of a ratio: a tinybench task running `opsPerSample` operations per call. */
export type Side =
  | { name: string; isAsync: false; opsPerSample: number; fn: () => void }
  | { name: string; isAsync: true; opsPerSample: number; fn: () => Promise<void> };

export interface InterleaveOptions {
  /** tinybench time budget of one side in one round, ms. */
  roundMs: number;
  rounds: number;
  /** Unmeasured time per side before the first round, so the JIT has settled for both. */
  warmupMs: number;
  /** Aborting it stops after the current side; the rounds done so far are returned. */
  signal?: AbortSignal;
  /** Called with each round's ratio as soon as the round is done. */
  onRound?: (ratio: number) => void;
}

/**
 * Fewest samples per side and round (tinybench runs until both its time and this count are
 * reached). @default 16
 */
export const kMinSamplesPerRound = 16;

/** Resolves on the next turn of the event loop, where a pending SIGINT handler runs. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** One tinybench run of `side` for `timeMs`: its median sample, in ns per operation. */
export async function measureSide(side: Side, timeMs: number): Promise<number> {
  const bench = new Bench({ time: timeMs, warmup: false, iterations: kMinSamplesPerRound });
  if (side.isAsync) {
    bench.add(side.name, side.fn);
    await bench.run();
  } else {
    bench.add(side.name, side.fn);
    bench.runSync();
  }
  const result = bench.tasks[0]?.result;
  if (result === undefined || result.state !== 'completed') {
    const error = result !== undefined && 'error' in result && result.error instanceof Error ? `: ${result.error.message}` : '';
    throw new Error(`${side.name}: benchmark ${result?.state ?? 'missing'}${error}`);
  }
  return (result.latency.p50 * 1e6) / side.opsPerSample;
}

/** The order of round `round`: A then B on even rounds, B then A on odd ones. */
export function roundOrder(round: number): readonly ['a', 'b'] | readonly ['b', 'a'] {
  return round % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
}

/** Per-round ratios A/B (each side's median sample per operation), in round order. */
export async function interleave(a: Side, b: Side, options: InterleaveOptions): Promise<number[]> {
  const sides = { a, b };
  for (const side of [a, b, a, b]) {
    if (options.signal?.aborted === true) return [];
    await measureSide(side, options.warmupMs / 2);
    await yieldToEventLoop();
  }
  const ratios: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const ns = { a: 0, b: 0 };
    for (const which of roundOrder(round)) {
      if (options.signal?.aborted === true) return ratios;
      ns[which] = await measureSide(sides[which], options.roundMs);
      // A turn of the event loop between sides: a Ctrl-C is seen within one side's time.
      await yieldToEventLoop();
    }
    if (ns.b <= 0) throw new Error(`${b.name}: a median sample of 0 ns (timer too coarse?)`);
    ratios.push(ns.a / ns.b);
    options.onRound?.(ns.a / ns.b);
  }
  return ratios;
}
