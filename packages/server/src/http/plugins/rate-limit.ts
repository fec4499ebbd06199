import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../../domain/actor.js';
import { RateLimitedError } from '../../domain/errors.js';
import type { RateLimiter, RateLimitResult } from '../../features/rate-limits/rate-limiter.js';

/** Management traffic, or evaluation traffic (evaluate, OFREP, SDK streams and config), which has its own budget. */
export type TrafficKind = 'management' | 'evaluation';

/** Where per-caller limits come from (the plan of the caller's organisation). */
export interface RateLimitPolicy {
  /** Requests per minute for this caller (null: anonymous) and kind of traffic. */
  limitFor(actor: Actor | null, kind: TrafficKind): number | Promise<number>;
  /** Throws (e.g. 403 `quota_exceeded`) when the caller's organisation may not be served evaluations now. */
  admitEvaluation?(actor: Actor | null): void;
}

/** How the `/api/v1` rate limit is applied. */
export interface RateLimitOptions {
  limiter: RateLimiter;
  /** Requests per credential (or client IP, for anonymous callers) per minute, without a policy. */
  limitPerMinute: number;
  /** Evaluation requests per credential (or client IP) per minute, without a policy (default: `limitPerMinute`). */
  evaluationLimitPerMinute?: number;
  /** Path prefixes counted as evaluation traffic, in their own bucket — also outside `prefix` (OFREP). */
  evaluationPrefixes?: readonly string[];
  /** Per-caller limits (plans); without it every caller gets the fixed limits. */
  policy?: RateLimitPolicy;
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
 * Counts every request under `prefix` (and under `evaluationPrefixes`, in a bucket of its own)
 * and answers 429 (`RateLimitedError`, with `Retry-After`) past the limit — the policy's for the
 * caller, else the fixed one. `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
 * (delta seconds) go on every response it counts, errors included.
 *
 * Installed as an app-level `preParsing` hook: it runs after every `onRequest` hook — so after the
 * identity hook has set `request.actor` — and before the body is read, so a limited caller costs
 * no parsing.
 */
export function installRateLimit(app: FastifyInstance, options: RateLimitOptions): void {
  const prefix = options.prefix ?? '/api/v1';
  const windowSeconds = 60;
  const exempt = options.exempt ?? [];
  const evaluationPrefixes = options.evaluationPrefixes ?? [];
  const under = (url: string, p: string) => url === p || url.startsWith(p.endsWith('/') ? p : `${p}/`) || url.startsWith(`${p}?`);
  // Callback-style, and synchronous when the limit and the count are (the in-memory limiter, a
  // cached plan): the evaluate hot path pays no promise here.
  app.addHook('preParsing', (request, reply, payload, done) => {
    // CORS preflights carry no credential and do no work: not counted.
    if (request.method === 'OPTIONS') return done(null, payload);
    const url = request.url;
    let kind: TrafficKind;
    if (evaluationPrefixes.some((p) => under(url, p))) kind = 'evaluation';
    else if (under(url, prefix) && !exempt.some((p) => under(url, p))) kind = 'management';
    else return done(null, payload);
    const actor = (request as unknown as { actor?: Actor | null }).actor ?? null;
    const fail = (err: unknown) => done(err as Error);
    const counted = (result: RateLimitResult) => {
      reply.header('RateLimit-Limit', String(result.limit));
      reply.header('RateLimit-Remaining', String(result.remaining));
      reply.header('RateLimit-Reset', String(result.resetSeconds));
      if (!result.allowed) return done(new RateLimitedError(result.resetSeconds));
      try {
        if (kind === 'evaluation') options.policy?.admitEvaluation?.(actor);
      } catch (err) {
        return done(err as Error);
      }
      done(null, payload);
    };
    // Separate buckets: SDKs polling evaluations never use up a credential's management budget.
    const key = kind === 'evaluation' ? `eval:${rateLimitKey(request)}` : rateLimitKey(request);
    const count = (limit: number) => {
      const result = options.limiter.hit(key, limit, windowSeconds);
      if (result instanceof Promise) result.then(counted, fail);
      else counted(result);
    };
    const limit = options.policy
      ? options.policy.limitFor(actor, kind)
      : kind === 'evaluation' ? (options.evaluationLimitPerMinute ?? options.limitPerMinute) : options.limitPerMinute;
    if (limit instanceof Promise) limit.then(count, fail);
    else count(limit);
  });
}
