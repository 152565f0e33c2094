/**
 * Headless Chromium for the HTML report's browser test: Debian's package, installed by the test's
 * own setup when it is absent (CI runs as root on a Debian machine). If it cannot be installed
 * the test fails with the reason; it never skips.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export const kChromiumPath = '/usr/bin/chromium';
/** apt-get update + install of chromium and its libraries: a few minutes on a fresh machine. */
export const kInstallTimeoutMs = 15 * 60_000;

/** Flags for a quiet, offline, sandbox-free headless run (root in a container has no sandbox). */
export const kChromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function run(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(killer);
      resolve({ code: -1, output: `${output}\n${error.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    });
  });
}

/**
 * The path of a working headless Chromium, installing Debian's package first if needed. `path`
 * and `aptGet` are for the test of this helper's failure (a stub apt-get that fails).
 */
export async function ensureChromium(path = kChromiumPath, aptGet = 'apt-get'): Promise<string> {
  if (!existsSync(path)) {
    const fail = (why: string, output = ''): Error =>
      new Error(
        `headless Chromium (${path}) is needed by the HTML report's browser test and could not be installed: ${why}` +
          `${output === '' ? '' : `\n${output.trim().split('\n').slice(-15).join('\n')}`}\nInstall it with: apt-get update && apt-get install -y chromium`,
      );
    if (process.platform !== 'linux') throw fail(`this is ${process.platform}, not Debian`);
    if (typeof process.getuid === 'function' && process.getuid() !== 0) throw fail('not running as root, so apt-get cannot install it');
    const deadline = Date.now() + kInstallTimeoutMs;
    // Wait for another apt or dpkg run (up to 5 minutes) rather than fail on its lock.
    const update = await run(aptGet, ['-o', 'DPkg::Lock::Timeout=300', 'update'], kInstallTimeoutMs);
    if (update.code !== 0) throw fail(`apt-get update exited with ${update.code}`, update.output);
    const install = await run(aptGet, ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', 'chromium'], Math.max(1000, deadline - Date.now()));
    if (install.code !== 0 || !existsSync(path)) throw fail(`apt-get install -y chromium exited with ${install.code}`, install.output);
  }
  const version = await run(path, ['--version'], 60_000);
  if (version.code !== 0) throw new Error(`${path} --version exited with ${version.code}: ${version.output.trim()}`);
  return path;
}
