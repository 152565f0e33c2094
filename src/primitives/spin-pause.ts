/**
 * A CPU pause hint for spin loops. `Atomics.pause` (ES2025) tells the core it is spinning; Node 20
 * lacks it, so there a load of the spun-on word stands in (a load is what a spin loop does anyway,
 * and V8 cannot optimise it away).
 */
type PauseFn = (iterations?: number) => void;
const nativePause: PauseFn | undefined = (Atomics as unknown as { pause?: PauseFn }).pause;

export const hasNativePause = typeof nativePause === 'function';

/** Spins `n` pause-hinted iterations, reading `i32[index]` where there is no native pause. */
export function spinPause(i32: Int32Array, index: number, n: number): void {
  if (nativePause !== undefined) {
    for (let k = 0; k < n; k++) nativePause();
    return;
  }
  for (let k = 0; k < n; k++) Atomics.load(i32, index);
}
