import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, RateLimitedError } from '../../domain/errors.js';

/** ToggleSmartly's documented messages, and ours for the statuses it does not document. */
export const toggleSmartlyMessages: Readonly<Record<number, string>> = {
  200: 'Feature flags retrieved successfully.',
  400: 'Invalid request. Please check your input.',
  401: 'Invalid or expired API key.',
  404: 'No feature flags found matching the provided criteria.',
  405: 'Method not allowed. Use POST.',
  429: 'Rate limit exceeded. Please try again later.',
  500: 'An internal server error occurred while retrieving feature flags.',
  503: 'The service is temporarily unavailable. Please try again later.',
};

/** The body of every ToggleSmartly error. */
export interface ToggleSmartlyError {
  status: number;
  message: string;
  data: [];
}

/** The error body for `status` (statuses without a message of their own are rendered as 500). */
export function toggleSmartlyError(status: number): ToggleSmartlyError {
  const known = toggleSmartlyMessages[status] !== undefined ? status : 500;
  return { status: known, message: toggleSmartlyMessages[known]!, data: [] };
}

/**
 * The HTTP status a failure is answered with, kept to the statuses the document lists wherever
 * one fits: every input problem (malformed JSON, another content type, a body too large, a schema
 * failure) is 400; a key that is unknown, revoked, expired or of a scope that cannot read values
 * is 401; 405 for another method; 503 while the server drains; anything unexpected 500.
 */
export function statusOf(error: unknown): number {
  if (error instanceof DomainError) {
    switch (error.kind) {
      case 'unauthorized':
      case 'forbidden':
        return 401;
      case 'not_found':
        return 404;
      case 'rate_limited':
        return 429;
      case 'unavailable':
        return 503;
      default:
        return 400;
    }
  }
  const fe = error as Partial<FastifyError> | null;
  if (fe && Array.isArray(fe.validation)) return 400;
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 404 || status === 405 || status === 429 || status === 503) return status;
  if (status >= 400 && status < 500) return 400;
  return 500;
}

/** The surface's error handler: `{status, message, data: []}` for everything, never a stack or a detail. */
export function toggleSmartlyErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = statusOf(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  if (error instanceof RateLimitedError) reply.header('Retry-After', String(error.retryAfterSeconds));
  return reply.status(status).type('application/json; charset=utf-8').send(toggleSmartlyError(status));
}
