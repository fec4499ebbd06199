import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, RateLimitedError } from '../../domain/errors.js';
import { invalidContextCode } from '../../evaluation/ofrep-service.js';

/** How OFREP answers a failure: status and body (`key` added for the single-flag route). */
export interface OfrepFailure {
  status: number;
  body: { errorCode?: string; errorDetails: string };
}

function isContextPath(e: { instancePath?: string; params?: Record<string, unknown> }): boolean {
  return (e.instancePath ?? '').startsWith('/context') || e.params?.['missingProperty'] === 'context';
}

/**
 * Maps any failure to OFREP: an unusable context (schema failure under `context`, a context
 * `ValidationError`) is 400 `INVALID_CONTEXT`; a body that is not JSON, not an object or of
 * another content type is 400 `PARSE_ERROR`; other 4xx input problems 400 `GENERAL`; missing or
 * refused credentials 401; a key of the wrong scope 403; the limit 429; draining 503; anything else 500.
 */
export function ofrepFailure(error: unknown): OfrepFailure {
  if (error instanceof DomainError) {
    switch (error.kind) {
      case 'unauthorized':
        return { status: 401, body: { errorDetails: error.message } };
      case 'forbidden':
        return { status: 403, body: { errorDetails: error.message } };
      case 'rate_limited':
        return { status: 429, body: { errorDetails: error.message } };
      case 'unavailable':
        return { status: 503, body: { errorDetails: error.message } };
      case 'not_found':
        return { status: 404, body: { errorCode: 'FLAG_NOT_FOUND', errorDetails: error.message } };
      case 'validation':
        return { status: 400, body: { errorCode: error.code === invalidContextCode ? 'INVALID_CONTEXT' : 'GENERAL', errorDetails: error.message } };
      default:
        return { status: 400, body: { errorCode: 'GENERAL', errorDetails: error.message } };
    }
  }
  const fe = error as (Partial<FastifyError> & { validation?: Array<{ instancePath?: string; params?: Record<string, unknown> }> }) | null;
  if (fe && Array.isArray(fe.validation)) {
    const code = fe.validationContext === 'body' && fe.validation.some(isContextPath) ? 'INVALID_CONTEXT' : fe.validationContext === 'body' ? 'PARSE_ERROR' : 'GENERAL';
    return { status: 400, body: { errorCode: code, errorDetails: fe.message ?? 'invalid request' } };
  }
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 400 || status === 413 || status === 415) return { status: 400, body: { errorCode: 'PARSE_ERROR', errorDetails: fe?.message ?? 'the request body could not be parsed' } };
  if (status === 503) return { status: 503, body: { errorDetails: 'The server is shutting down; retry shortly' } };
  if (status >= 400 && status < 500) return { status, body: { errorCode: 'GENERAL', errorDetails: fe?.message ?? 'bad request' } };
  return { status: 500, body: { errorDetails: 'An internal server error occurred while processing the request' } };
}

/** The plugin's error handler. */
export function ofrepErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = ofrepFailure(error);
  if (status >= 500 && status !== 503) request.log.error({ err: error }, 'request failed');
  if (error instanceof RateLimitedError) reply.header('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  if (status === 401) reply.header('WWW-Authenticate', 'Bearer');
  const params = request.params as { key?: unknown } | undefined;
  // Failures of the single-flag route name the flag, as `evaluationFailure` requires.
  const key = status === 400 || status === 404 ? (typeof params?.key === 'string' ? params.key : undefined) : undefined;
  const out = status === 400 || status === 404 ? (key !== undefined ? { key, ...body } : body) : { errorDetails: body.errorDetails };
  return reply.status(status).type('application/json; charset=utf-8').send(out);
}
