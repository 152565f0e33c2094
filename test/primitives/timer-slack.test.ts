import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kTightSlackNs, tightenTimerSlack } from '../../src/primitives/timer-slack.js';

// Linux with /proc: whether this thread may set its own slack is found out independently (by
// writing back the value it has), and the call must agree and leave the file at 1 µs. Elsewhere
// the call must report that it changed nothing, not throw.
const linuxProc = existsSync('/proc/thread-self');
const ownSlackFile = (): string => `/proc/${readlinkSync('/proc/thread-self').split('/').pop()}/timerslack_ns`;
const mayWriteOwnSlack = (): boolean => {
  try {
    writeFileSync(ownSlackFile(), readFileSync(ownSlackFile(), 'utf8').trim());
    return true;
  } catch {
    return false;
  }
};

describe('tightenTimerSlack', () => {
  it.runIf(linuxProc)("sets the calling thread's slack exactly when the thread may", () => {
    const may = mayWriteOwnSlack();
    expect(tightenTimerSlack()).toBe(may);
    if (may) expect(Number(readFileSync(ownSlackFile(), 'utf8'))).toBe(kTightSlackNs);
    // Once per thread: a second call answers from the first.
    expect(tightenTimerSlack()).toBe(may);
  });

  it.skipIf(linuxProc)('reports false where there is no /proc', () => {
    expect(tightenTimerSlack()).toBe(false);
  });
});
