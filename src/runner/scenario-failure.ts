/**
 * Where a mistake in scenario code is: the `file:line:column` in the user's file, taken from an
 * error's stack (or, for a syntax error, from `node --check`, since an ESM import's SyntaxError
 * carries no position), so that the first error line points at the line to fix.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compiledUrl } from './compiled-path.js';

/** The tool's own compiled tree: frames there are lockstress, not the scenario. */
const kToolRoot = compiledUrl('').href;
/** Built-in scenarios live in folders of their own under src/scenarios/ (vfio-kvm/). */
const kBuiltinScenarios = compiledUrl('src/scenarios/').href;
const isBuiltinScenarioFile = (url: string): boolean =>
  url.startsWith(kBuiltinScenarios) && url.slice(kBuiltinScenarios.length).includes('/');

/** `path:line:column` of the first stack frame in scenario code, or ''. */
export function locateError(error: unknown, scenarioUrl: string): string {
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  const scenarioDir = scenarioUrl.slice(0, scenarioUrl.lastIndexOf('/') + 1);
  for (const line of stack.split('\n')) {
    const frame = /\(?((?:file:\/\/|\/)[^\s()]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (frame === null) continue;
    const [, file = '', row, column] = frame;
    const url = file.startsWith('file:') ? file : `file://${file}`;
    const isScenario =
      url.startsWith(scenarioDir) ||
      isBuiltinScenarioFile(url) ||
      (!url.startsWith(kToolRoot) && !url.includes('/node_modules/'));
    if (isScenario) return `${displayPath(url)}:${row}:${column}`;
  }
  return '';
}

/** For a SyntaxError on import: `path:line:column` from `node --check`, or '' if it says nothing. */
export function syntaxErrorLocation(scenarioUrl: string): string {
  if (!scenarioUrl.startsWith('file:')) return '';
  const path = fileURLToPath(scenarioUrl);
  const check = spawnSync(process.execPath, ['--check', path], { encoding: 'utf8', timeout: 10_000 });
  // node --check prints "path:LINE", the source line, then a caret line under the column.
  const lines = (check.stderr ?? '').split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${path}:`));
  if (at < 0) return '';
  const row = lines[at]?.slice(path.length + 1).trim() ?? '';
  const caret = lines[at + 2]?.indexOf('^') ?? -1;
  return `${path}:${row}${caret >= 0 ? `:${caret + 1}` : ''}`;
}

function displayPath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}
