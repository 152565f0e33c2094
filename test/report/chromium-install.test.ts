/** The browser test's install step fails loudly: a Chromium that cannot be installed is an error, never a skip. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureChromium } from '../helpers/chromium.js';

const dir = mkdtempSync(join(tmpdir(), 'lockstress-apt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ensureChromium', () => {
  it.runIf(process.platform === 'linux' && process.getuid?.() === 0)('rejects with the reason and apt-get output when the install fails', async () => {
    const stub = join(dir, 'apt-get');
    writeFileSync(stub, '#!/bin/sh\necho "E: Unable to locate package chromium" >&2\nexit 100\n');
    chmodSync(stub, 0o755);
    const attempt = ensureChromium(join(dir, 'no-chromium-here'), stub);
    await expect(attempt).rejects.toThrow(/could not be installed: apt-get update exited with 100\nE: Unable to locate package chromium/);
  });

  it('rejects when the binary is there but does not run', async () => {
    const broken = join(dir, 'chromium');
    writeFileSync(broken, '#!/bin/sh\nexit 3\n');
    chmodSync(broken, 0o755);
    await expect(ensureChromium(broken)).rejects.toThrow('--version exited with 3');
  });
});
