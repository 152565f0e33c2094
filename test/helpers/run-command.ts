/**
 * Runs a command (npm, npx) as a user would in a shell, in a folder, with only the given
 * environment: none of the npm_* variables of the `npm test` that runs the suite leak in (npm
 * would take the project's folder for the prefix). SIGKILLed after `killAfterMs`.
 */
import { spawn } from 'node:child_process';
import type { NodeRun } from './run-node.js';

export function runCommand(command: string, args: string[], cwd: string, env: Record<string, string>, killAfterMs: number): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** PATH and HOME, and npm's cache folder when one is set: what npm needs to find itself and its cache. */
export function plainEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  if (process.env.npm_config_cache !== undefined) env.npm_config_cache = process.env.npm_config_cache;
  return { ...env, ...extra };
}
