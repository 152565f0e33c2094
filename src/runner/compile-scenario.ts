/**
 * TypeScript scenarios: `--scenario ./my-scenario.ts` is compiled in-process with esbuild, the same
 * way on every Node version (Node 20 has no type stripping, and Node 22's is behind a flag before
 * 22.18 and rewrites no imports).
 *
 * Scenario modules are imported by the main thread and by every worker, with Node's own loader,
 * so the compiled module must be a file that any thread can import: it is written beside the
 * original, as a hidden `.NAME.PID-HASH.lockstress.mjs`, and removed when the process exits. Beside
 * the original, its bare imports (`import { defineScenario } from 'lockstress'`) resolve from the
 * user's node_modules as the .ts file's would. Relative imports (`./helpers.ts`, `./table.js`) are
 * bundled into it by esbuild, so helpers may be TypeScript too; packages stay imports. If that
 * folder cannot be written, the file goes to the temp folder, where only node: and relative
 * imports work.
 *
 * Errors point at the .ts source: a syntax error is `file.ts:line:column: message` (esbuild's
 * location); the compiled file carries an inline source map, and importing it turns on Node's
 * source-map support (`process.setSourceMapsEnabled`), so a stack trace, and a scenario that throws
 * while loading, names the .ts file and line. Types are not checked: run `tsc --noEmit` for that.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync, type Message } from 'esbuild';
import { ConfigError } from '../errors.js';

/** The ending of every compiled scenario file, so any thread can tell one from a URL. */
export const kCompiledSuffix = '.lockstress.mjs';

/** `.ts`, `.mts` or `.cts`, not a declaration file. */
export function isTypeScriptPath(path: string): boolean {
  return /\.[cm]?ts$/.test(path) && !/\.d\.[cm]?ts$/.test(path);
}

export function isCompiledScenarioUrl(url: string): boolean {
  return url.startsWith('file:') && url.endsWith(kCompiledSuffix);
}

/** Compiled file URL -> the .ts path it came from and what the user typed (main thread only). */
const origins = new Map<string, { path: string; input: string }>();
/** `path|mtime|size` -> compiled file URL, so a scenario is compiled once per process. */
const compiledByVersion = new Map<string, string>();

/** The .ts path a compiled scenario URL came from and the input that named it, if this process compiled it. */
export function originalOf(url: string): { path: string; input: string } | undefined {
  return origins.get(url);
}

/**
 * Compiles `path` (absolute) and returns the URL of the module to import. `input` is what the user
 * typed, for messages.
 */
export function compileScenario(path: string, input: string): string {
  const stat = statSync(path);
  const version = `${path}|${stat.mtimeMs}|${stat.size}`;
  const known = compiledByVersion.get(version);
  if (known !== undefined) return known;

  const hidden = `.${basename(path)}.${process.pid}`;
  const code = build(path, input, dirname(path));
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 8);
  let file = join(dirname(path), `${hidden}-${hash}${kCompiledSuffix}`);
  try {
    writeFileSync(file, code);
    removeAtExit(file);
  } catch {
    // A folder we cannot write: the temp folder still serves scenarios that import no package.
    const folder = join(tmpdir(), `lockstress-${process.pid}`);
    mkdirSync(folder, { recursive: true });
    removeAtExit(folder);
    file = join(folder, `${basename(path)}-${hash}${kCompiledSuffix}`);
    writeFileSync(file, build(path, input, folder));
  }
  const url = pathToFileURL(file).href;
  origins.set(url, { path, input });
  compiledByVersion.set(version, url);
  return url;
}

/** The compiled module's text, for a file in `folder` (its source map's paths are relative to it). */
function build(path: string, input: string, folder: string): string {
  try {
    const result = buildSync({
      entryPoints: [path],
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0] ?? '20'}`,
      sourcemap: 'inline',
      sourcesContent: false,
      outfile: join(folder, `.scenario${kCompiledSuffix}`),
      write: false,
      absWorkingDir: process.cwd(),
      logLevel: 'silent',
    });
    return result.outputFiles[0]?.text ?? '';
  } catch (error) {
    throw new ConfigError(compileErrorLine(error, input));
  }
}

const toRemove = new Set<string>();

function removeAtExit(path: string): void {
  if (toRemove.size === 0) {
    process.once('exit', () => {
      for (const p of toRemove) rmSync(p, { recursive: true, force: true });
    });
  }
  toRemove.add(path);
}

/** `file.ts:line:column: message (--scenario "x.ts" does not compile)`, one line. */
function compileErrorLine(error: unknown, input: string): string {
  const first = (error as { errors?: Message[] }).errors?.[0];
  const suffix = `(--scenario ${JSON.stringify(input)} does not compile)`;
  if (first === undefined) return `--scenario ${JSON.stringify(input)} does not compile: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  const where = first.location === null ? '' : `${first.location.file}:${first.location.line}:${first.location.column + 1}: `;
  return `${where}${first.text} ${suffix}`;
}

/**
 * Where in the .ts source a load-time error was thrown: the first stack frame in `original`
 * (source maps make the frames point there), as `path:line:column` relative to the working folder.
 */
export function sourceLocation(error: unknown, original: string): string | undefined {
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  const href = pathToFileURL(original).href;
  for (const line of stack.split('\n')) {
    const match = /\(?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?\s*$/.exec(line);
    if (match === null) continue;
    const file = match[1] ?? '';
    const path = file.startsWith('file:') ? fileURLToPath(file) : file;
    if (file === href || path === original) return `${relativeToCwd(original)}:${match[2]}:${match[3]}`;
  }
  return undefined;
}

function relativeToCwd(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') || rel === '' ? path : rel;
}
