/**
 * The wire format of the findings that threads log into shared memory: one typed codec per kind,
 * in one module. A record is a kind code plus {@link kFindingArgCount} integer arguments; each
 * codec says which field goes in which argument, so that writers (lock tracker, refcount, object
 * slots, the world) and the reader (runner/findings.ts) can never disagree about a position.
 *
 * Ids are stored + 1 where 0 must mean "none" (a lock id of 0 is a real lock). Only the kinds
 * that threads log have codecs; deadlock, stuck, lock-order-cycle, irq-lock-inversion and
 * refcount-leak are made on the main thread from other evidence.
 */
import { kFindingArgCount } from './layout.js';
import type { FindingKind } from './finding-kinds.js';

/** The fields of each logged kind, as ids (string ids, lock ids, refcount ids, pointers). */
export interface LoggedFields {
  /** A lock of a held class requested: the lock and site, and the held lock of that class and where it was taken. */
  'recursive-lock': { lock: number; site: number; heldLock: number; heldSite: number };
  /** Unlock of a lock not held by this thread; `owner` is the owning thread or -1. */
  'bad-unlock': { lock: number; site: number; owner: number };
  /**
   * lockdep_assert_held failed (`nestFor` -1), or lock `nestFor` was taken with nest lock `lock`,
   * which is not held ("Nested lock was not taken").
   */
  'lock-not-held': { lock: number; site: number; nestFor: number };
  /**
   * A sleeping lock (`lock`, or -1 for `mightSleep` and waits) under spinlock `spinlock` (-1 if
   * none), with the thread's irq state word `irq` (interrupts off or in irq context).
   */
  'sleep-in-atomic': { lock: number; site: number; spinlock: number; irq: number };
  /**
   * `lock` taken at `site` gives its class usage bit `newBit`, which conflicts with `prevBit`, set
   * at `prevSite`; `irq` is the thread's irq state word (layout.ts UsageBit, IrqWord).
   */
  'inconsistent-lock-state': { lock: number; site: number; newBit: number; prevBit: number; irq: number; prevSite: number };
  /** `lock`, taken at `site`, was still held (entry `index` of `count`) when op `op` returned. */
  'held-at-return': { lock: number; site: number; index: number; count: number; op: number };
  'refcount-underflow': { refcount: number; holder: number; site: number; countSeen: number };
  'inc-on-zero': { refcount: number; holder: number; site: number; countSeen: number };
  /** An access or free of a freed object: its pointer, the site, where it was freed, its type. */
  'use-after-free': { pointer: number; site: number; freedSite: number; type: number; doubleFree: boolean };
  /** `ctx.invariant(message)`: the message's string id. */
  invariant: { message: number };
}

export type LoggedKind = keyof LoggedFields;

interface Codec<T> {
  encode(fields: T): number[];
  decode(args: readonly number[]): T;
}

const arg = (args: readonly number[], i: number): number => args[i] ?? 0;

const refcountCodec: Codec<LoggedFields['inc-on-zero']> = {
  encode: (f) => [f.refcount + 1, f.holder, f.site, f.countSeen],
  decode: (a) => ({ refcount: arg(a, 0) - 1, holder: arg(a, 1), site: arg(a, 2), countSeen: arg(a, 3) }),
};

export const kFindingCodecs: { readonly [K in LoggedKind]: Codec<LoggedFields[K]> } = {
  'recursive-lock': {
    encode: (f) => [f.lock + 1, f.site, f.heldLock + 1, f.heldSite],
    decode: (a) => ({ lock: arg(a, 0) - 1, site: arg(a, 1), heldLock: arg(a, 2) - 1, heldSite: arg(a, 3) }),
  },
  'bad-unlock': {
    encode: (f) => [f.lock + 1, f.site, f.owner + 1],
    decode: (a) => ({ lock: arg(a, 0) - 1, site: arg(a, 1), owner: arg(a, 2) - 1 }),
  },
  'lock-not-held': {
    encode: (f) => [f.lock + 1, f.site, f.nestFor + 1],
    decode: (a) => ({ lock: arg(a, 0) - 1, site: arg(a, 1), nestFor: arg(a, 2) - 1 }),
  },
  'sleep-in-atomic': {
    encode: (f) => [f.lock + 1, f.site, f.spinlock + 1, f.irq],
    decode: (a) => ({ lock: arg(a, 0) - 1, site: arg(a, 1), spinlock: arg(a, 2) - 1, irq: arg(a, 3) }),
  },
  'inconsistent-lock-state': {
    // The two bit numbers (0..7) share one argument.
    encode: (f) => [f.lock + 1, f.site, f.newBit | (f.prevBit << 4), f.irq, f.prevSite],
    decode: (a) => ({ lock: arg(a, 0) - 1, site: arg(a, 1), newBit: arg(a, 2) & 15, prevBit: arg(a, 2) >> 4, irq: arg(a, 3), prevSite: arg(a, 4) }),
  },
  'held-at-return': {
    encode: (f) => [f.lock + 1, f.site, f.index, f.count, f.op + 1],
    decode: (a) => ({ lock: arg(a, 0) - 1, site: arg(a, 1), index: arg(a, 2), count: arg(a, 3), op: arg(a, 4) - 1 }),
  },
  'refcount-underflow': refcountCodec,
  'inc-on-zero': refcountCodec,
  'use-after-free': {
    encode: (f) => [f.pointer, f.site, f.freedSite, f.type, f.doubleFree ? 1 : 0],
    decode: (a) => ({ pointer: arg(a, 0), site: arg(a, 1), freedSite: arg(a, 2), type: arg(a, 3), doubleFree: arg(a, 4) === 1 }),
  },
  invariant: {
    encode: (f) => [f.message],
    decode: (a) => ({ message: arg(a, 0) }),
  },
};

export function isLoggedKind(kind: FindingKind): kind is LoggedKind {
  return Object.hasOwn(kFindingCodecs, kind);
}

/** The record arguments of a finding (checked against the record size). */
export function encodeFinding<K extends LoggedKind>(kind: K, fields: LoggedFields[K]): number[] {
  const args = (kFindingCodecs[kind] as Codec<LoggedFields[K]>).encode(fields);
  if (args.length > kFindingArgCount) throw new RangeError(`${kind}: ${args.length} arguments, records hold ${kFindingArgCount}`);
  return args;
}

/** A logged finding with its fields decoded, discriminated on `kind`. */
export type DecodedFinding = { [K in LoggedKind]: { kind: K; round: number; thread: number; fields: LoggedFields[K] } }[LoggedKind];

/** Decodes a raw record. A kind that threads never log is a bug in the tool: it throws. */
export function decodeFinding(raw: { kind: FindingKind; round: number; thread: number; args: readonly number[] }): DecodedFinding {
  if (!isLoggedKind(raw.kind)) throw new Error(`a ${raw.kind} record in the worker log: threads never log that kind`);
  const fields = kFindingCodecs[raw.kind].decode(raw.args);
  return { kind: raw.kind, round: raw.round, thread: raw.thread, fields } as DecodedFinding;
}
