import { describe, expect, it } from 'vitest';
import { type LoggedFields, type LoggedKind, decodeFinding, encodeFinding, kFindingCodecs } from '../src/finding-codecs.js';
import { IrqWord, SharedMemory } from '../src/layout.js';
import { FindingLog } from '../src/primitives/finding-log.js';

/** One sample of every logged kind, with ids that would be wrong if two fields swapped. */
const samples: { [K in LoggedKind]: LoggedFields[K] } = {
  'recursive-lock': { lock: 0, site: 11, heldLock: 3, heldSite: 12 },
  'bad-unlock': { lock: 2, site: 13, owner: -1 },
  'lock-not-held': { lock: 5, site: 14, nestFor: 6 },
  'sleep-in-atomic': { lock: -1, site: 15, spinlock: 4, irq: IrqWord.HardirqUnit | IrqWord.HardirqsOff },
  'inconsistent-lock-state': { lock: 8, site: 24, newBit: 0, prevBit: 2, irq: 1, prevSite: 25 },
  'held-at-return': { lock: 9, site: 26, index: 1, count: 2, op: 3 },
  'refcount-underflow': { refcount: 0, holder: 16, site: 17, countSeen: -2 },
  'inc-on-zero': { refcount: 7, holder: 18, site: 19, countSeen: 0 },
  'use-after-free': { pointer: (3 << 8) | 2, site: 20, freedSite: 21, type: 22, doubleFree: true },
  invariant: { message: 23 },
};

describe('finding codecs', () => {
  it.each(Object.keys(kFindingCodecs) as LoggedKind[])('%s survives a trip through the shared log', (kind) => {
    const memory = SharedMemory.create();
    const log = new FindingLog(memory);
    log.log(kind, 3, samples[kind] as never);
    const [raw] = log.drain().records;
    if (raw === undefined) throw new Error('nothing logged');
    expect(decodeFinding(raw)).toEqual({ kind, round: 0, thread: 3, fields: samples[kind] });
  });

  it('a kind that threads never log is refused when decoding', () => {
    expect(() => decodeFinding({ kind: 'deadlock', round: 1, thread: 0, args: [] })).toThrow('threads never log');
  });

  it('a record with an unknown kind code is an error, not a silent invariant', () => {
    const memory = SharedMemory.create();
    const log = new FindingLog(memory);
    log.record('invariant', 0, 1);
    // Corrupt the published kind code.
    const base = memory.layout.findings;
    Atomics.store(memory.i32, base, 999);
    expect(() => log.drain()).toThrow('kind code 999');
  });

  it('every codec fits the record', () => {
    for (const kind of Object.keys(kFindingCodecs) as LoggedKind[]) {
      expect(() => encodeFinding(kind, samples[kind] as never)).not.toThrow();
    }
  });
});
