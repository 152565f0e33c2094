/**
 * Findings logged from any thread into shared memory, so that a finding made just before a thread
 * blocks for good is not lost with it. Records are fixed-size: a kind code, the round, the thread
 * and five kind-specific integer arguments (lock ids, string ids, counts). The main thread drains
 * the log and turns records into findings with names (runner/findings.ts).
 *
 * Protocol: a writer claims slot n with Atomics.add on the count, fills it, and publishes by storing
 * the kind code last; the drainer reads a slot only once its kind code is non-zero, and zeroes it
 * after reading. Past the capacity, records are counted but not stored.
 */
import {
  type SharedMemory,
  findingBase,
  kFindingArg0,
  kFindingArgCount,
  kFindingKind,
  kFindingRound,
  kFindingThread,
  kFindingWords,
  kHeaderFindingCount,
  kHeaderFindingDrained,
} from '../layout.js';
import { type FindingKind, findingKindCode, findingKindOf } from '../finding-kinds.js';
import { type LoggedFields, type LoggedKind, encodeFinding } from '../finding-codecs.js';

export interface RawFinding {
  kind: FindingKind;
  round: number;
  thread: number;
  args: number[];
}

export class FindingLog {
  constructor(private readonly memory: SharedMemory) {}

  /** Logs a finding with its typed fields (finding-codecs.ts says where each field goes). */
  log<K extends LoggedKind>(kind: K, thread: number, fields: LoggedFields[K]): void {
    this.record(kind, thread, ...encodeFinding(kind, fields));
  }

  /** The raw record write: prefer {@link log}, which cannot put a field in the wrong place. */
  record(kind: FindingKind, thread: number, ...args: number[]): void {
    const { i32, layout } = this.memory;
    const n = Atomics.add(i32, layout.header + kHeaderFindingCount, 1);
    if (n >= layout.capacities.findings) return;
    const base = findingBase(layout, n);
    Atomics.store(i32, base + kFindingRound, this.memory.round());
    Atomics.store(i32, base + kFindingThread, thread);
    for (let i = 0; i < kFindingArgCount; i++) Atomics.store(i32, base + kFindingArg0 + i, args[i] ?? 0);
    Atomics.store(i32, base + kFindingKind, findingKindCode(kind));
  }

  /**
   * Takes every published record (main thread, between rounds or while workers are blocked) and
   * resets the log when no writer can be mid-record. Returns the records and how many were dropped.
   */
  drain(): { records: RawFinding[]; dropped: number } {
    const { i32, layout } = this.memory;
    const countIndex = layout.header + kHeaderFindingCount;
    const count = Atomics.load(i32, countIndex);
    const from = Atomics.load(i32, layout.header + kHeaderFindingDrained);
    const stored = Math.min(count, layout.capacities.findings);
    const records: RawFinding[] = [];
    let n = from;
    for (; n < stored; n++) {
      const base = findingBase(layout, n);
      const code = Atomics.load(i32, base + kFindingKind);
      if (code === 0) break; // claimed but not yet published: take it next time
      const kind = findingKindOf(code);
      if (kind === undefined) throw new Error(`finding record ${n} has kind code ${code}, which no kind has`);
      const args: number[] = [];
      for (let i = 0; i < kFindingArgCount; i++) args.push(Atomics.load(i32, base + kFindingArg0 + i));
      records.push({
        kind,
        round: Atomics.load(i32, base + kFindingRound),
        thread: Atomics.load(i32, base + kFindingThread),
        args,
      });
      Atomics.store(i32, base + kFindingKind, 0);
    }
    Atomics.store(i32, layout.header + kHeaderFindingDrained, n);
    const dropped = Math.max(0, count - layout.capacities.findings);
    return { records, dropped };
  }

  /** Empties the log. Only when no thread can be writing (between rounds). */
  reset(): void {
    const { i32, layout } = this.memory;
    const stored = Math.min(Atomics.load(i32, layout.header + kHeaderFindingCount), layout.capacities.findings);
    for (let n = 0; n < stored; n++) {
      Atomics.store(i32, findingBase(layout, n) + kFindingKind, 0);
    }
    Atomics.store(i32, layout.header + kHeaderFindingCount, 0);
    Atomics.store(i32, layout.header + kHeaderFindingDrained, 0);
  }

  /** Words per record, for sizing. */
  static readonly recordWords = kFindingWords;
}
