/**
 * Runs a compiled entry point as a user would: a child `node` with only PATH and the given
 * variables, stdout and stderr collected. SIGKILLed after `killAfterMs` so a test never hangs.
 */
import { spawn } from 'node:child_process';

export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runNode(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  options: { killAfterMs?: number; sigintWhenStderr?: string } = {},
): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    let signalled = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Signal only once the child said it is running: its handler is installed by then.
      if (!signalled && options.sigintWhenStderr !== undefined && stderr.includes(options.sigintWhenStderr)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}
