import { Type } from 'typebox';

/**
 * `limit` (1–1000) and `offset` (≥ 0) as query parameters. Query strings arrive as text and the
 * app does not coerce types, so the bounds are patterns: anything else is a 400 naming the field.
 */
export const PageQuery = {
  limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', description: 'Page size, 1 to 1000 (default 100)' })),
  offset: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,14})$', description: 'Items to skip, 0 or more (default 0)' })),
};

/** Reads the validated paging parameters. */
export function pageFromQuery(query: { limit?: string; offset?: string }): { limit?: number; offset?: number } {
  return {
    ...(query.limit !== undefined ? { limit: Number(query.limit) } : {}),
    ...(query.offset !== undefined ? { offset: Number(query.offset) } : {}),
  };
}

/** Lists answer a JSON array; the total across pages goes in this header. */
export const totalCountHeader = 'X-Total-Count';
