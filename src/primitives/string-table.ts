/**
 * Shared string table: site labels and object names as small ids, so that a worker can write "I hold
 * group_lock, taken at vfio_device_group_open" into a few words and the main thread can read it
 * back while that worker is blocked.
 *
 * Protocol: append-only. An append takes the table's own spinlock word (kHeaderStringLock, 0 free,
 * 1 taken), rescans for the string (another thread may have added it), writes the bytes, then the
 * index entry, and publishes by storing the new count last. Readers load the count first, so they
 * never see a half-written entry. Each thread caches string -> id in a Map, so a hot path pays one
 * Map lookup. Id 0 is the empty string, so a zeroed word reads as "".
 */
import {
  type SharedMemory,
  kHeaderStringBytes,
  kHeaderStringCount,
  kHeaderStringLock,
  kStringLength,
  kStringOffset,
  stringIndexBase,
} from '../layout.js';
import { LimitError, WaitTimeout } from '../errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The append lock is held for a few microseconds; waiting this long means a bug. */
const kAppendLockBoundMs = 2000;

export class StringTable {
  private readonly cache = new Map<string, number>();
  private readonly names: string[] = [];
  /** Ids below this are in `cache`. */
  private synced = 1;

  constructor(private readonly memory: SharedMemory) {}

  /** Id of `text`, adding it if new. Never returns 0 except for "". */
  intern(text: string): number {
    const cached = this.cache.get(text);
    if (cached !== undefined) return cached;
    if (text === '') return 0;
    // Another thread may have added it: read what is published, without the lock.
    this.syncPublished();
    const published = this.cache.get(text);
    if (published !== undefined) return published;
    const { i32, layout } = this.memory;
    const lockIndex = layout.header + kHeaderStringLock;
    this.acquire(lockIndex);
    try {
      this.syncPublished();
      const found = this.cache.get(text);
      if (found !== undefined) return found;
      const count = Math.max(1, Atomics.load(i32, layout.header + kHeaderStringCount));
      const bytes = encoder.encode(text);
      const used = Atomics.load(i32, layout.header + kHeaderStringBytes);
      if (count >= layout.capacities.strings || used + bytes.length > layout.capacities.stringBytes) {
        throw new LimitError(
          `the shared string table is full (${count} of ${layout.capacities.strings} strings, ${used} of ${layout.capacities.stringBytes} bytes) at ${JSON.stringify(text.slice(0, 60))}: site names, holder tags, object types and invariant messages must come from a bounded set of strings`,
        );
      }
      this.memory.u8.set(bytes, layout.stringBytesOffset + used);
      const entry = stringIndexBase(layout, count);
      Atomics.store(i32, entry + kStringOffset, used);
      Atomics.store(i32, entry + kStringLength, bytes.length);
      Atomics.store(i32, layout.header + kHeaderStringBytes, used + bytes.length);
      // Publish last: a reader that sees the new count sees the whole entry.
      Atomics.store(i32, layout.header + kHeaderStringCount, count + 1);
      this.cache.set(text, count);
      this.synced = count + 1;
      return count;
    } finally {
      Atomics.store(i32, lockIndex, 0);
    }
  }

  /**
   * Reads the entries published since the last call into the cache, so that a lookup by text is
   * one Map probe, not a scan of the table under the append lock (every worker interns every
   * declared name at the start of each variant).
   */
  private syncPublished(): void {
    const count = Atomics.load(this.memory.i32, this.memory.layout.header + kHeaderStringCount);
    for (let id = Math.max(1, this.synced); id < count; id++) {
      const text = this.lookup(id);
      if (!this.cache.has(text)) this.cache.set(text, id);
    }
    if (count > this.synced) this.synced = count;
  }

  /** The string for an id; "" for 0 or an id not (yet) published. */
  lookup(id: number): string {
    if (id <= 0) return '';
    const known = this.names[id];
    if (known !== undefined) return known;
    const { i32, layout } = this.memory;
    if (id >= Atomics.load(i32, layout.header + kHeaderStringCount)) return '';
    const entry = stringIndexBase(layout, id);
    const offset = Atomics.load(i32, entry + kStringOffset);
    const length = Atomics.load(i32, entry + kStringLength);
    const start = layout.stringBytesOffset + offset;
    // TextDecoder refuses views on shared memory, so copy the bytes out first.
    const text = decoder.decode(this.memory.u8.slice(start, start + length));
    this.names[id] = text;
    return text;
  }

  private acquire(lockIndex: number): void {
    const { i32 } = this.memory;
    const start = Date.now();
    while (Atomics.compareExchange(i32, lockIndex, 0, 1) !== 0) {
      // Short timed sleep: appends are rare and quick, so yielding the core is the polite choice.
      const result = Atomics.wait(i32, lockIndex, 1, 0.05);
      if (result !== 'ok' && Date.now() - start > kAppendLockBoundMs) {
        throw new WaitTimeout('string table append lock', kAppendLockBoundMs);
      }
    }
  }
}
