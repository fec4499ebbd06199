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

/** The bucket a caller counts against: its credential when identified, else its client IP. */
export function rateLimitKeyOf(actor: Actor | null, ip: string): string {
  if (actor) {
    if (actor.kind === 'user' && actor.userId !== null) return `user:${actor.userId}`;
    if (actor.credentialId !== null) return `${actor.kind}:${actor.credentialId}`;
  }
  return `ip:${ip}`;
}

/** The bucket a request counts against (see `rateLimitKeyOf`). */
export function rateLimitKey(request: FastifyRequest): string {
  // `actor` is set by the identity hook (onRequest); read loosely so this runs before or without it.
  const actor = (request as unknown as { actor?: Actor | null }).actor ?? null;
  return rateLimitKeyOf(actor, request.ip);
}

/**
 * Counts one request of `kind` for `actor` in its bucket and calls `settled` with the count (for
 * the `RateLimit-*` headers; null when the limiter failed) and the error to answer with, if any:
 * `RateLimitedError` past the limit, or the policy's refusal of an evaluation. Synchronous when
 * the limit and the count are (the in-memory limiter, a cached plan).
 */
export type RateLimitCounter = (kind: TrafficKind, actor: Actor | null, ip: string, settled: RateLimitSettled) => void;

/** What a `RateLimitCounter` calls back with: the count (null when the limiter failed) and the error to answer, if any. */
export type RateLimitSettled = (result: RateLimitResult | null, error: Error | null) => void;

const windowSeconds = 60;

/** The counting `installRateLimit` does, for a caller that is not a Fastify route (the evaluate lane). */
export function createRateLimitCounter(options: RateLimitOptions): RateLimitCounter {
  // An API key's actor is one shared, frozen object per key (the evaluate path's caller), so its
  // evaluation bucket key is built once, not per request.
  const evaluationKeys = new WeakMap<Actor, string>();
  const bucketOf = (kind: TrafficKind, actor: Actor | null, ip: string): string => {
    // Separate buckets: SDKs polling evaluations never use up a credential's management budget.
    if (kind !== 'evaluation') return rateLimitKeyOf(actor, ip);
    const perKey = actor !== null && actor.kind === 'api_key' && actor.credentialId !== null;
    let key = perKey ? evaluationKeys.get(actor) : undefined;
    if (key === undefined) {
      key = `eval:${rateLimitKeyOf(actor, ip)}`;
      if (perKey) evaluationKeys.set(actor, key);
    }
    return key;
  };
  const counted = (kind: TrafficKind, actor: Actor | null, result: RateLimitResult, settled: RateLimitSettled) => {
    if (!result.allowed) return settled(result, new RateLimitedError(result.resetSeconds));
    try {
      if (kind === 'evaluation') options.policy?.admitEvaluation?.(actor);
    } catch (err) {
      return settled(result, err as Error);
    }
    settled(result, null);
  };
  const count = (kind: TrafficKind, actor: Actor | null, key: string, limit: number, settled: RateLimitSettled) => {
    const result = options.limiter.hit(key, limit, windowSeconds);
    // The in-memory limiter answers at once: no closure or promise per request on that path.
    if (!(result instanceof Promise)) return counted(kind, actor, result, settled);
    result.then(
      (r) => counted(kind, actor, r, settled),
      (err: unknown) => settled(null, err as Error),
    );
  };
  return (kind, actor, ip, settled) => {
    const key = bucketOf(kind, actor, ip);
    const limit = options.policy
      ? options.policy.limitFor(actor, kind)
      : kind === 'evaluation' ? (options.evaluationLimitPerMinute ?? options.limitPerMinute) : options.limitPerMinute;
    if (!(limit instanceof Promise)) return count(kind, actor, key, limit, settled);
    limit.then(
      (l) => count(kind, actor, key, l, settled),
      (err: unknown) => settled(null, err as Error),
    );
  };
}

/** The `RateLimit-*` response headers for a count. */
export function rateLimitHeaders(result: RateLimitResult): Record<string, string> {
  return {
    'ratelimit-limit': String(result.limit),
    'ratelimit-remaining': String(result.remaining),
    'ratelimit-reset': String(result.resetSeconds),
  };
}

/**
 * Counts every request under `prefix` (and under `evaluationPrefixes`, in a bucket of its own)
 * and answers 429 (`RateLimitedError`, with `Retry-After`) past the limit — the policy's for the
 * caller, else the fixed one. `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
 * (delta seconds) go on every response it counts, errors included.
 *
 * Installed as an app-level `preParsing` hook: it runs after every `onRequest` hook — so after the
 * identity hook has set `request.actor` — and before the body is read, so a limited caller costs
 * no parsing. Returns the counter, for routes served outside Fastify's hooks.
 */
export function installRateLimit(app: FastifyInstance, options: RateLimitOptions): RateLimitCounter {
  const prefix = options.prefix ?? '/api/v1';
  const exempt = options.exempt ?? [];
  const evaluationPrefixes = options.evaluationPrefixes ?? [];
  const under = (url: string, p: string) => url === p || url.startsWith(p.endsWith('/') ? p : `${p}/`) || url.startsWith(`${p}?`);
  const countRequest = createRateLimitCounter(options);
  // Callback-style: the evaluate hot path pays no promise here when counting is synchronous.
  app.addHook('preParsing', (request, reply, payload, done) => {
    // CORS preflights carry no credential and do no work: not counted.
    if (request.method === 'OPTIONS') return done(null, payload);
    const url = request.url;
    let kind: TrafficKind;
    if (evaluationPrefixes.some((p) => under(url, p))) kind = 'evaluation';
    else if (under(url, prefix) && !exempt.some((p) => under(url, p))) kind = 'management';
    else return done(null, payload);
    const actor = (request as unknown as { actor?: Actor | null }).actor ?? null;
    countRequest(kind, actor, request.ip, (result, error) => {
      if (result !== null) reply.headers(rateLimitHeaders(result));
      if (error !== null) return done(error);
      done(null, payload);
    });
  });
  return countRequest;
}
