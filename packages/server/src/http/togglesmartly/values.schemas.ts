import { Type } from 'typebox';
import { MAX_BULK_FLAGS } from '../../evaluation/evaluation-service.js';

/**
 * `POST /api/v1/feature-flags/get-values`, as ToggleSmartly documents it. Properties it does not
 * document are ignored (its clients may send more than we read).
 */
export const GetValuesBody = Type.Object({
  api_key: Type.String({ minLength: 1, maxLength: 512, description: 'An API key of the environment (server or sdk scope), e.g. akey-…' }),
  feature_flag_keys: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
    minItems: 1,
    maxItems: MAX_BULK_FLAGS,
    description: 'The feature flag keys to read',
  }),
  env: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
      maxItems: 100,
      description: "Environment keys to keep; environments other than the key's own are never returned",
    }),
  ),
});

/** One value: the flag, the environment key, and the value as a string. */
export const FlagValueSchema = Type.Object({
  featureFlagKey: Type.String(),
  env: Type.String({ description: 'The environment key, e.g. production' }),
  value: Type.String({ description: 'JSON-encoded for json flags; "true"/"false"; numbers as printed; falls back to the default value, then ""' }),
});

/** The 200 body. */
export const ValuesResponseSchema = Type.Object({
  status: Type.Literal(200),
  message: Type.String(),
  data: Type.Array(FlagValueSchema),
});

/** Every error body: the status, the documented message, and an empty `data`. */
export const ToggleSmartlyErrorSchema = Type.Object(
  {
    status: Type.Integer(),
    message: Type.String(),
    data: Type.Array(Type.Unknown(), { maxItems: 0 }),
  },
  { description: 'ToggleSmartly error body: {status, message, data: []}' },
);
