/**
 * `npm run catch-rate`: runs the default stress N times with different seeds (each run in its own
 * process, exactly as `npm run stress` runs it) and reports how often every variant passed, and
 * the median and maximum time to the first observed deadlock of `51cdc8bc`. The README's
 * "Measured" section is this script's output.
 *
 * LOCKSTRESS_CATCH_RUNS (default 20) sets N; every LOCKSTRESS_* stress variable is passed through.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../src/errors.js';
import { parseInteger } from '../src/runner/options.js';

interface RunJson {
  seed: number;
  durationMs: number;
  ok: boolean;
  variants: Array<{ name: string; pass: boolean; firstDeadlockMs: number | null }>;
}

function main(): number {
  let runs: number;
  try {
    runs = parseInteger('LOCKSTRESS_CATCH_RUNS', process.env.LOCKSTRESS_CATCH_RUNS ?? '20', 1, 1000);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`lockstress: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const cli = fileURLToPath(new URL('../src/cli/stress.js', import.meta.url));
  const passes = new Map<string, number>();
  const firstDeadlocks: number[] = [];
  const durations: number[] = [];
  let okRuns = 0;
  for (let i = 0; i < runs; i++) {
    const seed = 1000 + i * 7919;
    const child = spawnSync(process.execPath, [cli, '--json', '--seed', String(seed)], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      timeout: 300_000,
    });
    if (child.stdout === '') {
      process.stderr.write(`run ${i + 1} (seed ${seed}) printed no JSON (exit ${child.status})\n`);
      continue;
    }
    let run: RunJson;
    try {
      run = JSON.parse(child.stdout) as RunJson;
    } catch {
      process.stderr.write(`run ${i + 1} (seed ${seed}) printed something that is not JSON (exit ${child.status})\n`);
      continue;
    }
    if (run.ok) okRuns++;
    durations.push(run.durationMs);
    for (const v of run.variants) {
      passes.set(v.name, (passes.get(v.name) ?? 0) + (v.pass ? 1 : 0));
      if (v.name === '51cdc8bc' && v.firstDeadlockMs !== null) firstDeadlocks.push(v.firstDeadlockMs);
    }
    process.stderr.write(`run ${i + 1}/${runs} seed ${seed}: ${run.ok ? 'all variants passed' : 'FAILED'} in ${run.durationMs} ms\n`);
  }
  const sorted = [...firstDeadlocks].sort((a, b) => a - b);
  const median = sorted.length === 0 ? null : ((sorted[(sorted.length - 1) >> 1] ?? 0) + (sorted[sorted.length >> 1] ?? 0)) / 2;
  // The longest name, plus two spaces (variant names such as `cdev-5fcc26969a16-fixed@two-vms`).
  const width = Math.max('variant'.length, ...[...passes.keys()].map((n) => n.length)) + 2;
  const lines = [
    `${runs} ${process.env.LOCKSTRESS_FULL === '1' ? 'full' : 'default'} runs (seeds 1000 + 7919 i), ${okRuns} with every variant passing`,
    '',
    `${'variant'.padEnd(width)}passed`,
    ...[...passes].map(([name, n]) => `${name.padEnd(width)}${n}/${runs}`),
    '',
    `51cdc8bc first observed deadlock: median ${median ?? 'none'} ms, max ${sorted.at(-1) ?? 'none'} ms (over ${sorted.length} runs; the goal is a median of at most 100 ms)`,
    `whole run: median ${[...durations].sort((a, b) => a - b)[durations.length >> 1] ?? 0} ms, max ${Math.max(0, ...durations)} ms`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return okRuns === runs ? 0 : 1;
}

process.exitCode = main();
