import { Type } from 'typebox';

const Metadata = Type.Record(Type.String(), Type.Union([Type.Boolean(), Type.String(), Type.Number()]), {
  description: 'Flat flag metadata (strings, numbers, booleans)',
});

/**
 * The evaluation context. `targetingKey` is optional here (the spec marks it required): a flag
 * that does not need one evaluates without it.
 */
export const OfrepContext = Type.Object(
  { targetingKey: Type.Optional(Type.String()) },
  { additionalProperties: true, description: 'Evaluation context: targetingKey and any attributes' },
);

/** `evaluationRequest` / `bulkEvaluationRequest`. */
export const OfrepEvaluationRequest = Type.Object({ context: OfrepContext }, { additionalProperties: true });

/** Path parameter of the single-flag route. */
export const OfrepFlagParams = Type.Object({ key: Type.String({ minLength: 1, maxLength: 512 }) });

/** `If-None-Match` of the bulk route. */
export const OfrepBulkHeaders = Type.Object({ 'if-none-match': Type.Optional(Type.String()) }, { additionalProperties: true });

/** `flagConfigEtag` / `flagConfigLastModified`: accepted (change-triggered re-fetch metadata) and not needed. */
export const OfrepBulkQuery = Type.Object(
  { flagConfigEtag: Type.Optional(Type.String()), flagConfigLastModified: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

/**
 * `evaluationSuccess`: `value` and `variant` absent when the flag defers to the code default.
 * `reason` is an OpenFeature reason (the spec's enum lists STATIC, TARGETING_MATCH, SPLIT,
 * DISABLED, UNKNOWN; DEFAULT is sent too — OpenFeature's reason for a default or no-value result).
 */
export const OfrepEvaluationSuccess = Type.Object({
  key: Type.String(),
  value: Type.Optional(Type.Unknown({ description: 'boolean, string, number or object; absent: use the code default' })),
  reason: Type.String({ description: 'STATIC, DEFAULT, TARGETING_MATCH, SPLIT or DISABLED' }),
  variant: Type.Optional(Type.String()),
  metadata: Type.Optional(Metadata),
});

/** `evaluationFailure` (400) and `flagNotFound` (404). */
export const OfrepEvaluationFailure = Type.Object({
  key: Type.String(),
  errorCode: Type.String({ description: 'FLAG_NOT_FOUND, PARSE_ERROR, TARGETING_KEY_MISSING, INVALID_CONTEXT or GENERAL' }),
  errorDetails: Type.Optional(Type.String()),
  metadata: Type.Optional(Metadata),
});

/** One item of the bulk list: a success or a failure. */
export const OfrepBulkItem = Type.Object({
  key: Type.String(),
  value: Type.Optional(Type.Unknown()),
  reason: Type.Optional(Type.String()),
  variant: Type.Optional(Type.String()),
  errorCode: Type.Optional(Type.String()),
  errorDetails: Type.Optional(Type.String()),
  metadata: Type.Optional(Metadata),
});

/** `bulkEvaluationSuccess`. */
export const OfrepBulkSuccess = Type.Object({ flags: Type.Array(OfrepBulkItem), metadata: Type.Optional(Metadata) });

/** `bulkEvaluationFailure`. */
export const OfrepBulkFailure = Type.Object({ errorCode: Type.String(), errorDetails: Type.Optional(Type.String()) });

/** `generalErrorResponse`: 401, 403, 429, 500 and 503 carry it. */
export const OfrepGeneralError = Type.Object({ errorDetails: Type.Optional(Type.String()) });
