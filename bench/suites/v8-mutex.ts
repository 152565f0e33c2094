/**
 * V8's native `Atomics.Mutex`, in a child process: it needs `node --harmony-struct` for the whole
 * process (a worker's execArgv rejects the flag). A hard timeout and SIGKILL bound it, because a
 * process with a thread blocked in Atomics.Mutex.lock cannot exit any other way.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchResult, SuiteOutput } from '../bench-result.js';

const kName = 'v8-atomics-mutex/uncontended';

export function runV8Mutex(timeMs: number): SuiteOutput {
  const child = fileURLToPath(new URL('../v8-mutex-child.js', import.meta.url));
  const run = spawnSync(process.execPath, ['--harmony-struct', child, String(timeMs)], {
    encoding: 'utf8',
    timeout: 20_000 + 10 * timeMs,
    killSignal: 'SIGKILL',
  });
  const unavailable = (reason: string): SuiteOutput => ({ results: [], unavailable: [{ name: kName, reason }] });
  if (run.error !== undefined) return unavailable(`child process failed: ${run.error.message}`);
  if (run.status !== 0) {
    const why = (run.stderr || '').split('\n').find((l) => l.trim() !== '') ?? `exit ${run.status ?? run.signal}`;
    return unavailable(`node --harmony-struct: ${why}`);
  }
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    const parsed = JSON.parse(line) as BenchResult | { unavailable: string };
    if ('unavailable' in parsed) return unavailable(parsed.unavailable);
    return { results: [parsed], unavailable: [] };
  } catch {
    return unavailable(`unreadable child output: ${line.slice(0, 80)}`);
  }
}
