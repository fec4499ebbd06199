import type * as ioredis from 'ioredis';
import type { Redis } from 'ioredis';
import { requireWhenUsed } from '../../require-when-used.js';
import type { RateLimiter, RateLimitResult } from './rate-limiter.js';

/** Where the limiter reports Redis trouble (once per outage, not per request). */
export interface RedisLimiterLogger {
  warn(details: Record<string, unknown>, message: string): void;
  info(details: Record<string, unknown>, message: string): void;
}

/** Options for {@link RedisRateLimiter}. */
export interface RedisRateLimiterOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  /** Used while Redis cannot answer (each instance then counts on its own). */
  fallback: RateLimiter;
  /** Prepended to every key (tests use a unique one); default `switchyard:rl:`. */
  prefix?: string;
  /** How long one count may take before the fallback answers instead (default 250 ms). */
  commandTimeoutMs?: number;
  logger?: RedisLimiterLogger;
}

/**
 * One round trip per request: count, open the window on the first hit, and say how long it has
 * left. Atomic, so instances sharing the key never lose a count or leave a window without expiry.
 */
const hitScript = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

type LimiterRedis = Redis & { switchyardHit(key: string, windowMs: number): Promise<[number, number]> };

/**
 * Rate-limit counters shared by every instance through Redis (`REDIS_URL`): fixed windows opened
 * by a key's first request, like the in-memory limiter. When Redis is unreachable, slow or
 * failing, each request is counted by the in-memory fallback instead — never refused for it —
 * and Redis is used again as soon as it answers.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: LimiterRedis;
  private readonly prefix: string;
  private readonly fallback: RateLimiter;
  private logger: RedisLimiterLogger | undefined;
  private degraded = false;

  constructor(options: RedisRateLimiterOptions) {
    this.prefix = options.prefix ?? 'switchyard:rl:';
    this.fallback = options.fallback;
    this.logger = options.logger;
    const { Redis: RedisClient } = requireWhenUsed('ioredis') as typeof ioredis;
    this.redis = new RedisClient(options.url, {
      // Fail fast while disconnected (the fallback answers) instead of queueing requests behind it.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 250,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
      lazyConnect: false,
    }) as LimiterRedis;
    this.redis.defineCommand('switchyardHit', { numberOfKeys: 1, lua: hitScript });
    // Without a listener an unreachable Redis would be an unhandled 'error' event.
    this.redis.on('error', (err: Error) => this.markDegraded(err));
    this.redis.on('ready', () => {
      if (this.degraded) this.logger?.info({}, 'Redis is back: rate limits are shared again');
      this.degraded = false;
    });
  }

  /** Where outages are reported from now on (the app's logger, once it exists). */
  useLogger(logger: RedisLimiterLogger): void {
    this.logger = logger;
  }

  /** True while requests are counted by the in-memory fallback. */
  get usingFallback(): boolean {
    return this.degraded || this.redis.status !== 'ready';
  }

  async hit(key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
    if (this.redis.status !== 'ready') return this.fallback.hit(key, limit, windowSeconds);
    const windowMs = windowSeconds * 1000;
    try {
      const [count, ttl] = await this.redis.switchyardHit(`${this.prefix}${windowSeconds}:${key}`, windowMs);
      return {
        limit,
        remaining: Math.max(0, limit - count),
        resetSeconds: Math.max(1, Math.ceil(ttl / 1000)),
        allowed: count <= limit,
      };
    } catch (err) {
      this.markDegraded(err as Error);
      return this.fallback.hit(key, limit, windowSeconds);
    }
  }

  /** Closes the Redis connection (the fallback keeps answering). */
  async close(): Promise<void> {
    this.redis.disconnect(false);
  }

  private markDegraded(err: Error): void {
    if (!this.degraded) this.logger?.warn({ err: err.message }, 'Redis is unavailable: rate limits are counted per instance until it is back');
    this.degraded = true;
  }
}
