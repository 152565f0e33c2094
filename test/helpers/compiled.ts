/**
 * Paths of compiled files for tests that start threads or processes: workers and scenario modules
 * must be JavaScript, and `npm test` compiles everything to dist/ before vitest runs.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of `dist/<projectPath>`; throws a clear error if the build is missing. */
export function compiledPath(projectPath: string): string {
  const path = fileURLToPath(new URL(`../../dist/${projectPath}`, import.meta.url));
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` (npm test does it)`);
  return path;
}
