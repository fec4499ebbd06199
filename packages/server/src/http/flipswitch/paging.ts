/** Lists are JSON arrays; the total across pages goes in this header. */
export const totalCountHeader = 'X-Total-Count';

/** The validated `limit`/`offset` of a list (Flipswitch lists default to everything up to 1000). */
export function listPage(query: { limit?: string; offset?: string }, defaultLimit = 1000): { limit: number; offset: number } {
  return { limit: query.limit !== undefined ? Number(query.limit) : defaultLimit, offset: query.offset !== undefined ? Number(query.offset) : 0 };
}
