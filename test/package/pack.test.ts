/**
 * The packed CLI, exactly as a user gets it: `npm pack` (whose prepack script builds dist/),
 * installed into an empty folder, then `npx lockstress`. The pack runs in a copy of the sources,
 * so its build does not rewrite the dist/ that the rest of the suite is running from. One install:
 * its dependencies come from the npm cache or the registry.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { plainEnv, runCommand } from '../helpers/run-command.js';
import { runNode } from '../helpers/run-node.js';
import { findAll, junitProblems, parseXml } from '../helpers/xml.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const work = mkdtempSync(join(tmpdir(), 'lockstress-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Each command may wait for the registry; the whole test stays well inside the suite's budget. */
const kCommandMs = 180_000;

const kUserScenario = `import { defineScenario, type OpContext } from 'lockstress';

const open = (ctx: OpContext): void => {
  ctx.refs.file?.inc('driver', 'driver_open');
  ctx.refs.file?.decAndTest('driver', 'driver_release');
};
const openAndForget = (ctx: OpContext): void => {
  ctx.refs.file?.inc('driver', 'driver_open'); // the bug: no release
};

export default defineScenario({
  name: 'user-leak',
  description: 'a user scenario in TypeScript',
  objects: { refcounts: { file: {} } },
  ops: { OPEN: open },
  plan: (_rng, threads: number) => Array.from({ length: threads }, (): string[] => ['OPEN']),
  setup: (ctx) => ctx.refs.file?.reset(1, 'owner', 'file_create'),
  finish: (ctx) => void ctx.refs.file?.decAndTest('owner', 'file_put'),
  variants: [
    { name: 'balanced', description: 'every open is released', expect: 'clean' },
    { name: 'leaks', description: 'an open is never released', expect: ['refcount-leak'], ops: { OPEN: openAndForget } },
  ],
});
`;

describe('npm pack', () => {
  it('installs into an empty folder and `npx lockstress` runs, from node_modules, with TypeScript scenarios and types', async () => {
    // A copy of what the build needs, with the project's node_modules (tsc) linked in.
    const copy = join(work, 'source');
    mkdirSync(copy);
    for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'src', 'workers', 'bench']) {
      cpSync(join(root, entry), join(copy, entry), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
    const out = join(work, 'out');
    mkdirSync(out);
    const pack = await runCommand('npm', ['pack', '--json', '--pack-destination', out], copy, plainEnv(), kCommandMs);
    expect(pack.stderr).toContain('prepack');
    expect(pack.code).toBe(0);
    const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed?.files.map((f) => f.path) ?? [];
    for (const needed of ['dist/src/cli/stress.js', 'dist/workers/round-worker.js', 'dist/workers/describe-worker.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'package.json', 'README.md']) {
      expect(files).toContain(needed);
    }
    expect(files.filter((f) => /^(src|test|bench|workers)\/|^dist\/(test|bench)\/|\.map$|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'user-project', private: true }));
    const install = await runCommand('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(out, packed?.filename ?? '')], app, plainEnv(), kCommandMs);
    expect(install.stderr).not.toMatch(/npm error/);
    expect(install.code).toBe(0);

    // The command of the issue, as it is (the workers start before the 300 ms budget counts).
    const run = await runCommand('npx', ['lockstress', '--variant', '2b48f52f2bff', '--duration-ms', '300'], app, plainEnv(), kCommandMs);
    expect(run.stderr).toMatch(/^lockstress: running 1 variant of vfio-kvm on 4 threads, seed \d+\n$/);
    expect(run.stdout).toMatch(/\n2b48f52f2bff\s+clean\s+clean\s+PASS\s/);
    expect(run.code).toBe(0);

    // A user's TypeScript scenario, importing the package: it runs, and it type-checks.
    writeFileSync(join(app, 'user-scenario.ts'), kUserScenario);
    const ts = await runCommand('npx', ['lockstress', '--scenario', './user-scenario.ts', '--threads', '2', '--rounds', '20', '--junit', 'r.xml', '--html', 'r.html'], app, plainEnv(), kCommandMs);
    expect(ts.stdout).toMatch(/\nbalanced\s+clean\s+clean\s+PASS\s/);
    expect(ts.stdout).toMatch(/\nleaks\s+refcount-leak\s+refcount-leak\s+PASS\s/);
    expect(ts.code).toBe(0);
    const junit = parseXml(readFileSync(join(app, 'r.xml'), 'utf8'));
    expect(junitProblems(junit)).toEqual([]);
    expect(findAll(junit, 'testcase').map((c) => c.attrs.name)).toEqual(['balanced', 'leaks']);
    // --html loads its graph layout library from the installed package's dependencies.
    expect(readFileSync(join(app, 'r.html'), 'utf8')).toContain('<tr data-variant="leaks" data-status="pass">');
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: [] }, files: ['user-scenario.ts'] }),
    );
    const check = await runNode(tsc, ['-p', join(app, 'tsconfig.json')], {}, { killAfterMs: kCommandMs });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.code).toBe(0);
  }, 480_000);
});
