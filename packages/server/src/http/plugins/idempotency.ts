import type { FastifyInstance, FastifyRequest, onResponseHookHandler, onSendHookHandler, preHandlerHookHandler } from 'fastify';
import type { IdempotencyClaim, IdempotencyService } from '../../features/idempotency/idempotency-service.js';
import { idempotencyKeyPattern } from '../../features/idempotency/idempotency-service.js';
import { problem, sendProblem } from '../v1/problem.js';
import { rateLimitKey } from './rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The `Idempotency-Key` this request claimed; cleared once its response is stored or dropped. */
    idempotencyClaim: IdempotencyClaim | null;
  }
}

const methods = new Set(['POST', 'PUT', 'PATCH']);

/** True for the requests `Idempotency-Key` applies to: POST, PUT and PATCH under `prefix`. */
function applies(request: FastifyRequest, prefix: string): boolean {
  if (!methods.has(request.method)) return false;
  const url = request.url;
  return url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`);
}

/**
 * `Idempotency-Key` on POST, PUT and PATCH under `/api/v1` (legacy aliases included: they are
 * rewritten to it), except read-only POSTs (`excluded`: evaluate, which is idempotent by nature).
 * Route-level hooks, added to exactly the routes it applies to (so GETs and the evaluate hot path
 * run none of them): `preHandler` — after authentication and validation, before
 * the handler — claims the key or replays the first response (status, body, content type, with
 * `Idempotent-Replayed: true`); `onSend` stores the response (5xx ones are dropped, so a retry
 * does the work); `onResponse` drops a claim nothing stored. A malformed key is a 400.
 */
export function installIdempotency(app: FastifyInstance, service: IdempotencyService, options: { prefix?: string; excluded?: readonly string[] } = {}): void {
  const prefix = options.prefix ?? '/api/v1';
  const excluded = new Set(options.excluded ?? []);
  app.decorateRequest('idempotencyClaim', null);

  // Callback-style hooks: requests without a key (the evaluate hot path among them) pay no promise.
  const preHandler: preHandlerHookHandler = (request, reply, done) => {
    const raw = request.headers['idempotency-key'];
    if (raw === undefined || !applies(request, prefix)) return done();
    if (typeof raw !== 'string' || !idempotencyKeyPattern.test(raw)) {
      sendProblem(
        reply,
        problem(request, 400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces), sent once', null, {
          'Idempotency-Key': 'must be 1 to 255 visible ASCII characters',
        }),
      );
      return;
    }
    service.begin({ caller: rateLimitKey(request), key: raw, method: request.method, url: request.url, body: request.body }).then(
      (outcome) => {
        if (outcome.kind === 'claimed') {
          request.idempotencyClaim = outcome.claim;
          return done();
        }
        const { status, contentType, body } = outcome.response;
        reply.status(status).header('Idempotent-Replayed', 'true');
        if (contentType) reply.header('content-type', contentType);
        reply.send(body);
      },
      (err: unknown) => done(err as Error),
    );
  };

  const onSend: onSendHookHandler = (request, reply, payload, done) => {
    const claim = request.idempotencyClaim;
    if (!claim) return done(null, payload);
    request.idempotencyClaim = null;
    const logged = (what: string) => (err: unknown) => request.log.error({ err }, what);
    const storable = typeof payload === 'string' || Buffer.isBuffer(payload) || payload === null || payload === undefined;
    if (reply.statusCode >= 500 || !storable) {
      service.release(claim).catch(logged('could not release an Idempotency-Key')).finally(() => done(null, payload));
      return;
    }
    const contentType = reply.getHeader('content-type');
    const body = payload === null || payload === undefined ? '' : Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
    // Stored before the response goes out, so a repeat right after it is recognised. A failure to
    // store only means a repeat will not be: the work is done and its response still goes out.
    service
      .complete(claim, { status: reply.statusCode, contentType: typeof contentType === 'string' ? contentType : null, body })
      .catch(logged('could not store the Idempotency-Key response'))
      .finally(() => done(null, payload));
  };

  const onResponse: onResponseHookHandler = (request, _reply, done) => {
    const claim = request.idempotencyClaim;
    if (!claim) return done();
    request.idempotencyClaim = null;
    service.release(claim).catch((err: unknown) => request.log.error({ err }, 'could not release an Idempotency-Key')).finally(() => done());
  };

  const within = (url: string) => url === prefix || url.startsWith(`${prefix}/`);
  app.addHook('onRoute', (route) => {
    const verbs = Array.isArray(route.method) ? route.method : [route.method];
    if (!verbs.some((m) => methods.has(m)) || !within(route.url) || excluded.has(route.url)) return;
    route.preHandler = [...hooksOf(route.preHandler), preHandler];
    route.onSend = [...hooksOf(route.onSend), onSend];
    route.onResponse = [...hooksOf(route.onResponse), onResponse];
  });
}

function hooksOf<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}
