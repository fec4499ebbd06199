/**
 * How request schemas are validated everywhere (Fastify's Ajv, and the evaluate lane's copy of
 * it): nothing coerced or stripped, and every failure reported so each field gets its message.
 */
export const ajvCustomOptions = { removeAdditional: false, coerceTypes: false, allErrors: true } as const;
