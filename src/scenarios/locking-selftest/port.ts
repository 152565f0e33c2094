/**
 * The macro layer of lib/locking-selftest.c, on lockstress's scenario API: each kernel macro is a
 * method of {@link Selftest} with the kernel's name (L, U, WL, RL, ML, WSL, RSL, LOCK, UNLOCK,
 * HARDIRQ_ENTER ...), so a ported case reads like the kernel's. A case runs as one operation on
 * one thread, as the kernel runs them on one CPU.
 *
 * What stands for what:
 * - `LOCK(x)` / `UNLOCK(x)` are the lock type of the case ({@link LockType}: the kernel's
 *   locking-selftest-{spin,wlock,rlock,mutex,wsem,rsem}.h), over the locks `lock_x`, `rwlock_x`,
 *   `mutex_x`, `rwsem_x` of the scenario;
 * - `IRQ_ENTER` ... are the case's irq flavour (locking-selftest-{hardirq,softirq}.h):
 *   HARDIRQ_ENTER is `ctx.inIrq('hardirq')`; SOFTIRQ_ENTER is `ctx.inIrq('softirq')` with hardirqs
 *   disabled inside, as the kernel's macro disables them; the *_DISABLE / *_ENABLE pairs are
 *   `ctx.irq`;
 * - a case ends with {@link Selftest.reset}: the kernel's dotest() calls reset_locks(), which makes
 *   lockdep forget the locks a case left held; here they are released (an unlock adds no
 *   dependency, so no verdict changes) and the irq state is put back, so an operation never
 *   returns holding a lock (that would be a `held-at-return` the kernel's harness does not have).
 */
import type { Lock, OpContext } from '../contract.js';

/** The lock types of the kernel's header files. */
export type LockType = 'spin' | 'wlock' | 'rlock' | 'mutex' | 'wsem' | 'rsem';
export type IrqFlavour = 'hard' | 'soft';

/** Instance names per type (the kernel's variables are lock_A, rwlock_A, mutex_A, rwsem_A). */
const kPrefix: Record<LockType, string> = { spin: 'lock_', wlock: 'rwlock_', rlock: 'rwlock_', mutex: 'mutex_', wsem: 'rwsem_', rsem: 'rwsem_' };
const kCall: Record<LockType, [string, string]> = {
  spin: ['spin_lock', 'spin_unlock'],
  wlock: ['write_lock', 'write_unlock'],
  rlock: ['read_lock', 'read_unlock'],
  mutex: ['mutex_lock', 'mutex_unlock'],
  wsem: ['down_write', 'up_write'],
  rsem: ['down_read', 'up_read'],
};
const isRead = (type: LockType): boolean => type === 'rlock' || type === 'rsem';

export class Selftest {
  /** What the case still holds, oldest first, to release at the end (reset_locks). */
  private readonly held: Array<{ name: string; read: boolean }> = [];
  /** Irq state changes the case has not undone: local_irq_disable count and local_bh_disable count. */
  private irqsOff = 0;
  private bhOff = 0;
  /** The event being run (`E1: `), prefixed to every site. */
  private event = '';

  constructor(
    private readonly ctx: OpContext,
    /** The type behind LOCK/UNLOCK/INIT, or null for cases that use the explicit macros only. */
    private readonly type: LockType | null = null,
    /** The flavour behind IRQ_ENTER/IRQ_DISABLE, or null. */
    private readonly irq: IrqFlavour | null = null,
  ) {}

  // ---- the plain macros ---------------------------------------------------------------------

  L(x: string): void {
    this.take('spin', `lock_${x}`);
  }
  U(x: string): void {
    this.drop('spin', `lock_${x}`);
  }
  WL(x: string): void {
    this.take('wlock', `rwlock_${x}`);
  }
  WU(x: string): void {
    this.drop('wlock', `rwlock_${x}`);
  }
  RL(x: string): void {
    this.take('rlock', `rwlock_${x}`);
  }
  RU(x: string): void {
    this.drop('rlock', `rwlock_${x}`);
  }
  ML(x: string): void {
    this.take('mutex', `mutex_${x}`);
  }
  MU(x: string): void {
    this.drop('mutex', `mutex_${x}`);
  }
  WSL(x: string): void {
    this.take('wsem', `rwsem_${x}`);
  }
  WSU(x: string): void {
    this.drop('wsem', `rwsem_${x}`);
  }
  RSL(x: string): void {
    this.take('rsem', `rwsem_${x}`);
  }
  RSU(x: string): void {
    this.drop('rsem', `rwsem_${x}`);
  }

  /** LOCK(x) of the case's lock type. */
  LOCK(x: string): void {
    const type = this.lockType();
    this.take(type, `${kPrefix[type]}${x}`);
  }
  UNLOCK(x: string): void {
    const type = this.lockType();
    this.drop(type, `${kPrefix[type]}${x}`);
  }
  /** LOCK_UNLOCK_2(x, y): LOCK(x); LOCK(y); UNLOCK(y); UNLOCK(x). */
  LOCK_UNLOCK_2(x: string, y: string): void {
    this.LOCK(x);
    this.LOCK(y);
    this.UNLOCK(y);
    this.UNLOCK(x);
  }

  /** A lock by its kernel variable name, taken as `type` (read_lock(&rwlock_A) is ('rlock', 'rwlock_A')). */
  take(type: LockType, name: string): void {
    const lock = this.lock(name);
    const site = `${this.event}${kCall[type][0]}(&${name})`;
    if (isRead(type)) lock.readLock(site);
    else lock.lock(site);
    this.held.push({ name, read: isRead(type) });
  }

  drop(type: LockType, name: string): void {
    const lock = this.lock(name);
    const site = `${this.event}${kCall[type][1]}(&${name})`;
    if (isRead(type)) lock.readUnlock(site);
    else lock.unlock(site);
    // An unlock of something not held is the case's point (double unlock): nothing to forget.
    for (let i = this.held.length - 1; i >= 0; i--) {
      if (this.held[i]?.name === name && this.held[i]?.read === isRead(type)) {
        this.held.splice(i, 1);
        break;
      }
    }
  }

  /** spin_lock_nest_lock / mutex_lock_nest_lock (`kind` is spin or mutex). */
  takeNest(kind: 'spin' | 'mutex', name: string, nest: string): void {
    this.lock(name).lockNestLock(`${this.event}${kind}_lock_nest_lock(&${name}, &${nest})`, this.lock(nest));
    this.held.push({ name, read: false });
  }

  /** A trylock (mutex_trylock, ww_mutex_trylock): true if taken. */
  tryTake(name: string, call = 'mutex_trylock'): boolean {
    const taken = this.lock(name).tryLock(`${this.event}${call}(&${name})`);
    if (taken) this.held.push({ name, read: false });
    return taken;
  }

  // ---- irq macros ---------------------------------------------------------------------------

  HARDIRQ_DISABLE(): void {
    this.ctx.irq.disable();
    this.irqsOff++;
  }
  HARDIRQ_ENABLE(): void {
    this.ctx.irq.enable(`${this.event}local_irq_enable()`);
    this.irqsOff--;
  }
  SOFTIRQ_DISABLE(): void {
    this.ctx.irq.bhDisable();
    this.bhOff++;
  }
  SOFTIRQ_ENABLE(): void {
    this.ctx.irq.bhEnable(`${this.event}local_bh_enable()`);
    this.bhOff--;
  }
  /** HARDIRQ_ENTER ... HARDIRQ_EXIT around `body`. */
  HARDIRQ(body: () => void): void {
    this.ctx.inIrq('hardirq', body);
  }
  /** SOFTIRQ_ENTER ... SOFTIRQ_EXIT around `body` (the kernel's macro runs it with hardirqs off too). */
  SOFTIRQ(body: () => void): void {
    this.ctx.inIrq('softirq', () => {
      this.ctx.irq.disable();
      body();
      this.ctx.irq.enable(`${this.event}local_irq_enable()`);
    });
  }
  /** IRQ_ENTER ... IRQ_EXIT of the case's flavour. */
  IRQ(body: () => void): void {
    if (this.flavour() === 'hard') this.HARDIRQ(body);
    else this.SOFTIRQ(body);
  }
  IRQ_DISABLE(): void {
    if (this.flavour() === 'hard') this.HARDIRQ_DISABLE();
    else this.SOFTIRQ_DISABLE();
  }
  IRQ_ENABLE(): void {
    if (this.flavour() === 'hard') this.HARDIRQ_ENABLE();
    else this.SOFTIRQ_ENABLE();
  }

  // ---- events and the end of a case ---------------------------------------------------------

  /** Runs event `label` (E1, E2, E3 of a GENERATE_PERMUTATIONS case): its sites say so. */
  run(label: string, event: (t: Selftest) => void): void {
    this.event = `${label}: `;
    event(this);
    this.event = '';
  }

  /** reset_locks(): release what the case left held, newest first, and undo its irq changes. */
  reset(): void {
    for (let held = this.held.pop(); held !== undefined; held = this.held.pop()) {
      const lock = this.lock(held.name);
      if (held.read) lock.readUnlock('reset_locks');
      else lock.unlock('reset_locks');
    }
    for (; this.irqsOff > 0; this.irqsOff--) this.ctx.irq.enable('reset_locks');
    for (; this.bhOff > 0; this.bhOff--) this.ctx.irq.bhEnable('reset_locks');
  }

  private lock(name: string): Lock {
    return this.ctx.locks[name] as Lock;
  }

  private lockType(): LockType {
    if (this.type === null) throw new Error('LOCK() in a case without a lock type');
    return this.type;
  }

  private flavour(): IrqFlavour {
    if (this.irq === null) throw new Error('IRQ_ENTER() in a case without an irq flavour');
    return this.irq;
  }
}

/** The kernel's GENERATE_PERMUTATIONS_2_EVENTS / _3_EVENTS orders, by suffix. */
export const kPermutations2 = { '12': [1, 2], '21': [2, 1] } as const;
export const kPermutations3 = {
  '123': [1, 2, 3],
  '132': [1, 3, 2],
  '213': [2, 1, 3],
  '231': [2, 3, 1],
  '312': [3, 1, 2],
  '321': [3, 2, 1],
} as const;
