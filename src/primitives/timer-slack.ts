/**
 * Linux may end a timed sleep up to the thread's timer slack late (50 µs by default), so that it
 * can batch wake-ups. A long pause of the os schedule asks for 10 to 60 µs; with the default slack
 * it slept 100 to 150 µs here, and with a 1 µs slack 30 to 90 µs. A thread may set its own slack
 * without privileges by writing /proc/<its tid>/timerslack_ns (Linux 4.6 and later).
 *
 * Best effort: where there is no such file (not Linux, no /proc, a sandbox), nothing changes and
 * the pauses are merely longer.
 */
import { readlinkSync, writeFileSync } from 'node:fs';

/** The slack a sleeping worker asks for, ns (0 would mean "the default" to the kernel). */
export const kTightSlackNs = 1000;

let tightened: boolean | undefined;

/** Sets the calling thread's timer slack to {@link kTightSlackNs}, once per thread. Returns whether it is set. */
export function tightenTimerSlack(): boolean {
  if (tightened !== undefined) return tightened;
  try {
    // /proc/thread-self links to "<pid>/task/<tid>"; the per-task file lives under /proc/<tid>.
    const tid = readlinkSync('/proc/thread-self').split('/').pop();
    writeFileSync(`/proc/${tid}/timerslack_ns`, String(kTightSlackNs));
    tightened = true;
  } catch {
    tightened = false;
  }
  return tightened;
}
