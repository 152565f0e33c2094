/**
 * Refcount with the semantics of the kernel's `refcount_t` (include/linux/refcount.h), over one
 * shared word, plus a ledger of who holds references (like lib/ref_tracker.c, keyed by a holder tag
 * instead of a stack trace).
 *
 * | kRefCount value      | meaning                                                       |
 * |----------------------|---------------------------------------------------------------|
 * | 1 .. INT_MAX-1       | live, that many references                                    |
 * | 0                    | dead: the last put happened (the object is being freed)       |
 * | kRefSaturated        | a misuse was seen; the count stays here for good (no wrap)    |
 *
 * - inc (`refcount_inc`, `kvm_get_kvm`): +1. On 0: finding `inc-on-zero` ("addition on 0;
 *   use-after-free") and saturate.
 * - incNotZero (`refcount_inc_not_zero`, `kvm_get_kvm_safe`): +1 unless 0; returns whether it did.
 * - decAndTest (`refcount_dec_and_test`, `kvm_put_kvm`): -1, true when it reached 0. At 0 or below:
 *   finding `refcount-underflow` and saturate.
 *
 * All updates are CAS loops, so no count is ever lost between threads. Every misuse is a finding in
 * the shared log (data), never an exception. The ledger entry of the holder is updated after the
 * count; it is evidence for leak reports, not part of the count's correctness.
 */
import {
  type SharedMemory,
  kRefCount,
  kRefHolderLastGetSite,
  kRefHolderNet,
  kRefHolderTag,
  kMaxRefHolders,
  refBase,
  refHolderBase,
} from '../layout.js';
import { EventKind, type EventRing } from './event-ring.js';
import type { FindingLog } from './finding-log.js';
import type { StringTable } from './string-table.js';

const kRefGetEvent = EventKind.RefGet;
const kRefPutEvent = EventKind.RefPut;

/** REFCOUNT_SATURATED: INT_MIN / 2, far from both 0 and overflow. */
export const kRefSaturated = -(2 ** 30);

export class Refcount {
  private readonly i32: Int32Array;
  private readonly countIndex: number;

  /**
   * @param strings the string table, or null to keep no ledger (bench)
   * @param events this thread's event ring, or null to record no get/put events
   */
  constructor(
    private readonly memory: SharedMemory,
    readonly id: number,
    readonly thread: number,
    private readonly log: FindingLog,
    private readonly strings: StringTable | null,
    private readonly events: EventRing | null = null,
  ) {
    this.i32 = memory.i32;
    this.countIndex = refBase(memory.layout, id) + kRefCount;
  }

  read(): number {
    return Atomics.load(this.i32, this.countIndex);
  }

  /** Sets the count and clears the ledger. Only while no other thread uses this refcount. */
  reset(count: number, holder = '', site = ''): void {
    Refcount.zero(this.memory, this.id);
    Atomics.store(this.i32, this.countIndex, count);
    if (count > 0 && holder !== '') this.account(holder, count, site);
  }

  /** Refcount `id`'s count, without building a Refcount (the end-of-round sweep). */
  static countOf(memory: SharedMemory, id: number): number {
    return Atomics.load(memory.i32, refBase(memory.layout, id) + kRefCount);
  }

  /** Zeroes refcount `id`'s count and ledger without building a Refcount: between rounds. */
  static zero(memory: SharedMemory, id: number): void {
    const { i32, layout } = memory;
    Atomics.store(i32, refBase(layout, id) + kRefCount, 0);
    for (let h = 0; h < kMaxRefHolders; h++) {
      const base = refHolderBase(layout, id, h);
      Atomics.store(i32, base + kRefHolderTag, 0);
      Atomics.store(i32, base + kRefHolderNet, 0);
      Atomics.store(i32, base + kRefHolderLastGetSite, 0);
    }
  }

  inc(holder = '', site = ''): void {
    const { i32, countIndex } = this;
    let seen = Atomics.load(i32, countIndex);
    for (;;) {
      if (seen === 0) {
        this.report('inc-on-zero', holder, site, seen);
        Atomics.store(i32, countIndex, kRefSaturated);
        return;
      }
      if (seen === kRefSaturated || seen === 0x7fffffff) return;
      const before = Atomics.compareExchange(i32, countIndex, seen, seen + 1);
      if (before === seen) break;
      seen = before;
    }
    this.account(holder, 1, site);
    this.recordEvent(kRefGetEvent, site, seen + 1);
  }

  incNotZero(holder = '', site = ''): boolean {
    const { i32, countIndex } = this;
    let seen = Atomics.load(i32, countIndex);
    for (;;) {
      if (seen === 0) {
        this.recordEvent(kRefGetEvent, site, 0);
        return false;
      }
      if (seen === kRefSaturated) return true;
      const before = Atomics.compareExchange(i32, countIndex, seen, seen + 1);
      if (before === seen) break;
      seen = before;
    }
    this.account(holder, 1, site);
    this.recordEvent(kRefGetEvent, site, seen + 1);
    return true;
  }

  decAndTest(holder = '', site = ''): boolean {
    const { i32, countIndex } = this;
    let seen = Atomics.load(i32, countIndex);
    for (;;) {
      if (seen === kRefSaturated) return false;
      if (seen <= 0) {
        this.report('refcount-underflow', holder, site, seen);
        Atomics.store(i32, countIndex, kRefSaturated);
        return false;
      }
      const before = Atomics.compareExchange(i32, countIndex, seen, seen - 1);
      if (before === seen) break;
      seen = before;
    }
    this.account(holder, -1, site);
    this.recordEvent(kRefPutEvent, site, seen - 1);
    return seen === 1;
  }

  /** Net references per holder tag, as string ids: [tag, net, lastGetSite][]. */
  ledger(): Array<{ tag: number; net: number; lastGetSite: number }> {
    const rows: Array<{ tag: number; net: number; lastGetSite: number }> = [];
    for (let h = 0; h < kMaxRefHolders; h++) {
      const base = refHolderBase(this.memory.layout, this.id, h);
      const tag = Atomics.load(this.i32, base + kRefHolderTag);
      if (tag === 0) continue;
      rows.push({
        tag,
        net: Atomics.load(this.i32, base + kRefHolderNet),
        lastGetSite: Atomics.load(this.i32, base + kRefHolderLastGetSite),
      });
    }
    return rows;
  }

  /** A get or put in the thread's event ring; `count` is the count after it (0: a failed get). */
  private recordEvent(kind: typeof kRefGetEvent | typeof kRefPutEvent, site: string, count: number): void {
    if (this.events === null) return;
    this.events.record(kind, this.id, this.strings?.intern(site) ?? 0, -1, count);
  }

  private report(kind: 'inc-on-zero' | 'refcount-underflow', holder: string, site: string, seen: number): void {
    const tag = this.strings?.intern(holder) ?? 0;
    const siteId = this.strings?.intern(site) ?? 0;
    this.log.log(kind, this.thread, { refcount: this.id, holder: tag, site: siteId, countSeen: seen });
    if (kind === 'refcount-underflow') this.account(holder, -1, site);
  }

  private account(holder: string, delta: number, site: string): void {
    if (this.strings === null || holder === '') return;
    const tag = this.strings.intern(holder);
    const { i32 } = this;
    for (let h = 0; h < kMaxRefHolders; h++) {
      const base = refHolderBase(this.memory.layout, this.id, h);
      let current = Atomics.load(i32, base + kRefHolderTag);
      if (current === 0) current = Atomics.compareExchange(i32, base + kRefHolderTag, 0, tag) || tag;
      if (current !== tag) continue;
      Atomics.add(i32, base + kRefHolderNet, delta);
      if (delta > 0) Atomics.store(i32, base + kRefHolderLastGetSite, this.strings.intern(site));
      return;
    }
    // Ledger full: the count is still exact; only the evidence is missing.
  }
}
