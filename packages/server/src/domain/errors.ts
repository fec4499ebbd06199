/**
 * The one family of errors the domain throws. Each carries a machine code; every HTTP surface
 * renders it in its own dialect (problem+json on v1, `{status, message, data}` on ToggleSmartly, …),
 * so services never know which surface called them.
 */
export type DomainErrorKind =
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'rate_limited'
  | 'unavailable';

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  constructor(
    /** Machine-readable code, e.g. `not_found`, `email_taken`, `last_admin`. */
    readonly code: string,
    message: string,
    /** Extra context safe to show the caller. */
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input that is well-formed but breaks a rule; `fields` maps each offending field to its message. */
export class ValidationError extends DomainError {
  readonly kind = 'validation' as const;
  constructor(
    message: string,
    readonly fields: Record<string, string> = {},
    code = 'validation_failed',
  ) {
    super(code, message, Object.keys(fields).length > 0 ? { fields } : null);
  }
}

export class UnauthorizedError extends DomainError {
  readonly kind = 'unauthorized' as const;
  constructor(message = 'Authentication required', code = 'unauthorized') {
    super(code, message);
  }
}

export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden' as const;
  constructor(message = 'You do not have permission to do this', code = 'forbidden', details: Record<string, unknown> | null = null) {
    super(code, message, details);
  }
}

/** Also what a resource of another organisation looks like: absence, never a 403. */
export class NotFoundError extends DomainError {
  readonly kind = 'not_found' as const;
  constructor(what = 'Resource', code = 'not_found') {
    super(code, `${what} not found`);
  }
}

export class ConflictError extends DomainError {
  readonly kind = 'conflict' as const;
  constructor(message: string, code = 'conflict', details: Record<string, unknown> | null = null) {
    super(code, message, details);
  }
}

export class PreconditionFailedError extends DomainError {
  readonly kind = 'precondition_failed' as const;
  constructor(message = 'The resource has changed since you read it', code = 'precondition_failed', details: Record<string, unknown> | null = null) {
    super(code, message, details);
  }
}

export class RateLimitedError extends DomainError {
  readonly kind = 'rate_limited' as const;
  constructor(
    /** Seconds until the caller may try again. */
    readonly retryAfterSeconds: number,
    message = 'Rate limit exceeded. Try again later.',
    code = 'rate_limited',
  ) {
    super(code, message, { retryAfter: retryAfterSeconds });
  }
}

export class UnavailableError extends DomainError {
  readonly kind = 'unavailable' as const;
  constructor(message = 'Service unavailable', code = 'unavailable') {
    super(code, message);
  }
}
