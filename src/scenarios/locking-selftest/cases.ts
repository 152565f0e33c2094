/**
 * The cases of lib/locking-selftest.c (torvalds/linux, the version with the read-recursion,
 * queued-rwlock, wait-context and local_lock tests), each as the kernel writes it, with the
 * kernel's expected outcome: SUCCESS (lockdep stays quiet) or FAILURE (lockdep reports, and
 * `kind` is the finding lockstress must show for it).
 *
 * Names are the kernel's function names (`AA_spin`, `irqsafe1_hard_rlock_12`,
 * `W1R2_W2R3_W3R1_123`); `row` is the kernel's printed test name, as in its result table.
 * out-of-reach.ts lists the cases that are not ported, and why.
 */
import type { FindingKind } from '../../finding-kinds.js';
import { type IrqFlavour, type LockType, Selftest, kPermutations2, kPermutations3 } from './port.js';

export interface SelftestCase {
  /** The kernel's function name. */
  name: string;
  /** The kernel's printed test name (print_testname) and the column. */
  row: string;
  expected: 'SUCCESS' | 'FAILURE';
  /** The finding lockdep's report maps to, for a FAILURE. */
  kind?: FindingKind;
  type: LockType | null;
  irq: IrqFlavour | null;
  body: (t: Selftest) => void;
}

const cases: SelftestCase[] = [];
const add = (c: SelftestCase): void => {
  cases.push(c);
};

const kSixTypes: LockType[] = ['spin', 'wlock', 'rlock', 'mutex', 'wsem', 'rsem'];
type Event = (t: Selftest) => void;

/** GENERATE_TESTCASE over the six lock types (DO_TESTCASE_6 / _6R). */
function sixTypes(base: string, row: string, body: Event, kind: FindingKind, rlockSucceeds: boolean): void {
  for (const type of kSixTypes) {
    const success = rlockSucceeds && type === 'rlock';
    add({ name: `${base}_${type}`, row: `${row} | ${type}`, expected: success ? 'SUCCESS' : 'FAILURE', ...(success ? {} : { kind }), type, irq: null, body });
  }
}

/** One permutation case: the events in the order of `order`. */
function permuted(events: Event[], order: readonly number[]): Event {
  return (t) => {
    for (const n of order) t.run(`E${n}`, events[n - 1] as Event);
  };
}

/**
 * GENERATE_PERMUTATIONS_{2,3}_EVENTS for each (irq flavour, lock type), with the kernel's
 * expectation per lock type (DO_TESTCASE_3: spin and wlock FAILURE, rlock SUCCESS; DO_TESTCASE_2RW:
 * wlock FAILURE, rlock SUCCESS; ...).
 */
function permutations(
  base: string,
  row: string,
  flavours: Array<IrqFlavour | null>,
  types: Array<{ type: LockType; success: boolean }>,
  events: Event[],
  kind: FindingKind,
  /** The W1R2 cases are named without their (only) lock type. */
  typeInName = true,
): void {
  const orders = events.length === 2 ? kPermutations2 : kPermutations3;
  for (const [suffix, order] of Object.entries(orders)) {
    for (const irq of flavours) {
      for (const { type, success } of types) {
        const parts = [base, ...(irq === null ? [] : [irq]), ...(typeInName ? [type] : []), suffix];
        add({
          name: parts.join('_'),
          row: `${irq === null ? '' : `${irq}-`}${row}/${suffix} | ${type}`,
          expected: success ? 'SUCCESS' : 'FAILURE',
          ...(success ? {} : { kind }),
          type,
          irq,
          body: permuted(events, order),
        });
      }
    }
  }
}

// ---- A-A, A-B-B-A ... deadlocks (DO_TESTCASE_6R: rlocks must not trigger) ----------------------

sixTypes('AA', 'A-A deadlock', (t) => {
  t.LOCK('X1');
  t.LOCK('X2'); // this one should fail
}, 'recursive-lock', true);
sixTypes('ABBA', 'A-B-B-A deadlock', (t) => {
  t.LOCK_UNLOCK_2('A', 'B');
  t.LOCK_UNLOCK_2('B', 'A');
}, 'lock-order-cycle', true);
sixTypes('ABBCCA', 'A-B-B-C-C-A deadlock', (t) => {
  t.LOCK_UNLOCK_2('A', 'B');
  t.LOCK_UNLOCK_2('B', 'C');
  t.LOCK_UNLOCK_2('C', 'A');
}, 'lock-order-cycle', true);
sixTypes('ABCABC', 'A-B-C-A-B-C deadlock', (t) => {
  t.LOCK_UNLOCK_2('A', 'B');
  t.LOCK_UNLOCK_2('C', 'A');
  t.LOCK_UNLOCK_2('B', 'C');
}, 'lock-order-cycle', true);
sixTypes('ABBCCDDA', 'A-B-B-C-C-D-D-A deadlock', (t) => {
  t.LOCK_UNLOCK_2('A', 'B');
  t.LOCK_UNLOCK_2('B', 'C');
  t.LOCK_UNLOCK_2('C', 'D');
  t.LOCK_UNLOCK_2('D', 'A');
}, 'lock-order-cycle', true);
sixTypes('ABCDBDDA', 'A-B-C-D-B-D-D-A deadlock', (t) => {
  t.LOCK_UNLOCK_2('A', 'B');
  t.LOCK_UNLOCK_2('C', 'D');
  t.LOCK_UNLOCK_2('B', 'D');
  t.LOCK_UNLOCK_2('D', 'A');
}, 'lock-order-cycle', true);
sixTypes('ABCDBCDA', 'A-B-C-D-B-C-D-A deadlock', (t) => {
  t.LOCK_UNLOCK_2('A', 'B');
  t.LOCK_UNLOCK_2('C', 'D');
  t.LOCK_UNLOCK_2('B', 'C');
  t.LOCK_UNLOCK_2('D', 'A');
}, 'lock-order-cycle', true);
sixTypes('double_unlock', 'double unlock', (t) => {
  t.LOCK('A');
  t.UNLOCK('A');
  t.UNLOCK('A'); // fail
}, 'bad-unlock', false);

// ---- recursive and mixed read locks ------------------------------------------------------------

const one = (name: string, row: string, expected: 'SUCCESS' | 'FAILURE', kind: FindingKind | null, body: Event): void =>
  add({ name, row, expected, ...(kind === null ? {} : { kind }), type: null, irq: null, body });

one('rlock_AA1', 'recursive read-lock | rlock', 'SUCCESS', null, (t) => {
  t.RL('X1');
  t.RL('X1'); // this one should NOT fail
});
one('rsem_AA1', 'recursive read-lock | rsem', 'FAILURE', 'recursive-lock', (t) => {
  t.RSL('X1');
  t.RSL('X1'); // this one should fail
});
one('rlock_AA1B', 'recursive read-lock #2 | rlock', 'SUCCESS', null, (t) => {
  t.RL('X1');
  t.RL('X2'); // this one should NOT fail
});
one('rsem_AA1B', 'recursive read-lock #2 | rsem', 'FAILURE', 'recursive-lock', (t) => {
  t.RSL('X1');
  t.RSL('X2'); // this one should fail
});
one('rlock_AA2', 'mixed read-write-lock | rlock', 'FAILURE', 'recursive-lock', (t) => {
  t.RL('X1');
  t.WL('X2'); // this one should fail
});
one('rsem_AA2', 'mixed read-write-lock | rsem', 'FAILURE', 'recursive-lock', (t) => {
  t.RSL('X1');
  t.WSL('X2'); // this one should fail
});
one('rlock_AA3', 'mixed write-read-lock | rlock', 'FAILURE', 'recursive-lock', (t) => {
  t.WL('X1');
  t.RL('X2'); // this one should fail
});
one('rsem_AA3', 'mixed write-read-lock | rsem', 'FAILURE', 'recursive-lock', (t) => {
  t.WSL('X1');
  t.RSL('X2'); // this one should fail
});
one('rlock_ABBA1', 'mixed read-lock/lock-write ABBA | rlock', 'FAILURE', 'lock-order-cycle', (t) => {
  t.RL('X1');
  t.L('Y1');
  t.U('Y1');
  t.RU('X1');

  t.L('Y1');
  t.WL('X1');
  t.WU('X1');
  t.U('Y1'); // should fail
});
one('rwsem_ABBA1', 'mixed read-lock/lock-write ABBA | rwsem', 'FAILURE', 'lock-order-cycle', (t) => {
  t.RSL('X1');
  t.ML('Y1');
  t.MU('Y1');
  t.RSU('X1');

  t.ML('Y1');
  t.WSL('X1');
  t.WSU('X1');
  t.MU('Y1'); // should fail
});
one('rlock_ABBA2', 'mixed read-lock/lock-read ABBA | rlock', 'SUCCESS', null, (t) => {
  t.RL('X1');
  t.L('Y1');
  t.U('Y1');
  t.RU('X1');

  t.L('Y1');
  t.RL('X1');
  t.RU('X1');
  t.U('Y1'); // should NOT fail
});
one('rwsem_ABBA2', 'mixed read-lock/lock-read ABBA | rwsem', 'FAILURE', 'lock-order-cycle', (t) => {
  t.RSL('X1');
  t.ML('Y1');
  t.MU('Y1');
  t.RSU('X1');

  t.ML('Y1');
  t.RSL('X1');
  t.RSU('X1');
  t.MU('Y1'); // should fail
});
one('rlock_ABBA3', 'mixed write-lock/lock-write ABBA | rlock', 'FAILURE', 'lock-order-cycle', (t) => {
  t.WL('X1');
  t.L('Y1');
  t.U('Y1');
  t.WU('X1');

  t.L('Y1');
  t.WL('X1');
  t.WU('X1');
  t.U('Y1'); // should fail
});
one('rwsem_ABBA3', 'mixed write-lock/lock-write ABBA | rwsem', 'FAILURE', 'lock-order-cycle', (t) => {
  t.WSL('X1');
  t.ML('Y1');
  t.MU('Y1');
  t.WSU('X1');

  t.ML('Y1');
  t.WSL('X1');
  t.WSU('X1');
  t.MU('Y1'); // should fail
});
one('rlock_chaincache_ABBA1', 'chain cached mixed R-L/L-W ABBA | rlock', 'FAILURE', 'lock-order-cycle', (t) => {
  t.RL('X1');
  t.L('Y1');
  t.U('Y1');
  t.RU('X1');

  t.L('Y1');
  t.RL('X1');
  t.RU('X1');
  t.U('Y1');

  t.L('Y1');
  t.WL('X1');
  t.WU('X1');
  t.U('Y1'); // should fail
});

// ---- write-read chains over three rwlocks (locking-selftest-rlock.h; DO_TESTCASE_6x1RR/RRB) -----

const rlockOnly = (success: boolean) => [{ type: 'rlock' as LockType, success }];
permutations('W1R2_W2R3_W3R1', 'rlock W1R2/W2R3/W3R1', [null], rlockOnly(false), [
  (t) => { t.WL('X1'); t.RL('Y1'); t.RU('Y1'); t.WU('X1'); },
  (t) => { t.WL('Y1'); t.RL('Z1'); t.RU('Z1'); t.WU('Y1'); },
  (t) => { t.WL('Z1'); t.RL('X1'); t.RU('X1'); t.WU('Z1'); },
], 'lock-order-cycle', false);
permutations('W1W2_R2R3_W3R1', 'rlock W1W2/R2R3/W3R1', [null], rlockOnly(false), [
  (t) => { t.WL('X1'); t.WL('Y1'); t.WU('Y1'); t.WU('X1'); },
  (t) => { t.RL('Y1'); t.RL('Z1'); t.RU('Z1'); t.RU('Y1'); },
  (t) => { t.WL('Z1'); t.RL('X1'); t.RU('X1'); t.WU('Z1'); },
], 'lock-order-cycle', false);
permutations('W1R2_R2R3_W3W1', 'rlock W1R2/R2R3/W3W1', [null], rlockOnly(true), [
  (t) => { t.WL('X1'); t.RL('Y1'); t.RU('Y1'); t.WU('X1'); },
  (t) => { t.RL('Y1'); t.RL('Z1'); t.RU('Z1'); t.RU('Y1'); },
  (t) => { t.WL('Z1'); t.WL('X1'); t.WU('X1'); t.WU('Z1'); },
], 'lock-order-cycle', false);
permutations('W1W2_R2R3_R3W1', 'rlock W1W2/R2R3/R3W1', [null], rlockOnly(true), [
  (t) => { t.WL('X1'); t.WL('Y1'); t.WU('Y1'); t.WU('X1'); },
  (t) => { t.RL('Y1'); t.RL('Z1'); t.RU('Z1'); t.RU('Y1'); },
  (t) => { t.RL('Z1'); t.WL('X1'); t.WU('X1'); t.RU('Z1'); },
], 'lock-order-cycle', false);

// ---- irq-context cases (DO_TESTCASE_2x6, _2x3, _6x6, _6x6RW, _6x2x2RW) ---------------------------

const spinWlockRlock = [
  { type: 'spin' as LockType, success: false },
  { type: 'rlock' as LockType, success: true },
  { type: 'wlock' as LockType, success: false },
];
const hardSoft: IrqFlavour[] = ['hard', 'soft'];

// locking an irq-safe lock with irqs enabled
permutations('irqsafe1', 'irqs-on + irq-safe-A', hardSoft, spinWlockRlock, [
  (t) => t.IRQ(() => { t.LOCK('A'); t.UNLOCK('A'); }),
  (t) => { t.LOCK('A'); t.UNLOCK('A'); },
], 'inconsistent-lock-state');

// enabling hardirqs with a softirq-safe lock held
permutations('irqsafe2A', 'sirq-safe-A => hirqs-on', [null], [
  { type: 'spin', success: false },
  { type: 'wlock', success: false },
  { type: 'rlock', success: true },
], [
  (t) => t.SOFTIRQ(() => { t.LOCK('A'); t.UNLOCK('A'); }),
  (t) => { t.HARDIRQ_DISABLE(); t.LOCK('A'); t.HARDIRQ_ENABLE(); t.UNLOCK('A'); },
], 'inconsistent-lock-state');

// enabling irqs with an irq-safe lock held
permutations('irqsafe2B', 'safe-A + irqs-on', hardSoft, spinWlockRlock, [
  (t) => t.IRQ(() => { t.LOCK('A'); t.UNLOCK('A'); }),
  (t) => { t.IRQ_DISABLE(); t.LOCK('A'); t.IRQ_ENABLE(); t.UNLOCK('A'); },
], 'inconsistent-lock-state');

// acquiring an irq-unsafe lock while holding an irq-safe lock
permutations('irqsafe3', 'safe-A + unsafe-B #1', hardSoft, spinWlockRlock, [
  (t) => { t.LOCK('A'); t.LOCK('B'); t.UNLOCK('B'); t.UNLOCK('A'); },
  (t) => { t.LOCK('B'); t.UNLOCK('B'); },
  (t) => t.IRQ(() => { t.LOCK('A'); t.UNLOCK('A'); }),
], 'inconsistent-lock-state');

// a lock turns irq-safe, but earlier it took an irq-unsafe lock
permutations('irqsafe4', 'safe-A + unsafe-B #2', hardSoft, spinWlockRlock, [
  (t) => { t.IRQ_DISABLE(); t.LOCK('A'); t.LOCK('B'); t.UNLOCK('B'); t.UNLOCK('A'); t.IRQ_ENABLE(); },
  (t) => { t.LOCK('B'); t.UNLOCK('B'); },
  (t) => t.IRQ(() => { t.LOCK('A'); t.UNLOCK('A'); }),
], 'irq-lock-inversion');

// read-lock / write-lock irq inversion
permutations('irq_inversion', 'irq lock-inversion', hardSoft, spinWlockRlock, [
  (t) => { t.IRQ_DISABLE(); t.WL('A'); t.LOCK('B'); t.UNLOCK('B'); t.WU('A'); t.IRQ_ENABLE(); },
  (t) => { t.LOCK('B'); t.UNLOCK('B'); },
  (t) => t.IRQ(() => { t.RL('A'); t.RU('A'); }),
], 'irq-lock-inversion');

// read-lock / write-lock recursion that is actually safe (LOCK is RL or WL of rwlock_A)
const wlockRlock = [
  { type: 'rlock' as LockType, success: true },
  { type: 'wlock' as LockType, success: false },
];
permutations('irq_read_recursion', 'irq read-recursion', hardSoft, wlockRlock, [
  (t) => { t.IRQ_DISABLE(); t.WL('A'); t.WU('A'); t.IRQ_ENABLE(); },
  (t) => { t.RL('A'); t.RU('A'); },
  (t) => t.IRQ(() => { t.LOCK('A'); t.L('B'); t.U('B'); t.UNLOCK('A'); }),
], 'inconsistent-lock-state');

// read-lock / write-lock recursion that is unsafe
permutations('irq_read_recursion2', 'irq read-recursion #2', hardSoft, wlockRlock, [
  (t) => { t.IRQ_DISABLE(); t.L('B'); t.LOCK('A'); t.UNLOCK('A'); t.U('B'); t.IRQ_ENABLE(); },
  (t) => { t.RL('A'); t.RU('A'); },
  (t) => t.IRQ(() => { t.L('B'); t.U('B'); }),
], 'irq-lock-inversion');

// A is an ENABLED_*_READ lock, B a USED_IN_*_READ lock
permutations('irq_read_recursion3', 'irq read-recursion #3', hardSoft, wlockRlock, [
  (t) => { t.IRQ_DISABLE(); t.WL('B'); t.LOCK('A'); t.UNLOCK('A'); t.WU('B'); t.IRQ_ENABLE(); },
  (t) => { t.RL('A'); t.RU('A'); },
  (t) => t.IRQ(() => { t.RL('B'); t.RU('B'); }),
], 'irq-lock-inversion');

// ---- wound/wait: the tests whose lockdep behaviour does not need ww_mutex semantics --------------
// A ww_acquire_ctx is the lockdep map it is (class ww_lockdep_acquire, acquired by ww_acquire_init,
// released by ww_acquire_fini); ww_mutex_lock(o, ctx) is mutex_lock_nest_lock(&o.base, ctx).

const WWAI = (t: Selftest, ctx: string): void => t.take('mutex', ctx);
const WWAF = (t: Selftest, ctx: string): void => t.drop('mutex', ctx);
const WWL = (t: Selftest, o: string, ctx: string): void => t.takeNest('mutex', o, ctx);
const WWL1 = (t: Selftest, o: string): void => t.take('mutex', o);
const WWT = (t: Selftest, o: string): boolean => t.tryTake(o, 'ww_mutex_trylock');
const WWU = (t: Selftest, o: string): void => t.drop('mutex', o);
const ww = (name: string, row: string, expected: 'SUCCESS' | 'FAILURE', kind: FindingKind | null, body: Event): void => one(name, row, expected, kind, body);

ww('ww_test_normal', 'ww api failures | normal', 'SUCCESS', null, (t) => {
  WWAI(t, 't');
  // mutex_lock, _interruptible, _killable: all mutex_lock for lockdep
  for (let i = 0; i < 3; i++) {
    t.take('mutex', 'o');
    t.drop('mutex', 'o');
  }
  // trylock, succeeding
  if (t.tryTake('o')) t.drop('mutex', 'o');
  // trylock, failing
  t.take('mutex', 'o');
  t.tryTake('o');
  t.drop('mutex', 'o');
  // nest_lock
  t.takeNest('mutex', 'o', 't');
  t.drop('mutex', 'o');
});
ww('ww_test_two_contexts', 'ww contexts mixing | two contexts', 'FAILURE', 'recursive-lock', (t) => {
  WWAI(t, 't');
  WWAI(t, 't2');
});
ww('ww_test_context_unlock_twice', 'finishing ww context | unlock twice', 'FAILURE', 'bad-unlock', (t) => {
  WWAI(t, 't');
  // WWAD(&t): ww_acquire_done only marks the context (no lockdep action)
  WWAF(t, 't');
  WWAF(t, 't');
});
ww('ww_test_object_unlock_twice', 'locking mismatches | object unlock twice', 'FAILURE', 'bad-unlock', (t) => {
  WWL1(t, 'o');
  WWU(t, 'o');
  WWU(t, 'o');
});
ww('ww_test_spin_nest_unlocked', 'spinlock nest unlocked', 'FAILURE', 'lock-not-held', (t) => {
  t.takeNest('spin', 'lock_A', 'o');
  t.U('A');
});
ww('ww_test_spin_nest_lock', 'spinlock nest test', 'SUCCESS', null, (t) => {
  t.L('X1');
  t.takeNest('spin', 'lock_Y1', 'lock_X1');
  t.L('A');
  t.takeNest('spin', 'lock_Y2', 'lock_X1');
  t.U('A');
  t.U('Y2');
  t.U('Y1');
  t.U('X1');
});
ww('ww_test_context_block', 'context | block', 'FAILURE', 'recursive-lock', (t) => {
  WWAI(t, 't');
  WWL(t, 'o', 't');
  WWL1(t, 'o2');
});
ww('ww_test_context_try', 'context | try', 'SUCCESS', null, (t) => {
  WWAI(t, 't');
  WWL(t, 'o', 't');
  WWT(t, 'o2');
  WWU(t, 'o2');
  WWU(t, 'o');
});
ww('ww_test_context_context', 'context | context', 'SUCCESS', null, (t) => {
  WWAI(t, 't');
  WWL(t, 'o', 't');
  WWL(t, 'o2', 't');
  WWU(t, 'o2');
  WWU(t, 'o');
});
ww('ww_test_try_block', 'try | block', 'FAILURE', 'recursive-lock', (t) => {
  WWT(t, 'o');
  WWL1(t, 'o2');
  WWU(t, 'o2');
  WWU(t, 'o');
});
ww('ww_test_try_try', 'try | try', 'SUCCESS', null, (t) => {
  WWT(t, 'o');
  WWT(t, 'o2');
  WWU(t, 'o2');
  WWU(t, 'o');
});
ww('ww_test_try_context', 'try | context', 'FAILURE', 'recursive-lock', (t) => {
  WWT(t, 'o');
  WWAI(t, 't');
  WWL(t, 'o2', 't');
});
ww('ww_test_block_block', 'block | block', 'FAILURE', 'recursive-lock', (t) => {
  WWL1(t, 'o');
  WWL1(t, 'o2');
});
ww('ww_test_block_try', 'block | try', 'SUCCESS', null, (t) => {
  WWL1(t, 'o');
  WWT(t, 'o2');
});
ww('ww_test_block_context', 'block | context', 'FAILURE', 'recursive-lock', (t) => {
  WWL1(t, 'o');
  WWAI(t, 't');
  WWL(t, 'o2', 't');
});
ww('ww_test_spin_block', 'spinlock | block', 'FAILURE', 'lock-order-cycle', (t) => {
  t.L('A');
  t.U('A');

  WWL1(t, 'o');
  t.L('A');
  t.U('A');
  WWU(t, 'o');

  t.L('A');
  WWL1(t, 'o');
  WWU(t, 'o');
  t.U('A');
});
ww('ww_test_spin_try', 'spinlock | try', 'SUCCESS', null, (t) => {
  t.L('A');
  t.U('A');

  WWT(t, 'o');
  t.L('A');
  t.U('A');
  WWU(t, 'o');

  t.L('A');
  WWT(t, 'o');
  WWU(t, 'o');
  t.U('A');
});
// ww_test_spin_context is out of reach (out-of-reach.ts): both orders run under the one context t.

// ---- queued read lock tests (force_read_lock_recursive = 0, CONFIG_QUEUED_RWLOCKS) ---------------
// LOCK(B) here is write_lock(&rwlock_B): the last header included before these cases is wlock's.

const QRL = (t: Selftest, x: string): void => t.take('rlock', `rwlock_${x} (queued)`);
const QRU = (t: Selftest, x: string): void => t.drop('rlock', `rwlock_${x} (queued)`);
const QWL = (t: Selftest, x: string): void => t.take('wlock', `rwlock_${x} (queued)`);
const QWU = (t: Selftest, x: string): void => t.drop('wlock', `rwlock_${x} (queued)`);

one('queued_read_lock_hardirq_RE_Er', 'hardirq read-lock/lock-read', 'FAILURE', 'lock-order-cycle', (t) => {
  t.HARDIRQ(() => {
    QRL(t, 'A');
    QWL(t, 'B');
    QWU(t, 'B');
    QRU(t, 'A');
  });
  t.HARDIRQ_DISABLE();
  QWL(t, 'B');
  QRL(t, 'A');
  QRU(t, 'A');
  QWU(t, 'B');
  t.HARDIRQ_ENABLE();
});
one('queued_read_lock_hardirq_ER_rE', 'hardirq lock-read/read-lock', 'SUCCESS', null, (t) => {
  t.HARDIRQ(() => {
    QWL(t, 'B');
    QRL(t, 'A');
    QRU(t, 'A');
    QWU(t, 'B');
  });
  t.HARDIRQ_DISABLE();
  QRL(t, 'A');
  QWL(t, 'B');
  QWU(t, 'B');
  QRU(t, 'A');
  t.HARDIRQ_ENABLE();
});
one('queued_read_lock_hardirq_inversion', 'hardirq inversion', 'FAILURE', 'irq-lock-inversion', (t) => {
  t.HARDIRQ(() => {
    QWL(t, 'B');
    QWU(t, 'B');
  });
  t.HARDIRQ_DISABLE();
  QWL(t, 'B');
  QRL(t, 'A');
  QRU(t, 'A');
  QWU(t, 'B');
  t.HARDIRQ_ENABLE();

  QRL(t, 'A');
  QRU(t, 'A');
});

// ---- hardirq_unsafe_softirq_safe ----------------------------------------------------------------

one('hardirq_deadlock_softirq_not_deadlock', 'hardirq_unsafe_softirq_safe', 'FAILURE', 'irq-lock-inversion', (t) => {
  // mutex_A is hardirq-unsafe and softirq-unsafe; mutex_A -> lock_C
  t.ML('A');
  t.HARDIRQ_DISABLE();
  t.L('C');
  t.U('C');
  t.HARDIRQ_ENABLE();
  t.MU('A');

  // lock_A is hardirq-safe
  t.HARDIRQ(() => {
    t.L('A');
    t.U('A');
  });

  // lock_A -> lock_B
  t.HARDIRQ_DISABLE();
  t.L('A');
  t.L('B');
  t.U('B');
  t.U('A');
  t.HARDIRQ_ENABLE();

  // lock_B -> lock_C
  t.HARDIRQ_DISABLE();
  t.L('B');
  t.L('C');
  t.U('C');
  t.U('B');
  t.HARDIRQ_ENABLE();

  // lock_D is softirq-safe
  t.SOFTIRQ(() => {
    t.L('D');
    t.U('D');
  });

  // And lock_D is hardirq-unsafe
  t.SOFTIRQ_DISABLE();
  t.L('D');
  t.U('D');
  t.SOFTIRQ_ENABLE();

  // mutex_A -> lock_C -> lock_D is softirq-unsafe -> softirq-safe, not deadlock.
  // lock_A -> lock_B -> lock_C -> lock_D is hardirq-safe -> hardirq-unsafe, deadlock.
  t.HARDIRQ_DISABLE();
  t.L('C');
  t.L('D');
  t.U('D');
  t.U('C');
  t.HARDIRQ_ENABLE();
});

/** Every ported case, in the kernel's order within each family. */
export const kSelftestCases: readonly SelftestCase[] = cases;
