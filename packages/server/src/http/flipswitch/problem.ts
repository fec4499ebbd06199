import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { RateLimitedError } from '../../domain/errors.js';
import type { RouteIndex } from '../plugins/route-index.js';
import { toProblem as toV1Problem } from '../v1/problem.js';

/**
 * The Flipswitch error body: plain RFC 9457 problem details (`type`, `title`, `status`, `detail`,
 * `instance` = the request id) with two extension members — `code`, the domain's machine code,
 * and `errors`, field → message for bad input — plus `details` when the domain gave context
 * (e.g. the missing `permission`). The Flipswitch document describes no error body of its own.
 */
export interface FlipswitchProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  errors?: Record<string, string>;
  details?: Record<string, unknown>;
}

/** The problem body as a response schema, for every Flipswitch route's error statuses. */
export const FlipswitchProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String({ description: 'The request id (also X-Request-Id)' }),
    code: Type.String({ description: 'Machine code, e.g. not_found, forbidden, validation_failed, bad_request' }),
    errors: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Field → message, for 400 and 422' })),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { description: 'RFC 9457 problem details (application/problem+json)' },
);

/** Problem responses for the given statuses; 400 (bad path or query) is on every route. */
export const problems = (...statuses: number[]) =>
  Object.fromEntries([400, ...statuses].map((s) => [s, FlipswitchProblemSchema])) as Record<number, typeof FlipswitchProblemSchema>;

/**
 * Maps any error to the Flipswitch body. The status, code and field map are decided exactly as
 * on v1 (one classification of DomainErrors and Fastify's own errors, never a stack or the
 * message of an unexpected error); only the body's shape is this surface's.
 */
export function toFlipswitchProblem(error: unknown, request: FastifyRequest): FlipswitchProblem {
  const p = toV1Problem(error, request);
  const body: FlipswitchProblem = { type: p.type, title: p.title, status: p.status, detail: p.detail, instance: p.instance, code: p.code };
  if (p.errors) body.errors = p.errors;
  else if (p.details) body.details = p.details;
  return body;
}

function send(reply: FastifyReply, body: FlipswitchProblem): FastifyReply {
  return reply.status(body.status).type('application/problem+json; charset=utf-8').send(body);
}

/** The Flipswitch plugin's error handler. */
export function flipswitchErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = toFlipswitchProblem(error, request);
  if (body.status >= 500) request.log.error({ err: error }, 'request failed');
  if (error instanceof RateLimitedError) reply.header('Retry-After', String(error.retryAfterSeconds));
  return send(reply, body);
}

/** `/api/admin/*` paths no route serves: 405 with `Allow` when other methods do, else 404. */
export function flipswitchNotFoundHandler(routes: RouteIndex) {
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = request.url.split('?')[0] ?? request.url;
    const allowed = routes.allowedMethods(path);
    const instance = String(request.id);
    if (allowed.length > 0) {
      reply.header('Allow', allowed.join(', '));
      return send(reply, {
        type: 'https://switchyard.dev/errors/method-not-allowed',
        title: 'Method Not Allowed',
        status: 405,
        detail: `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`,
        instance,
        code: 'method_not_allowed',
        details: { allow: allowed },
      });
    }
    return send(reply, { type: 'https://switchyard.dev/errors/not-found', title: 'Not Found', status: 404, detail: `No route for ${request.method} ${path}`, instance, code: 'not_found' });
  };
}
