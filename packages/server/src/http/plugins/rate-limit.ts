import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../../domain/actor.js';
import { RateLimitedError } from '../../domain/errors.js';
import type { RateLimiter } from '../../features/rate-limits/rate-limiter.js';

/** How the `/api/v1` rate limit is applied. */
export interface RateLimitOptions {
  limiter: RateLimiter;
  /** Requests per credential (or client IP, for anonymous callers) per minute. */
  limitPerMinute: number;
  /** Paths under this prefix are limited. */
  prefix?: string;
  /** Path prefixes under `prefix` that apply limits of their own (ToggleSmartly's documented ones) and are not counted here. */
  exempt?: readonly string[];
}

/** The bucket a request counts against: its credential when identified, else its client IP. */
export function rateLimitKey(request: FastifyRequest): string {
  // `actor` is set by the identity hook (onRequest); read loosely so this runs before or without it.
  const actor = (request as unknown as { actor?: Actor | null }).actor;
  if (actor) {
    if (actor.kind === 'user' && actor.userId !== null) return `user:${actor.userId}`;
    if (actor.credentialId !== null) return `${actor.kind}:${actor.credentialId}`;
  }
  return `ip:${request.ip}`;
}

/**
 * Counts every request under `prefix` and answers 429 (`RateLimitedError`, with `Retry-After`)
 * past the limit. `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (delta seconds)
 * go on every response it counts, errors included.
 *
 * Installed as an app-level `preParsing` hook: it runs after every `onRequest` hook — so after the
 * identity hook has set `request.actor` — and before the body is read, so a limited caller costs
 * no parsing.
 */
export function installRateLimit(app: FastifyInstance, options: RateLimitOptions): void {
  const prefix = options.prefix ?? '/api/v1';
  const windowSeconds = 60;
  const exempt = options.exempt ?? [];
  app.addHook('preParsing', async (request, reply) => {
    const url = request.url;
    if (!(url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`))) return;
    if (exempt.some((p) => url === p || url.startsWith(`${p}/`) || url.startsWith(`${p}?`))) return;
    const result = await options.limiter.hit(rateLimitKey(request), options.limitPerMinute, windowSeconds);
    reply.header('RateLimit-Limit', String(result.limit));
    reply.header('RateLimit-Remaining', String(result.remaining));
    reply.header('RateLimit-Reset', String(result.resetSeconds));
    if (!result.allowed) throw new RateLimitedError(result.resetSeconds);
  });
}
