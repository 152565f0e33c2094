/**
 * Ctrl-C on `npm run bench`, as a user does it: SIGINT to the bench process while its child
 * `node --harmony-struct` runs. The bench must exit 130, print the part of the tables that is done,
 * and leave no child behind (before, it ignored SIGINT and the child ran on under PID 1).
 * Every wait is bounded: the bench is SIGKILLed after 60 s, and the start marker is awaited at
 * most 45 s.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { compiledPath } from '../helpers/compiled.js';

const main = compiledPath('bench/main.js');

/** Whether `pid` is a live process (a zombie or a missing one is not). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
    return state !== 'Z' && state !== 'X';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `pid`'s parent and command line, where /proc exists. */
function describeProcess(pid: number): { ppid: number; cmdline: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { ppid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') };
  } catch {
    return null;
  }
}

interface Watched {
  child: ChildProcessByStdio<null, Readable, Readable>;
  stdout: () => string;
  stderr: () => string;
  closed: Promise<number | null>;
  /** Resolves with the first match of `pattern` on stderr; rejects after `ms` or if the bench ends first. */
  waitForStderr: (pattern: RegExp, ms: number) => Promise<RegExpExecArray>;
}

function startBench(env: Record<string, string>): Watched {
  const child = spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const listener of listeners) listener();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const closed = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      for (const listener of listeners) listener();
      resolve(code);
    }),
  );
  const waitForStderr = (pattern: RegExp, ms: number): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const done = (): void => {
        listeners.delete(check);
        clearTimeout(timer);
      };
      const check = (): void => {
        const match = pattern.exec(stderr);
        if (match !== null) {
          done();
          resolve(match);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(new Error(`the bench ended before ${pattern} on stderr:\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${pattern} on stderr within ${ms} ms:\n${stderr}`));
      }, ms);
      listeners.add(check);
      check();
    });
  return { child, stdout: () => stdout, stderr: () => stderr, closed, waitForStderr };
}

describe('bench SIGINT', () => {
  it('SIGINT while the V8 child runs: exit 130, the child is gone, the part done is printed', async () => {
    const bench = startBench({ LOCKSTRESS_BENCH_TIME_MS: '400' });
    const match = await bench.waitForStderr(/child node --harmony-struct started, pid (\d+)/, 45_000);
    const v8Pid = Number(match[1]);
    const info = describeProcess(v8Pid);
    if (info !== null) {
      // The marker names a child of the bench running with the flag (it may have just ended: null).
      expect(info.ppid).toBe(bench.child.pid);
      expect(info.cmdline).toContain('--harmony-struct');
    }
    bench.child.kill('SIGINT');
    const code = await bench.closed;
    expect(code, bench.stderr()).toBe(130);
    expect(isRunning(v8Pid)).toBe(false);
    expect(bench.stderr()).toContain('interrupted');
    // The suite done before the signal is printed; the ones after it never started.
    expect(bench.stdout()).toContain('uncontended lock+unlock pair, one thread');
    expect(bench.stdout()).toContain('futex-mutex/uncontended');
    expect(bench.stdout()).toContain('headline ratios');
    expect(bench.stdout()).toContain('INTERRUPTED');
    expect(bench.stdout()).not.toContain('contended, 1/2/4 threads');
  }, 70_000);
});
