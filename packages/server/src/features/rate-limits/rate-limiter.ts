/** What one counted request learns about its key's current window. */
export interface RateLimitResult {
  /** Requests allowed per window. */
  limit: number;
  /** Requests left in this window after this one (never negative). */
  remaining: number;
  /** Whole seconds until the window resets (at least 1 while a window is open). */
  resetSeconds: number;
  /** False once this request went over the limit. */
  allowed: boolean;
}

/**
 * Counts requests per key in fixed windows. May answer asynchronously so that a shared
 * implementation (Redis, for several instances behind one load balancer) can replace the
 * in-memory one, which answers synchronously (no promise per request on the hot path).
 */
export interface RateLimiter {
  /** Counts one request for `key` and says whether it is within `limit` per `windowSeconds`. */
  hit(key: string, limit: number, windowSeconds: number): RateLimitResult | Promise<RateLimitResult>;
}

interface Window {
  /** Epoch milliseconds at which this window ends. */
  resetAt: number;
  count: number;
}

/** Options for {@link InMemoryRateLimiter}. */
export interface InMemoryRateLimiterOptions {
  /** The clock, in epoch milliseconds; tests pass their own. */
  now?: () => number;
  /**
   * Most keys kept at once. Past it, expired windows are swept and, if that is not enough, the
   * oldest windows are dropped — forgetting a caller's count is better than running out of memory.
   */
  maxKeys?: number;
}

/**
 * One process's rate limiter: a fixed window per key, opened by the key's first request.
 * Memory stays bounded: expired windows are swept periodically and whenever `maxKeys` is reached.
 */
export class InMemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly now: () => number;
  private readonly maxKeys: number;
  private nextSweepAt = 0;

  constructor(options: InMemoryRateLimiterOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /** How many keys currently hold a window (expired ones included until swept). */
  get size(): number {
    return this.windows.size;
  }

  hit(key: string, limit: number, windowSeconds: number): RateLimitResult {
    const now = this.now();
    const windowMs = windowSeconds * 1000;
    if (now >= this.nextSweepAt) {
      this.sweep(now);
      this.nextSweepAt = now + windowMs;
    }

    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      if (window) this.windows.delete(key);
      if (this.windows.size >= this.maxKeys) this.makeRoom(now);
      // Re-inserting keeps the Map in window-opening order, which makeRoom relies on.
      window = { resetAt: now + windowMs, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    return {
      limit,
      remaining: Math.max(0, limit - window.count),
      resetSeconds: Math.max(1, Math.ceil((window.resetAt - now) / 1000)),
      allowed: window.count <= limit,
    };
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.resetAt <= now) this.windows.delete(key);
    }
  }

  private makeRoom(now: number): void {
    this.sweep(now);
    // Still full: drop the oldest windows (Map iteration is insertion order) down to 90%.
    const target = Math.floor(this.maxKeys * 0.9);
    for (const key of this.windows.keys()) {
      if (this.windows.size <= target) break;
      this.windows.delete(key);
    }
  }
}
