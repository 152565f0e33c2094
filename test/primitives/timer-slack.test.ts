import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kTightSlackNs, tightenTimerSlack } from '../../src/primitives/timer-slack.js';

// Linux with /proc (CI and the dev machines): the calling thread's own slack is set. Elsewhere the
// call must report that it changed nothing rather than throw.
const linuxProc = existsSync('/proc/thread-self');

describe('tightenTimerSlack', () => {
  it.runIf(linuxProc)("sets the calling thread's timer slack and says so", () => {
    const tid = readlinkSync('/proc/thread-self').split('/').pop();
    expect(tightenTimerSlack()).toBe(true);
    expect(Number(readFileSync(`/proc/${tid}/timerslack_ns`, 'utf8'))).toBe(kTightSlackNs);
    // Once per thread: a second call answers from the first.
    expect(tightenTimerSlack()).toBe(true);
  });

  it.skipIf(linuxProc)('reports false where there is no /proc', () => {
    expect(tightenTimerSlack()).toBe(false);
  });
});
