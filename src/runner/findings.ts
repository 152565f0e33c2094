/**
 * Findings as data: one union discriminated on `kind`, each kind carrying its evidence. Workers log
 * raw records (primitives/finding-log.ts); the watchdog and the arbiter make the rest; this file
 * turns all of them into {@link Finding}s with names instead of ids.
 */
import type { FindingTimeline } from '../event-types.js';
import type { FindingKind } from '../finding-kinds.js';
import { decodeFinding } from '../finding-codecs.js';
import { kUsageNames, type IrqInversion } from '../lockdep/irq-usage.js';
import type { IrqInversionReport } from '../lockdep/reports.js';
import type { RawFinding } from '../primitives/finding-log.js';

/** A lock as it appears in evidence. */
export interface LockRef {
  /** Instance name, e.g. `group_lock#0` or the scenario's key. */
  lock: string;
  /** Lock class, e.g. `group_lock`. */
  class: string;
}

export interface HeldLock extends LockRef {
  site: string;
  /** How long it had been held when the evidence was taken; -1 if that acquisition was not timed. */
  heldMs: number;
}

/** A thread in a deadlock or stuck dump. */
export interface BlockedThread {
  thread: number;
  /** The operation it was running, or '' between operations. */
  op: string;
  held: HeldLock[];
  waitingFor:
    | (LockRef & {
        site: string;
        waitedMs: number;
        ownerThread: number;
        /** `completion` for a wait_for_completion (lock and class then name the completion). */
        kind?: 'lock' | 'completion';
        /** Waiting to take the lock for read. */
        read?: boolean;
        /** Every thread it waits for (readers of a lock; a completion's possible completers). */
        ownerThreads?: number[];
      })
    | null;
}

interface Common<K extends FindingKind> {
  kind: K;
  /** Round in which it was seen. */
  round: number;
  /** Thread that made it, or -1 for the main thread (watchdog, arbiter). */
  thread: number;
  /** Lock classes involved (for a cycle, in cycle order). */
  locks: string[];
  /** One line. */
  message: string;
  /** Dedupe key: two findings with the same kind and key are the same finding. */
  key: string;
  /**
   * The kernel-format text, rendered where the finding is made when that needs more context than
   * the evidence keeps (the lockdep splat, the hung-task dump). Otherwise rendered from evidence.
   */
  report?: string;
  /** Found under a controlled schedule: the token that replays its round (`--replay`). */
  replay?: string;
  /**
   * The last events of the threads involved, read from their event rings when the finding was
   * made: every thread of a deadlock or stuck dump; the thread that logged any other finding.
   */
  timeline?: FindingTimeline;
}

export type Finding =
  | (Common<'deadlock'> & { evidence: { cycle: BlockedThread[]; others: BlockedThread[] } })
  | (Common<'stuck'> & { evidence: { blocked: BlockedThread[] } })
  | (Common<'lock-order-cycle'> & {
      evidence: {
        /** Each class and the site where it was taken when the edge into it was learned. */
        chain: Array<{ class: string; site: string }>;
        /** The acquisition that closed the cycle: holding `held` at `heldSite`, taking `wanted` at `wantedSite`. */
        closing: { thread: number; held: string; heldSite: string; wanted: string; wantedSite: string };
      };
    })
  | (Common<'recursive-lock'> & { evidence: { lock: LockRef; site: string; held: LockRef; heldSite: string } })
  | (Common<'bad-unlock'> & { evidence: { lock: LockRef; site: string; ownerThread: number } })
  | (Common<'lock-not-held'> & { evidence: { lock: LockRef; site: string; nestFor?: LockRef | null } })
  | (Common<'sleep-in-atomic'> & { evidence: { lock: LockRef | null; site: string; spinlock: LockRef | null; irq?: number } })
  | (Common<'inconsistent-lock-state'> & {
      evidence: { lock: LockRef; site: string; newUsage: string; prevUsage: string; prevSite: string; irq: number };
    })
  | (Common<'irq-lock-inversion'> & { evidence: IrqInversionReport })
  | (Common<'held-at-return'> & { evidence: { lock: LockRef; site: string; op: string; index: number; count: number } })
  | (Common<'refcount-leak'> & {
      evidence: { refcount: string; count: number; holders: Array<{ holder: string; refs: number; lastGetSite: string }> };
    })
  | (Common<'refcount-underflow' | 'inc-on-zero'> & { evidence: { refcount: string; holder: string; site: string; countSeen: number } })
  | (Common<'use-after-free'> & { evidence: { object: string; site: string; freedAt: string; doubleFree: boolean } })
  | (Common<'invariant'> & { evidence: { text: string } });

/** Resolves ids in raw records to names. */
export interface WorldNames {
  lock(lockId: number): LockRef;
  refcount(refId: number): string;
  string(id: number): string;
  /** `struct kvm#0` for a pointer. */
  object(pointer: number, typeStringId: number): string;
  /** An operation's name from its index (names.ts). */
  stepName?(opIndex: number): string;
}

/** Turns a worker's raw record into a finding, through its kind's codec (finding-codecs.ts). */
export function decodeRawFinding(raw: RawFinding, names: WorldNames): Finding {
  const decoded = decodeFinding(raw);
  const base = { round: raw.round, thread: raw.thread };
  const lockOrNull = (id: number): LockRef | null => (id >= 0 ? names.lock(id) : null);
  switch (decoded.kind) {
    case 'recursive-lock': {
      const f = decoded.fields;
      const lock = names.lock(f.lock);
      const held = names.lock(f.heldLock);
      const site = names.string(f.site);
      const heldSite = names.string(f.heldSite);
      return {
        ...base,
        kind: 'recursive-lock',
        locks: [lock.class],
        message: `thread ${raw.thread} takes ${lock.lock} at ${site} while holding ${held.lock} (taken at ${heldSite}), same class ${lock.class}`,
        key: `${lock.class}@${site}`,
        evidence: { lock, site, held, heldSite },
      };
    }
    case 'bad-unlock': {
      const f = decoded.fields;
      const lock = names.lock(f.lock);
      const site = names.string(f.site);
      return {
        ...base,
        kind: 'bad-unlock',
        locks: [lock.class],
        message: `thread ${raw.thread} unlocks ${lock.lock} at ${site} but ${f.owner < 0 ? 'nobody holds it' : `thread ${f.owner} holds it`}`,
        key: `${lock.class}@${site}`,
        evidence: { lock, site, ownerThread: f.owner },
      };
    }
    case 'lock-not-held': {
      const lock = names.lock(decoded.fields.lock);
      const site = names.string(decoded.fields.site);
      const nestFor = lockOrNull(decoded.fields.nestFor);
      if (nestFor !== null) {
        return {
          ...base,
          kind: 'lock-not-held',
          locks: [lock.class, nestFor.class],
          message: `thread ${raw.thread} takes ${nestFor.lock} at ${site} with nest lock ${lock.lock}, which it does not hold`,
          key: `${lock.class}@${site}/nest`,
          evidence: { lock, site, nestFor },
        };
      }
      return {
        ...base,
        kind: 'lock-not-held',
        locks: [lock.class],
        message: `lockdep_assert_held(${lock.lock}) fails at ${site} on thread ${raw.thread}`,
        key: `${lock.class}@${site}`,
        evidence: { lock, site },
      };
    }
    case 'sleep-in-atomic': {
      const f = decoded.fields;
      const lock = lockOrNull(f.lock);
      const spinlock = lockOrNull(f.spinlock);
      const site = names.string(f.site);
      const what = lock === null ? `sleeping operation ${site}` : `sleeping lock ${lock.lock} at ${site}`;
      const where = spinlock !== null ? `under spinlock ${spinlock.lock}` : f.irq !== 0 ? 'with interrupts off or in interrupt context' : 'under spinlock ?';
      return {
        ...base,
        kind: 'sleep-in-atomic',
        locks: [lock?.class, spinlock?.class].filter((c): c is string => c !== undefined),
        message: `${what} ${where} on thread ${raw.thread}`,
        key: `${lock?.class ?? ''}@${site}/${spinlock?.class ?? ''}`,
        evidence: { lock, site, spinlock, irq: f.irq },
      };
    }
    case 'inconsistent-lock-state': {
      const f = decoded.fields;
      const lock = names.lock(f.lock);
      const site = names.string(f.site);
      const newUsage = kUsageNames[f.newBit] ?? `usage ${f.newBit}`;
      const prevUsage = kUsageNames[f.prevBit] ?? `usage ${f.prevBit}`;
      return {
        ...base,
        kind: 'inconsistent-lock-state',
        locks: [lock.class],
        message: `inconsistent {${prevUsage}} -> {${newUsage}} usage of ${lock.class}: taken at ${site} on thread ${raw.thread}`,
        key: `${lock.class}:${prevUsage}->${newUsage}`,
        evidence: { lock, site, newUsage, prevUsage, prevSite: names.string(f.prevSite), irq: f.irq },
      };
    }
    case 'held-at-return': {
      const f = decoded.fields;
      const lock = names.lock(f.lock);
      const site = names.string(f.site);
      const op = f.op < 0 ? '' : (names.stepName?.(f.op) ?? `op#${f.op}`);
      return {
        ...base,
        kind: 'held-at-return',
        locks: [lock.class],
        message: `${op || 'an operation'} returned on thread ${raw.thread} with ${lock.lock} still held (taken at ${site})`,
        key: `${op}:${lock.class}@${site}`,
        evidence: { lock, site, op, index: f.index, count: f.count },
      };
    }
    case 'refcount-underflow':
    case 'inc-on-zero': {
      const f = decoded.fields;
      const refcount = names.refcount(f.refcount);
      const holder = names.string(f.holder);
      const site = names.string(f.site);
      const what = decoded.kind === 'inc-on-zero' ? 'addition on 0; use-after-free' : 'underflow; use-after-free';
      return {
        ...base,
        kind: decoded.kind,
        locks: [],
        message: `refcount_t: ${what}: ${refcount} by ${holder || '?'} at ${site} on thread ${raw.thread}`,
        key: `${refcount}@${site}`,
        evidence: { refcount, holder, site, countSeen: f.countSeen },
      };
    }
    case 'use-after-free': {
      const f = decoded.fields;
      const object = names.object(f.pointer, f.type);
      const site = names.string(f.site);
      const freedAt = names.string(f.freedSite);
      return {
        ...base,
        kind: 'use-after-free',
        locks: [],
        message: `${f.doubleFree ? 'double free' : 'use-after-free'} of ${object} at ${site} on thread ${raw.thread} (freed at ${freedAt || '?'})`,
        // The same bug frees a new generation each round: dedupe on the type, not the pointer.
        key: `${names.string(f.type)}@${site}${f.doubleFree ? '/double-free' : ''}`,
        evidence: { object, site, freedAt, doubleFree: f.doubleFree },
      };
    }
    case 'invariant': {
      const text = names.string(decoded.fields.message);
      return { ...base, kind: 'invariant', locks: [], message: text, key: text, evidence: { text } };
    }
  }
}

/** Names an irq-lock-inversion needs: classes and strings. */
export interface InversionNames {
  className(classId: number): string;
}

/** The main thread's irq inversion (lockdep/irq-usage.ts) as a finding. */
export function irqInversionToFinding(inv: IrqInversion, round: number, usageSite: (cls: number, bit: number) => string, thread: number, names: InversionNames): Finding {
  const cls = (c: number): string => names.className(c);
  const safe = { class: cls(inv.safe), usage: kUsageNames[inv.safeBit] ?? '?', site: usageSite(inv.safe, inv.safeBit) };
  const unsafe = { class: cls(inv.unsafe), usage: kUsageNames[inv.unsafeBit] ?? '?', site: usageSite(inv.unsafe, inv.unsafeBit) };
  const chain = [{ class: safe.class, site: inv.path[0]?.fromSite ?? '' }, ...inv.path.map((e) => ({ class: cls(e.to), site: e.toSite }))];
  const dependency = { from: cls(inv.newest.from), to: cls(inv.newest.to), fromSite: inv.newest.fromSite, toSite: inv.newest.toSite };
  const evidence: IrqInversionReport = { state: inv.state, closedBy: inv.closedBy, thread, safe, unsafe, chain, dependency };
  return {
    kind: 'irq-lock-inversion',
    round,
    thread,
    locks: chain.map((c) => c.class),
    message: `${inv.state}-safe ${safe.class} (${safe.usage} at ${safe.site}) depends on ${inv.state}-unsafe ${unsafe.class} (${unsafe.usage} at ${unsafe.site}): ${chain.map((c) => c.class).join(' -> ')}`,
    key: `${inv.state}:${safe.class}->${unsafe.class}`,
    evidence,
  };
}
