/**
 * Findings logged from any thread into shared memory, so that a finding made just before a thread
 * blocks for good is not lost with it. Records are fixed-size: a kind code, the round, the thread
 * and kind-specific integer arguments (finding-codecs.ts says which). The main thread drains the
 * log while the workers run and turns records into findings with names (runner/findings.ts).
 *
 * Protocol: a ring of `capacities.findings` records. kHeaderFindingCount counts records claimed
 * since the log was made, kHeaderFindingDrained those the drainer has taken; record n lives in
 * slot n % capacity. A writer claims n by CAS on the count only while n - drained < capacity
 * (otherwise it counts the record in kHeaderFindingDropped and stores nothing), fills the slot,
 * and publishes it by storing the kind code last. The drainer takes slots in order while their
 * kind code is non-zero, zeroes each, then advances drained: a slot is reused only after it was
 * read. A claimed slot whose writer was terminated before publishing is skipped by
 * {@link FindingLog.skipUnpublished}, called when no writer can be running.
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
  kHeaderFindingDropped,
} from '../layout.js';
import { type FindingKind, findingKindCode, findingKindOf } from '../finding-kinds.js';
import { type LoggedFields, type LoggedKind, encodeFinding } from '../finding-codecs.js';
import { EventRing } from './event-ring.js';

export interface RawFinding {
  /** Its index in the log (the n-th record since the log was made): its event ring marker's value. */
  index: number;
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
    const countIndex = layout.header + kHeaderFindingCount;
    const capacity = layout.capacities.findings;
    let n = Atomics.load(i32, countIndex);
    for (;;) {
      if (n - Atomics.load(i32, layout.header + kHeaderFindingDrained) >= capacity) {
        Atomics.add(i32, layout.header + kHeaderFindingDropped, 1);
        return;
      }
      const seen = Atomics.compareExchange(i32, countIndex, n, n + 1);
      if (seen === n) break;
      n = seen;
    }
    const base = findingBase(layout, n % capacity);
    Atomics.store(i32, base + kFindingRound, this.memory.roundOf(thread));
    Atomics.store(i32, base + kFindingThread, thread);
    for (let i = 0; i < kFindingArgCount; i++) Atomics.store(i32, base + kFindingArg0 + i, args[i] ?? 0);
    Atomics.store(i32, base + kFindingKind, findingKindCode(kind));
    // The thread that logs is the thread named (every caller logs its own findings): mark the
    // moment in its event ring, and keep its last events for the report (event-ring.ts).
    if (thread >= 0 && thread < layout.capacities.threads) new EventRing(this.memory, thread).recordFinding(findingKindCode(kind), n);
  }

  /**
   * Takes every published record in order (main thread, at any time: writers may be running) and
   * frees their slots. Returns the records and how many were dropped since the log was made.
   */
  drain(): { records: RawFinding[]; dropped: number } {
    const { i32, layout } = this.memory;
    const capacity = layout.capacities.findings;
    const count = Atomics.load(i32, layout.header + kHeaderFindingCount);
    let n = Atomics.load(i32, layout.header + kHeaderFindingDrained);
    const records: RawFinding[] = [];
    for (; n < count; n++) {
      const base = findingBase(layout, n % capacity);
      const code = Atomics.load(i32, base + kFindingKind);
      if (code === 0) break; // claimed but not yet published: take it next time
      const kind = findingKindOf(code);
      if (kind === undefined) throw new Error(`finding record ${n} has kind code ${code}, which no kind has`);
      const args: number[] = [];
      for (let i = 0; i < kFindingArgCount; i++) args.push(Atomics.load(i32, base + kFindingArg0 + i));
      records.push({ index: n, kind, round: Atomics.load(i32, base + kFindingRound), thread: Atomics.load(i32, base + kFindingThread), args });
      Atomics.store(i32, base + kFindingKind, 0);
    }
    Atomics.store(i32, layout.header + kHeaderFindingDrained, n);
    return { records, dropped: Atomics.load(i32, layout.header + kHeaderFindingDropped) };
  }

  /**
   * After a drain, with no writer running (all threads parked or gone): gives up the slots that
   * were claimed but never published (their writer was terminated mid-record).
   */
  skipUnpublished(): void {
    const { i32, layout } = this.memory;
    const count = Atomics.load(i32, layout.header + kHeaderFindingCount);
    for (let n = Atomics.load(i32, layout.header + kHeaderFindingDrained); n < count; n++) {
      Atomics.store(i32, findingBase(layout, n % layout.capacities.findings) + kFindingKind, 0);
    }
    Atomics.store(i32, layout.header + kHeaderFindingDrained, count);
  }

  /** Empties the log. Only when no thread can be writing. */
  reset(): void {
    const { i32, layout } = this.memory;
    for (let n = 0; n < layout.capacities.findings; n++) Atomics.store(i32, findingBase(layout, n) + kFindingKind, 0);
    Atomics.store(i32, layout.header + kHeaderFindingCount, 0);
    Atomics.store(i32, layout.header + kHeaderFindingDrained, 0);
    Atomics.store(i32, layout.header + kHeaderFindingDropped, 0);
  }

  /** Words per record, for sizing. */
  static readonly recordWords = kFindingWords;
}
