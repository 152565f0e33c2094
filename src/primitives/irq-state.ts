/**
 * IrqState: one thread's simulated CPU interrupt state, which lockdep's irq checks read. There are
 * no real interrupts: scenario code says where it would run with interrupts off
 * (local_irq_disable, spin_lock_irqsave), with softirqs off (local_bh_disable, spin_lock_bh), or in
 * interrupt context (`ctx.inIrq('hardirq', fn)`), exactly as the kernel's locking selftests
 * simulate them (HARDIRQ_ENTER, SOFTIRQ_ENTER).
 *
 * The state is the upper part of one word of the thread's record (kThreadIrq, the same word as the
 * tracker's spinlock count, so that an acquire tests its whole atomic context with one load),
 * written only by its thread, read by the lock tracker at each acquire, by a queued rwlock's
 * reader (in_interrupt()), and reset with the thread's record between rounds:
 *
 * | field (IrqWord)   | kernel analogue                              | changed by                          |
 * |-------------------|----------------------------------------------|-------------------------------------|
 * | HardirqsOff       | irqs_disabled()                              | disable/enable, save/restore        |
 * | Bh count          | softirq_count() (local_bh_disable nesting)   | bhDisable/bhEnable, softirq context |
 * | Hardirq depth     | hardirq_count() (irq_enter)                  | enterHardirq/exitHardirq            |
 * | Softirq depth     | lockdep's softirq_context                    | enterSoftirq/exitSoftirq            |
 *
 * A word of 0 is process context with everything enabled and no spinlock held, so the tracker's
 * hot path tests one word.
 * Turning hardirqs or softirqs back on tells the observer (lockdep's trace_hardirqs_on and
 * lockdep_softirqs_on), which marks every held lock as taken with that interrupt enabled.
 *
 * Misuse (enabling softirqs that were never disabled, leaving an interrupt context that was never
 * entered, an interrupt arriving with interrupts disabled) is a mistake in scenario code: a
 * ScenarioError naming it.
 */
import { type SharedMemory, IrqWord, kThreadIrq, threadBase } from '../layout.js';
import { ScenarioError } from '../errors.js';
import type { LockObserver } from './lock-observer.js';

/** The irq part of a kThreadIrq word (without the spinlock count): 0 in plain process context. */
export const irqPart = (word: number): number => word & IrqWord.IrqMask;
export const hardirqsEnabled = (word: number): boolean => (word & IrqWord.HardirqsOff) === 0;
/** Softirqs run only with no local_bh_disable in force (softirq context holds one too). */
export const softirqsEnabled = (word: number): boolean => (word & IrqWord.BhMask) === 0;
export const inHardirq = (word: number): boolean => (word & IrqWord.HardirqMask) !== 0;
export const inSoftirq = (word: number): boolean => (word & IrqWord.SoftirqMask) !== 0;
/** in_interrupt(): hardirq or softirq context, or softirqs disabled (the kernel counts those too). */
export const inInterrupt = (word: number): boolean => (word & (IrqWord.HardirqMask | IrqWord.SoftirqMask | IrqWord.BhMask)) !== 0;

/** The state in lockdep's words, for reports: `HC1[1]:SC0[0]:HE0:SE1`. */
export function describeIrqWord(word: number): string {
  const hc = (word & IrqWord.HardirqMask) / IrqWord.HardirqUnit;
  const sc = (word & IrqWord.SoftirqMask) / IrqWord.SoftirqUnit;
  const bh = (word & IrqWord.BhMask) / IrqWord.BhUnit;
  return `HC${hc > 0 ? 1 : 0}[${hc}]:SC${sc > 0 ? 1 : 0}[${bh}]:HE${hardirqsEnabled(word) ? 1 : 0}:SE${softirqsEnabled(word) ? 1 : 0}`;
}

export class IrqState {
  private readonly i32: Int32Array;
  private readonly index: number;

  constructor(
    memory: SharedMemory,
    readonly thread: number,
    private readonly observer: LockObserver | null,
  ) {
    this.i32 = memory.i32;
    this.index = threadBase(memory.layout, thread) + kThreadIrq;
  }

  /** The irq part of the thread's word. */
  word(): number {
    return irqPart(this.i32[this.index] ?? 0);
  }

  /** local_irq_disable(). */
  disable(): void {
    this.set(this.word() | IrqWord.HardirqsOff);
  }

  /** local_irq_enable(): held locks become HARDIRQ-ON users (and SOFTIRQ-ON if softirqs are on). */
  enable(site = 'local_irq_enable'): void {
    const before = this.word();
    this.set(before & ~IrqWord.HardirqsOff);
    if (!hardirqsEnabled(before)) this.observer?.hardirqsOn(site);
  }

  /** local_irq_save(): disables and returns the flags to restore (1 when they were enabled). */
  save(): number {
    const flags = hardirqsEnabled(this.word()) ? 1 : 0;
    this.disable();
    return flags;
  }

  /** local_irq_restore(flags). */
  restore(flags: number, site = 'local_irq_restore'): void {
    if (flags === 1) this.enable(site);
    else this.disable();
  }

  /** local_bh_disable(). */
  bhDisable(): void {
    const word = this.word();
    if ((word & IrqWord.BhMask) === IrqWord.BhMask) throw new ScenarioError('local_bh_disable nested more than 255 deep');
    this.set(word + IrqWord.BhUnit);
  }

  /** local_bh_enable(): at the outermost, held locks become SOFTIRQ-ON users (if hardirqs are on). */
  bhEnable(site = 'local_bh_enable'): void {
    const word = this.word();
    if ((word & IrqWord.BhMask) === 0) throw new ScenarioError('local_bh_enable without a local_bh_disable (softirqs are already enabled)');
    const after = word - IrqWord.BhUnit;
    this.set(after);
    if (softirqsEnabled(after)) this.observer?.softirqsOn(site);
  }

  /** HARDIRQ_ENTER: interrupts off, then irq_enter. Returns the flags {@link exitHardirq} restores. */
  enterHardirq(): number {
    const word = this.word();
    if (!hardirqsEnabled(word)) throw new ScenarioError('an interrupt cannot arrive while interrupts are disabled (inIrq("hardirq") under local_irq_disable)');
    if ((word & IrqWord.HardirqMask) === IrqWord.HardirqMask) throw new ScenarioError('hardirq context nested more than 15 deep');
    this.set((word | IrqWord.HardirqsOff) + IrqWord.HardirqUnit);
    return 1;
  }

  /** HARDIRQ_EXIT: irq_exit, then interrupts back as they were. */
  exitHardirq(flags: number): void {
    const word = this.word();
    if ((word & IrqWord.HardirqMask) === 0) throw new ScenarioError('left hardirq context that was never entered');
    this.set(word - IrqWord.HardirqUnit);
    this.restore(flags, 'irq_exit');
  }

  /** SOFTIRQ_ENTER: softirqs off (local_bh_disable), then softirq context. */
  enterSoftirq(): void {
    const word = this.word();
    if (inHardirq(word)) throw new ScenarioError('softirqs run on irq exit, not inside a hardirq handler (inIrq("softirq") inside inIrq("hardirq"))');
    if (!softirqsEnabled(word)) throw new ScenarioError('a softirq cannot run while softirqs are disabled (inIrq("softirq") under local_bh_disable)');
    if ((word & IrqWord.SoftirqMask) === IrqWord.SoftirqMask) throw new ScenarioError('softirq context nested more than 15 deep');
    this.set(word + IrqWord.BhUnit + IrqWord.SoftirqUnit);
  }

  /** SOFTIRQ_EXIT: leave softirq context, then local_bh_enable. */
  exitSoftirq(): void {
    const word = this.word();
    if ((word & IrqWord.SoftirqMask) === 0) throw new ScenarioError('left softirq context that was never entered');
    this.set(word - IrqWord.SoftirqUnit);
    this.bhEnable('__do_softirq');
  }

  private set(irq: number): void {
    // Plain store: only this thread writes its word; the spinlock count below is kept.
    this.i32[this.index] = ((this.i32[this.index] ?? 0) & IrqWord.SpinMask) | irq;
  }
}
