/**
 * The loop of a bench worker (workers/bench-worker.ts forwards to it). Bursts are time windows:
 * a worker repeats its operation until `burstMs` have passed (checking the clock every
 * {@link kClockEvery} operations, since a clock read costs more than a lock), then reports its
 * count and elapsed time into its slot of the control block (src/layout.ts). In a
 * handoff burst thread 0 keeps the time and tells thread 1 when it is over.
 */
import {
  type Capacities,
  SharedMemory,
  benchResultBase,
  kBenchCounter,
  kBenchDone,
  kBenchGo,
  kBenchHandoffEnd,
  kBenchResultCount,
  kBenchResultElapsedNs,
  kBenchBarrierStopAt,
  kBenchStop,
  kBenchTurn,
} from '../src/layout.js';
import { Barrier } from '../src/primitives/barrier.js';
import { FutexMutex } from '../src/primitives/futex-mutex.js';
import { SpinLock } from '../src/primitives/spin-lock.js';
import { StringTable } from '../src/primitives/string-table.js';
import { TicketSpinLock } from '../src/primitives/ticket-spin-lock.js';
import type { Scenario } from '../src/scenarios/contract.js';
import { assignIds, createThreadWorld } from '../src/scenarios/world.js';

export type BenchJob =
  | { mode: 'contended'; kind: 'futex-mutex' | 'spinlock' | 'ticket-spinlock'; lockId: number }
  | { mode: 'handoff'; how: 'futex' | 'spin' }
  | { mode: 'vfio'; scenarioUrl: string; variant: string }
  /** Crossings of the real Barrier (src/primitives/barrier.ts) with `spins` reads before sleeping. */
  | { mode: 'barrier'; spins: number };

export interface BenchWorkerData {
  /** The crew's control block (src/layout.ts). */
  control: SharedArrayBuffer;
  /** The SharedMemory the measured lock or world lives in. */
  buffer: SharedArrayBuffer;
  capacities: Capacities;
  thread: number;
  burstMs: number;
  job: BenchJob;
}

const kClockEvery = 64;
/** No wait of a bench worker lasts longer than this: the main thread is gone or stuck. */
const kIdleBoundMs = 30_000;

export async function runBenchWorker(data: BenchWorkerData, ready: () => void): Promise<string> {
  const memory = new SharedMemory(data.buffer, data.capacities);
  const ctl = new Int32Array(data.control);
  const result = benchResultBase(data.thread);
  const step = await makeStep(memory, ctl, data);
  let seenGo = Atomics.load(ctl, kBenchGo);
  // The main thread blocks during bursts, so it must know every worker is up before the first.
  ready();
  for (;;) {
    // Wait (bounded) for the next burst or the stop word.
    const idleSince = Date.now();
    while (Atomics.load(ctl, kBenchGo) === seenGo) {
      if (Atomics.load(ctl, kBenchStop) !== 0) return 'stopped';
      const woke = Atomics.wait(ctl, kBenchGo, seenGo, 20);
      if (woke === 'timed-out' && Date.now() - idleSince > kIdleBoundMs) return 'gave up waiting for the main thread';
    }
    seenGo = Atomics.load(ctl, kBenchGo);
    if (Atomics.load(ctl, kBenchStop) !== 0) return 'stopped';
    const start = performance.now();
    let count = 0;
    try {
      if ((data.job.mode === 'handoff' && data.thread !== 0) || data.job.mode === 'barrier') {
        // The follower hands back until thread 0 says the burst is over; barrier threads cross
        // until the crossing count thread 0 decided (every thread must make the same number).
        count = step(Number.POSITIVE_INFINITY);
      } else {
        while (performance.now() - start < data.burstMs) count += step(kClockEvery);
      }
      if (data.job.mode === 'handoff' && data.thread === 0) {
        Atomics.store(ctl, kBenchHandoffEnd, 1);
        Atomics.notify(ctl, kBenchTurn);
      }
    } catch (error) {
      // The main thread is blocked in the burst and cannot see an 'error' event until it
      // returns: a count of -1 tells it now, the error itself follows as the worker's error.
      Atomics.store(ctl, result + kBenchResultCount, -1);
      Atomics.add(ctl, kBenchDone, 1);
      Atomics.notify(ctl, kBenchDone);
      throw error;
    }
    const elapsedNs = Math.round((performance.now() - start) * 1e6);
    Atomics.store(ctl, result + kBenchResultCount, count);
    Atomics.store(ctl, result + kBenchResultElapsedNs, Math.min(elapsedNs, 0x7fffffff));
    Atomics.add(ctl, kBenchDone, 1);
    Atomics.notify(ctl, kBenchDone);
  }
}

/** Returns a function that runs `n` operations and returns how many it ran. */
async function makeStep(memory: SharedMemory, ctl: Int32Array, data: BenchWorkerData): Promise<(n: number) => number> {
  const job = data.job;
  switch (job.mode) {
    case 'contended': {
      const lock =
        job.kind === 'futex-mutex'
          ? new FutexMutex(memory, job.lockId, data.thread, null)
          : job.kind === 'spinlock'
            ? new SpinLock(memory, job.lockId, data.thread, null)
            : new TicketSpinLock(memory, job.lockId, data.thread, null);
      return (n) => {
        for (let k = 0; k < n; k++) {
          lock.lock();
          ctl[kBenchCounter] = (ctl[kBenchCounter] ?? 0) + 1; // the tiny critical section
          lock.unlock();
        }
        return n;
      };
    }
    case 'handoff': {
      const me = data.thread;
      const other = 1 - me;
      return (n) => {
        let handed = 0;
        for (let k = 0; k < n; k++) {
          // Wait for my turn: sleeping on the word (futex) or spinning on it. Bounded by the stop word.
          let spins = 0;
          while (Atomics.load(ctl, kBenchTurn) !== me) {
            if (Atomics.load(ctl, kBenchHandoffEnd) !== 0) return handed;
            if (job.how === 'futex') {
              Atomics.wait(ctl, kBenchTurn, other, 20); // 'ok', 'not-equal' or 'timed-out': the loop re-reads the word
              if (Atomics.load(ctl, kBenchStop) !== 0) return handed;
            } else if (++spins % 100_000 === 0 && Atomics.load(ctl, kBenchStop) !== 0) {
              return handed;
            }
          }
          Atomics.store(ctl, kBenchTurn, other);
          if (job.how === 'futex') Atomics.notify(ctl, kBenchTurn, 1);
          handed++;
        }
        return handed;
      };
    }
    case 'barrier': {
      // Every thread must cross the same number of times, or the last ones would wait for ever.
      // Thread 0, its time up after crossing c, publishes c + 2 before it arrives at c + 1: no
      // thread can have finished crossing c + 1 before that store (it needs thread 0's arrival),
      // so every thread reads it at the latest after crossing c + 1 and stops after c + 2.
      const barrier = new Barrier(memory, job.spins);
      const leader = data.thread === 0;
      return () => {
        const start = performance.now();
        let crossed = 0;
        for (;;) {
          barrier.arrive();
          crossed++;
          const stopAt = Atomics.load(ctl, kBenchBarrierStopAt);
          if (stopAt !== 0) {
            if (crossed >= stopAt) return crossed;
          } else if (leader && crossed % kClockEvery === 0 && performance.now() - start >= data.burstMs) {
            Atomics.store(ctl, kBenchBarrierStopAt, crossed + 2);
          }
        }
      };
    }
    case 'vfio': {
      const module = (await import(job.scenarioUrl)) as { default: Scenario };
      const scenario = module.default;
      const variant = scenario.variants.find((v) => v.name === job.variant);
      if (variant === undefined) throw new Error(`no variant ${job.variant}`);
      const world = createThreadWorld(memory, new StringTable(memory), scenario, assignIds(scenario), {
        thread: data.thread,
        variant,
        tracking: false,
        seed: 1,
        jitter: false,
      });
      world.startRound(1);
      const open = world.operation('DEV_OPEN');
      const close = world.operation('DEV_CLOSE');
      if (open === undefined || close === undefined) throw new Error('DEV_OPEN/DEV_CLOSE missing');
      return (n) => {
        for (let k = 0; k < n; k++) {
          open(world.ctx);
          close(world.ctx);
        }
        return n;
      };
    }
  }
}
