/** Reconnection delays: exponential, bounded, with jitter so that many clients do not reconnect in step. */

/** Bounds of the reconnection delay. */
export interface BackoffOptions {
  /** The first delay's upper bound in milliseconds. Default 500. */
  initialMs?: number;
  /** No delay exceeds this, however many attempts failed. Default 30,000. */
  maxMs?: number;
}

export const defaultBackoff: Required<BackoffOptions> = { initialMs: 500, maxMs: 30_000 };

/**
 * The delay before reconnection attempt `attempt` (0 for the first): `min(maxMs, initialMs × 2^attempt)`
 * with "equal jitter" — a uniformly random value in its upper half — so it is never zero, never
 * above `maxMs`, and clients that failed together spread out.
 * @param attempt - how many attempts have failed in a row
 * @param options - the bounds
 * @param random - a source of numbers in [0, 1)
 * @returns milliseconds to wait
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = Math.max(1, options.initialMs ?? defaultBackoff.initialMs);
  const max = Math.max(initial, options.maxMs ?? defaultBackoff.maxMs);
  // 2^attempt overflows to Infinity for large attempts; min() keeps it bounded.
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 60));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
