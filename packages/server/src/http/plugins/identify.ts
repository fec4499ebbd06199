import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../../domain/actor.js';
import { UnauthorizedError } from '../../domain/errors.js';
import type { AccountService } from '../../features/identity/account-service.js';
import type { TokenService } from '../../features/identity/token-service.js';
import { parseId } from '../v1/ids.js';

/** Why a request that carried a credential has no actor. */
export interface AuthFailure {
  /** `invalid_token` for a bearer token we could not accept; identifiers may use their own codes. */
  code: string;
  message: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; null when no credential was given or it was not accepted. */
    actor: Actor | null;
    /** Set when a credential was presented but rejected, so `requireActor` can say why. */
    authFailure: AuthFailure | null;
  }
}

/** What every identifier gets besides the request. */
export interface IdentifyContext {
  /** `X-Tenant-ID` parsed (`tenant_123` or `123`); null when absent or malformed. */
  requestedOrganizationId: number | null;
}

/**
 * An identifier recognises one kind of credential. It answers `null` when the request carries
 * no credential of its kind (the next identifier gets a turn), an actor when it accepts it, and
 * a failure when the credential is its kind but no good. Later kinds — external OIDC ID tokens,
 * OAuth client-credential tokens, API keys — are further identifiers, registered after ours.
 */
export interface Identifier {
  name: string;
  /** Synchronous where it can be (API keys, no credential of its kind): no promise on the hot path. */
  identify(request: FastifyRequest, context: IdentifyContext): IdentifyOutcome | Promise<IdentifyOutcome>;
}

/** What an identifier concludes about a request. */
export type IdentifyOutcome = { actor: Actor } | { failure: AuthFailure } | null;

/** The bearer token of `Authorization: Bearer <token>`, or null. */
export function bearerToken(request: Pick<FastifyRequest, 'headers'>): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const m = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** Identifies our own access tokens (JWTs we signed); leaves other bearer tokens to others. */
export function sessionTokenIdentifier(accounts: AccountService, tokens: TokenService): Identifier {
  return {
    name: 'session-token',
    identify(request, context) {
      const token = bearerToken(request);
      // Machine tokens are ours too, but the client-token identifier takes them.
      if (!token || !tokens.claimsToBeOurs(token) || tokens.isClientToken(token)) return null;
      return accounts.actorForAccessToken(token, context.requestedOrganizationId).then((actor) => ({ actor }), failureOf);
    },
  };
}

/** An `UnauthorizedError` as the identifier's failure; anything else is rethrown (a 500). */
export function failureOf(err: unknown): { failure: AuthFailure } {
  if (err instanceof UnauthorizedError) return { failure: { code: err.code, message: err.message } };
  throw err;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Registers the app-wide `identify` onRequest hook: it runs the identifiers in order, sets
 * `request.actor` (or `request.authFailure`), and never rejects a request itself — routes that
 * need a caller use `requireActor` / `requireUser`. Register it before anything that reads
 * `request.actor` (rate limits key on it).
 */
export function registerIdentify(app: FastifyInstance, identifiers: readonly Identifier[]): void {
  app.decorateRequest('actor', null);
  app.decorateRequest('authFailure', null);
  // Callback-style, and synchronous while every identifier answers synchronously (API keys, or
  // no credential at all): the evaluate hot path pays no promise or microtask here.
  app.addHook('onRequest', (request, _reply, done) => {
    request.actor = null;
    request.authFailure = null;
    const tenant = request.headers['x-tenant-id'];
    const context: IdentifyContext = { requestedOrganizationId: typeof tenant === 'string' ? parseId('organization', tenant.trim()) : null };
    const settle = (outcome: IdentifyOutcome): void => {
      if (outcome === null) {
        if (request.headers.authorization !== undefined) {
          request.authFailure = { code: 'invalid_token', message: 'The Authorization header is malformed or its token is not recognised' };
        }
      } else if ('actor' in outcome) request.actor = outcome.actor;
      else request.authFailure = outcome.failure;
    };
    const next = (index: number): void => {
      for (let i = index; i < identifiers.length; i++) {
        let outcome: IdentifyOutcome | Promise<IdentifyOutcome>;
        try {
          outcome = identifiers[i]!.identify(request, context);
        } catch (err) {
          return done(err as Error);
        }
        if (isPromise(outcome)) {
          outcome.then(
            (o) => (o === null ? next(i + 1) : (settle(o), done())),
            (err: unknown) => done(err as Error),
          );
          return;
        }
        if (outcome !== null) {
          settle(outcome);
          return done();
        }
      }
      settle(null);
      done();
    };
    next(0);
  });
}

/** The caller, or `UnauthorizedError` (`invalid_token` when a credential was rejected, else `unauthorized`). */
export function requireActor(request: FastifyRequest): Actor {
  if (request.actor) return request.actor;
  const failure = request.authFailure;
  if (failure) throw new UnauthorizedError(failure.message, failure.code);
  throw new UnauthorizedError('Authentication required: send Authorization: Bearer <access token>', 'unauthorized');
}

/** A signed-in user (not a machine credential), or `UnauthorizedError`. */
export function requireUser(request: FastifyRequest): Actor & { kind: 'user'; userId: number } {
  const actor = requireActor(request);
  if (actor.kind !== 'user' || actor.userId === null) {
    throw new UnauthorizedError('This endpoint needs a user access token', 'unauthorized');
  }
  return actor as Actor & { kind: 'user'; userId: number };
}
