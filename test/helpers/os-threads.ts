/** The OS threads of this process (Linux /proc): a leaked worker shows up here, whatever piscina says. */
import { readFileSync } from 'node:fs';

export function osThreadCount(): number {
  const match = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (match === null) throw new Error('no Threads: line in /proc/self/status');
  return Number(match[1]);
}

/** Waits (bounded) until `check` holds, polling every 20 ms; returns whether it did. */
export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
