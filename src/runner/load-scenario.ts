/**
 * Finds and loads a scenario module: `vfio-kvm` is built in; anything else is a path (or file URL)
 * to a JavaScript or TypeScript module (compiled by compile-scenario.ts) whose default export is a
 * scenario. Problems are ConfigErrors that name the input.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { type Scenario, scenarioProblems } from '../scenarios/contract.js';
import { compileScenario, isCompiledScenarioUrl, isTypeScriptPath, originalOf, sourceLocation } from './compile-scenario.js';
import { compiledUrl } from './compiled-path.js';
import { namedInput } from './options.js';
import { locateError, syntaxErrorLocation } from './scenario-failure.js';

export const kBuiltinScenarios: Record<string, string> = {
  'vfio-kvm': compiledUrl('src/scenarios/vfio-kvm/index.js').href,
  'locking-selftest': compiledUrl('src/scenarios/locking-selftest/index.js').href,
};

/** Turns the user's `--scenario` value into a module URL, checking that the file exists. */
export function resolveScenarioUrl(input: string, origin = '--scenario'): string {
  const builtin = kBuiltinScenarios[input];
  if (builtin !== undefined) return builtin;
  if (input.startsWith('file:')) return input;
  const path = isAbsolute(input) ? input : resolve(process.cwd(), input);
  if (!existsSync(path)) {
    throw new ConfigError(`${namedInput(origin, input)}: no such file (built in: ${Object.keys(kBuiltinScenarios).join(', ')})`);
  }
  if (isTypeScriptPath(path)) return compileScenario(path, input);
  return pathToFileURL(path).href;
}

const loaded = new Map<string, Scenario>();

/** Imports the module and checks its default export. */
export async function loadScenarioModule(url: string, label = `--scenario ${JSON.stringify(shortName(url))}`): Promise<Scenario> {
  const cached = loaded.get(url);
  if (cached !== undefined) return cached;
  let module: { default?: unknown };
  // Compiled TypeScript carries an inline source map: stack traces then name the .ts lines.
  if (isCompiledScenarioUrl(url)) process.setSourceMapsEnabled(true);
  try {
    module = (await import(url)) as { default?: unknown };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    // A compiled .ts scenario: the location in the .ts file, through its source map.
    const original = originalOf(url);
    const where = original === undefined ? undefined : sourceLocation(error, original.path);
    if (where !== undefined) throw new ConfigError(`${where}: ${reason} (${label} does not load)`);
    const at = error instanceof SyntaxError ? syntaxErrorLocation(url) : locateError(error, url);
    throw new ConfigError(`${label}: does not load: ${at === '' ? '' : `${at}: `}${reason}`);
  }
  const problems = scenarioProblems(module.default);
  if (problems.length > 0) {
    throw new ConfigError(`${label}: not a scenario: ${problems[0]}`);
  }
  const scenario = module.default as Scenario;
  loaded.set(url, scenario);
  return scenario;
}

export function shortName(url: string): string {
  const original = originalOf(url);
  if (original !== undefined) return original.input;
  for (const [name, builtin] of Object.entries(kBuiltinScenarios)) if (builtin === url) return name;
  return url.startsWith('file:') ? new URL(url).pathname : url;
}
