import type { Migration } from 'kysely';
import * as m0001 from './0001-identity-and-organizations.js';

/**
 * Every migration, in order. Static imports (no directory scan) so the list is the same in the
 * build, in tests and in a bundled binary. A migration is frozen once it has landed on main:
 * change the schema with a new one.
 */
export const migrations: Record<string, Migration> = {
  '0001-identity-and-organizations': m0001,
};
