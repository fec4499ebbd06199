import { Type } from 'typebox';
import { NotFoundError } from '../../domain/errors.js';

/**
 * Flipswitch ids. Projects, environments, flags, rules, segments, API keys and audit entries are
 * plain JSON integers (`"id": 1`): our 53-bit ids fit a JavaScript number exactly. Users and
 * organisations are strings, as the document's examples show them (`"user-123"`, `"org-456"`):
 * the same numeric id behind a `user-` / `org-` prefix.
 */
export function formatUserId(id: number): string {
  return `user-${id}`;
}

/** `org-<id>`; null stays null (a user who belongs to no organisation). */
export function formatOrganizationId(id: number | null): string | null {
  return id === null ? null : `org-${id}`;
}

/** A path id: a positive integer of at most 16 digits; anything else is a 400 naming the parameter. */
export const PathId = (description: string) => Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: `${description} (a positive integer)` });

/**
 * Reads a path id the schema let through. A well-formed number beyond 2^53 cannot name any row:
 * it is absent, like any other id that names nothing.
 */
export function pathId(raw: string, what: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new NotFoundError(what);
  return n;
}
