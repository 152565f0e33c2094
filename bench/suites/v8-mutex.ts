/**
 * V8's native `Atomics.Mutex`, in a child process: it needs `node --harmony-struct` for the whole
 * process (a worker's execArgv rejects the flag). The child is spawned asynchronously, so the
 * main thread stays free for Ctrl-C while it runs; it is SIGKILLed on a hard timeout (a process
 * with a thread blocked in Atomics.Mutex.lock cannot exit any other way), when the run is
 * interrupted, and by {@link killChildren} on a second Ctrl-C; an 'exit' hook kills any left.
 * No child outlives the bench.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchResult, SuiteOutput } from '../bench-result.js';

const kName = 'v8-atomics-mutex/uncontended';
const kChildFile = fileURLToPath(new URL('../v8-mutex-child.js', import.meta.url));

/** Children still running, each with a promise of its 'close' (it has been reaped). */
const live = new Map<ChildProcess, Promise<void>>();
let exitHookInstalled = false;

/**
 * Kills every running child and resolves once they are reaped (at most `boundMs`), so that a
 * process.exit() that follows leaves neither a running child nor a zombie.
 */
export async function killChildren(boundMs = 1000): Promise<void> {
  for (const child of live.keys()) child.kill('SIGKILL');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(live.values()), new Promise((resolve) => (timer = setTimeout(resolve, boundMs)))]);
  clearTimeout(timer);
}

/** Last resort on any exit: a child that is still running is killed (not reaped). */
function killOnExit(): void {
  for (const child of live.keys()) child.kill('SIGKILL');
}

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  spawnError: Error | null;
  timedOut: boolean;
  /** Killed because `interrupt` was aborted, or killed by a SIGINT of its own (Ctrl-C hits the process group). */
  interrupted: boolean;
}

export interface ChildHooks {
  /** Aborting it kills the child; the run then counts as interrupted. */
  signal?: AbortSignal;
  /** Called with the child's pid once it is spawned. */
  spawned?: (pid: number) => void;
}

/** Runs `node --harmony-struct v8-mutex-child.js ...args` to its end, or kills it. */
function runChild(args: readonly string[], timeoutMs: number, hooks: ChildHooks): Promise<ChildRun> {
  return new Promise((resolve) => {
    const run: ChildRun = { code: null, signal: null, stdout: '', stderr: '', spawnError: null, timedOut: false, interrupted: false };
    if (hooks.signal?.aborted === true) {
      resolve({ ...run, interrupted: true });
      return;
    }
    if (!exitHookInstalled) {
      process.on('exit', killOnExit);
      exitHookInstalled = true;
    }
    const child = spawn(process.execPath, ['--harmony-struct', kChildFile, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.set(child, new Promise((closed) => child.once('close', () => closed())));
    child.stdout.setEncoding('utf8').on('data', (d: string) => (run.stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (run.stderr += d));
    const timer = setTimeout(() => {
      run.timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const onAbort = (): void => {
      run.interrupted = true;
      child.kill('SIGKILL');
    };
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => (run.spawnError = error));
    // 'close' follows 'exit' (or a failed spawn's 'error') once the pipes are drained: the child is reaped.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      hooks.signal?.removeEventListener('abort', onAbort);
      live.delete(child);
      resolve({ ...run, code, signal, interrupted: run.interrupted || signal === 'SIGINT' });
    });
    if (child.pid !== undefined) hooks.spawned?.(child.pid);
  });
}

/** The child's last JSON line, or why there is none. */
function readChild(run: ChildRun): { parsed: Record<string, unknown> } | { reason: string } {
  if (run.spawnError !== null) return { reason: `child process failed: ${run.spawnError.message}` };
  if (run.timedOut) return { reason: 'node --harmony-struct: killed after its time limit' };
  if (run.code !== 0) {
    const why = run.stderr.split('\n').find((l) => l.trim() !== '') ?? `exit ${run.code ?? run.signal}`;
    return { reason: `node --harmony-struct: ${why}` };
  }
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return { parsed: JSON.parse(line) as Record<string, unknown> };
  } catch {
    return { reason: `unreadable child output: ${line.slice(0, 80)}` };
  }
}

/** The suite: one tinybench measurement of `Atomics.Mutex` in the child. Interrupted: no result. */
export async function runV8Mutex(timeMs: number, hooks: ChildHooks = {}): Promise<SuiteOutput> {
  const run = await runChild(['table', String(timeMs)], 20_000 + 10 * timeMs, hooks);
  if (run.interrupted) return { results: [], unavailable: [] };
  const unavailable = (reason: string): SuiteOutput => ({ results: [], unavailable: [{ name: kName, reason }] });
  const read = readChild(run);
  if ('reason' in read) return unavailable(read.reason);
  if (typeof read.parsed.unavailable === 'string') return unavailable(read.parsed.unavailable);
  return { results: [read.parsed.result as BenchResult], unavailable: [] };
}

/**
 * The headline ratio FutexMutex / `Atomics.Mutex`, interleaved inside the child: its per-round
 * ratios, or why it is unavailable. Interrupted: the rounds the child finished.
 */
export async function runV8Rounds(
  method: { roundMs: number; rounds: number; warmupMs: number },
  hooks: ChildHooks = {},
): Promise<{ rounds: number[] } | { unavailable: string }> {
  const budgetMs = method.warmupMs + 2 * method.rounds * method.roundMs;
  const run = await runChild(['rounds', String(method.roundMs), String(method.rounds), String(method.warmupMs)], 20_000 + 10 * budgetMs, hooks);
  const lines = run.stdout.split('\n').flatMap((line): Array<Record<string, unknown>> => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  const rounds = lines.flatMap((l) => (typeof l.round === 'number' ? [l.round] : []));
  if (run.interrupted) return { rounds };
  const read = readChild(run);
  if ('reason' in read) return { unavailable: read.reason };
  if (typeof read.parsed.unavailable === 'string') return { unavailable: read.parsed.unavailable };
  if (read.parsed.done !== true) return { unavailable: 'the child did not finish its rounds' };
  return { rounds };
}
