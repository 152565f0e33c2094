/**
 * The rendezvous limit beside the engine (bench/suites/engine-limit.ts): the ratios and results
 * on plain data, and the barrier crew on real threads (every thread makes the same number of
 * crossings, so no burst leaves a thread waiting). No timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import { SharedMemory, kDefaultCapacities } from '../../src/layout.js';
import { Barrier } from '../../src/primitives/barrier.js';
import { compiledPath } from '../helpers/compiled.js';

type EngineLimit = typeof import('../../bench/suites/engine-limit.js');
type CrewModule = typeof import('../../bench/crew.js');
const load = async <T>(path: string): Promise<T> => (await import(compiledPath(path))) as T;

describe('the limit beside the engine, on plain data', () => {
  it('a round\'s ratio is rounds/s over half the crossings/s of the same round', async () => {
    const { limitRatios } = await load<EngineLimit>('bench/suites/engine-limit.js');
    const engine = { crossingsPerSec: { 4: [10_000, 20_000], 1: [1e6] }, roundsPerSec: { 4: [1000, 2000] }, acquisitionsPerSec: { 4: [5, 6] } };
    expect(limitRatios(engine, 4)).toEqual([0.2, 0.2]);
    expect(limitRatios(engine, 2)).toEqual([]);
    expect(limitRatios(engine, 1)).toEqual([]);
  });

  it('gives barrier/limit per thread count and stress-rounds at the engine\'s counts, as medians with their range', async () => {
    const { engineResults } = await load<EngineLimit>('bench/suites/engine-limit.js');
    const results = engineResults([
      { crossingsPerSec: { 1: [9e6, 11e6], 2: [3e5, 1e5, 2e5], 4: [3e4] }, roundsPerSec: { 2: [1500, 1700, 1600], 4: [900] }, acquisitionsPerSec: { 2: [1, 2, 3], 4: [7] } },
      { crossingsPerSec: { 4: [5e4] }, roundsPerSec: { 4: [1100] }, acquisitionsPerSec: { 4: [9] } },
    ]);
    expect(results.map((r) => `${r.name}@${r.threads}`)).toEqual([
      'barrier/limit@1',
      'barrier/limit@2',
      'barrier/limit@4',
      'stress-rounds/2b48f52f2bff@2',
      'stress-rounds/2b48f52f2bff@4',
    ]);
    expect(results[0]).toMatchObject({ crossingsPerSec: 10_000_000, opsPerSec: 10_000_000, range: [9e6, 11e6], samples: 2 });
    expect(results[2]).toMatchObject({ crossingsPerSec: 40_000, samples: 2 }); // pooled over both repeats
    expect(results[3]).toMatchObject({ roundsPerSec: 1600, acquisitionsPerSec: 2, range: [1500, 1700], samples: 3 });
    expect(results[4]).toMatchObject({ roundsPerSec: 1000, acquisitionsPerSec: 8 });
  });
});

describe('barrier bursts on real threads', () => {
  it.each([1, 2, 3])('every one of %i threads makes the same number of crossings in every burst', async (threads) => {
    const { Crew } = await load<CrewModule>('bench/crew.js');
    const memory = SharedMemory.create({ ...kDefaultCapacities, threads: threads + 1 });
    new Barrier(memory).reset(threads);
    const crew = new Crew(memory, threads, 2, { mode: 'barrier', spins: 100 });
    try {
      await crew.warmUp(1);
      for (let b = 0; b < 5; b++) {
        const { counts } = crew.burst();
        expect(counts).toHaveLength(threads);
        expect(new Set(counts).size, counts.join(' ')).toBe(1);
        expect(counts[0]).toBeGreaterThan(0);
      }
    } finally {
      await crew.stop();
    }
  }, 30_000);
});
