/**
 * TrackedFutexMutex: a {@link FutexMutex} with tracking on. lock-kinds.ts makes one whenever there
 * is a tracker; `new FutexMutex(..., tracker)` still works and does the same.
 *
 * The lock, its shared word and its protocol are FutexMutex's (futex-mutex.ts). Only lock() and
 * unlock() differ: they are tracked-lock.ts's acquireTracked and releaseTracked written out, without
 * FutexMutex's `observer !== null` branch and the untracked code behind it, and with the CAS of
 * fastAcquire and the exchange of release in place (one inlined call less each).
 *
 * Why: V8 inlines the calls of a hot function only while their bytecode, summed, stays under a
 * budget (Node 20: 920 bytes, and a candidate must fit 1.2 times its size), and it counts a
 * callee's whole bytecode, branches it never takes included. The tracker's fast paths (lock-
 * tracker.ts acquiredAtOnce and willRelease) take most of it; FutexMutex.lock/unlock's untracked
 * half and two levels of helpers were enough to keep acquiredAtOnce out of a caller that locks and
 * unlocks, which cost a call per pair, and with it the hoisting of the tracker's fields out of the
 * caller's loop (measured: tracking on / off 2.1-2.3 with that call, 1.7-1.8 without; traced with
 * node --trace-turbo-inlining). A call site that only sees tracked mutexes sees one class.
 */
import type { SharedMemory } from '../layout.js';
import { FutexMutex } from './futex-mutex.js';
import type { LockObserver } from './lock-observer.js';
import { type SchedulePolicy, kFreeRunning } from './schedule-policy.js';
import { acquireTrackedSlowly } from './tracked-lock.js';

export class TrackedFutexMutex extends FutexMutex {
  /** The tracker (FutexMutex's `observer`, typed non-null). */
  private readonly tracker: LockObserver;

  constructor(memory: SharedMemory, id: number, thread: number, tracker: LockObserver, schedule: SchedulePolicy = kFreeRunning) {
    super(memory, id, thread, tracker, schedule);
    this.tracker = tracker;
  }

  /** acquireTracked(this, tracker, site), written out, with fastAcquire's CAS. */
  override lock(site = ''): void {
    const taken = Atomics.compareExchange(this.i32, this.stateIndex, 0, this.mine) === 0;
    if (!taken || !this.tracker.acquiredAtOnce(this.id, site)) acquireTrackedSlowly(this, this.tracker, site, taken);
  }

  /** releaseTracked(this, tracker, site), written out, with release's exchange. */
  override unlock(site = ''): void {
    if (!this.tracker.willRelease(this.id, site)) return;
    const seen = Atomics.exchange(this.i32, this.stateIndex, 0);
    if (seen !== this.mine) this.releaseSlow(seen);
  }
}
