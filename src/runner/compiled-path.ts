/**
 * Worker threads and scenario modules must be compiled JavaScript (piscina loads workers with
 * Node's own loader). This maps a path relative to the project root to its compiled file under
 * dist/, whether the caller runs from dist/ (npm run stress) or from TypeScript sources (vitest).
 */
const here = import.meta.url;
const kRunningFromSources = here.endsWith('.ts');

/** `projectPath` like 'workers/round-worker.js' or 'src/scenarios/vfio-kvm/index.js'. */
export function compiledUrl(projectPath: string): URL {
  // This file is src/runner/compiled-path.{ts,js}; from dist/ that is dist/src/runner.
  return kRunningFromSources
    ? new URL(`../../dist/${projectPath}`, here)
    : new URL(`../../${projectPath}`, here);
}
