/**
 * Writes a report file (`--junit`). Where it cannot be written is bad input, named by the flag:
 * {@link checkReportPath} says so before a run starts, so a long run is not lost to a typo.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

/** Throws a ConfigError unless `file` can be created: its folder exists and it is not a folder. */
export function checkReportPath(what: string, file: string): void {
  const path = resolve(file);
  if (existsSync(path) && statSync(path).isDirectory()) throw new ConfigError(`${what} ${JSON.stringify(file)}: is a folder`);
  const folder = dirname(path);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new ConfigError(`${what} ${JSON.stringify(file)}: no such folder ${folder}`);
}

export function writeReportFile(what: string, file: string, text: string): void {
  checkReportPath(what, file);
  try {
    writeFileSync(file, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`${what} ${JSON.stringify(file)}: cannot write (${code ?? String(error)})`);
  }
}
