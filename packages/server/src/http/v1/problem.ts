import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { DomainError, RateLimitedError, ValidationError, type DomainErrorKind } from '../../domain/errors.js';

/**
 * The v1 error body: RFC 9457 problem details (IntelliToggle's contract) that also carry
 * Togul's `code`, `message` and `details`, so a client of either document can read it.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  message: string;
  details: Record<string, unknown> | null;
  /** Field → message, for validation failures. */
  errors?: Record<string, string>;
}

/** The problem body as a response schema, for every route's error statuses. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String(),
    code: Type.String(),
    message: Type.String(),
    details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    errors: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { description: 'RFC 9457 problem details, with `code`, `message` and `details` as well' },
);

const statusByKind: Record<DomainErrorKind, number> = {
  validation: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  rate_limited: 429,
  unavailable: 503,
};

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** Title for a status code, as the problem body's `title`. */
export function statusTitle(status: number): string {
  return titles[status] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request');
}

function typeUri(status: number): string {
  return `https://switchyard.dev/errors/${statusTitle(status).toLowerCase().replace(/\s+/g, '-')}`;
}

/** Builds a problem body. */
export function problem(
  request: Pick<FastifyRequest, 'id'>,
  status: number,
  code: string,
  message: string,
  details: Record<string, unknown> | null = null,
  errors?: Record<string, string>,
): Problem {
  const body: Problem = {
    type: typeUri(status),
    title: statusTitle(status),
    status,
    detail: message,
    instance: String(request.id),
    code,
    message,
    details,
  };
  if (errors) body.errors = errors;
  return body;
}

/** Sends a problem body with the problem+json content type. */
export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.status(body.status).type('application/problem+json; charset=utf-8').send(body);
}

/** Turns an Ajv/TypeBox validation failure into a field → message map. */
function fieldErrors(error: FastifyError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of error.validation ?? []) {
    const params = v.params as { missingProperty?: string; additionalProperty?: string } | undefined;
    const missing = params?.missingProperty;
    // An unknown property is named itself, not the object that holds it.
    const extra = params?.additionalProperty;
    let path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const child = missing ?? extra;
    if (child) path = path ? `${path}.${child}` : child;
    const key = path || (error.validationContext ?? 'body');
    out[key] ??= missing ? 'is required' : extra ? 'is not a known property' : (v.message ?? 'is invalid');
  }
  return out;
}

/** Maps any error thrown on a v1 route to its problem body, never leaking a stack trace. */
export function toProblem(error: unknown, request: Pick<FastifyRequest, 'id'>): Problem {
  if (error instanceof DomainError) {
    const status = statusByKind[error.kind];
    const fields = error instanceof ValidationError && Object.keys(error.fields).length > 0 ? error.fields : undefined;
    return problem(request, status, error.code, error.message, error.details, fields);
  }
  const fe = error as FastifyError;
  if (fe && Array.isArray(fe.validation)) {
    const errors = fieldErrors(fe);
    const where = fe.validationContext ?? 'body';
    // A body that parses but breaks the schema is a validation failure (422, IntelliToggle's
    // contract); a bad query string, path or header is a bad request (400).
    const status = where === 'body' ? 422 : 400;
    const code = status === 422 ? 'validation_failed' : 'bad_request';
    const summary = Object.entries(errors).map(([k, m]) => `${k} ${m}`).join('; ');
    return problem(request, status, code, `Invalid ${where}: ${summary}`, { fields: errors }, errors);
  }
  const status = typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 600 ? fe.statusCode : 500;
  // Never the message of an unexpected error: it can carry SQL, paths or secrets. It is logged instead.
  if (status >= 500) return problem(request, status, 'internal_error', 'An unexpected error occurred');
  // The JSON body parser rethrows the parser's SyntaxError with status 400.
  if (error instanceof SyntaxError) return problem(request, 400, 'malformed_json', `Malformed JSON in request body: ${error.message}`);
  const codes: Record<string, string> = {
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
    FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
    FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
    FST_ERR_BAD_URL: 'bad_request',
    FST_ERR_MAX_PARAM_LENGTH: 'bad_request',
  };
  const code = (fe.code && codes[fe.code]) ?? (status === 400 && /JSON/i.test(fe.message) ? 'malformed_json' : statusTitle(status).toLowerCase().replace(/\s+/g, '_'));
  return problem(request, status, code, fe.message || statusTitle(status));
}

/** What a v1 route answers for an error: the problem body and its extra headers; 5xx errors are logged. */
export function errorAnswer(error: unknown, request: Pick<FastifyRequest, 'id'>, log: FastifyBaseLogger): { body: Problem; headers: Record<string, string> } {
  const body = toProblem(error, request);
  if (body.status >= 500) log.error({ err: error }, 'request failed');
  const headers: Record<string, string> = {};
  if (error instanceof RateLimitedError) headers['retry-after'] = String(error.retryAfterSeconds);
  return { body, headers };
}

/** Fastify error handler for every route that speaks v1. */
export function v1ErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { body, headers } = errorAnswer(error, request, request.log);
  return sendProblem(reply.headers(headers), body);
}
