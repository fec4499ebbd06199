import type { Migration } from 'kysely';
import * as m0001 from './0001-identity-and-organizations.js';
import * as m0003 from './0003-organization-environments-and-projects.js';
import * as m0005 from './0005-flags-targeting-and-keys.js';
import * as m0007 from './0007-oauth-clients-and-password-resets.js';
import * as m0008 from './0008-engagement-and-platform.js';
import * as m0010 from './0010-exports-and-deletions.js';
import * as m0011 from './0011-environment-revisions.js';
import * as m0012 from './0012-flagd-environment-defaults.js';
import * as m0014 from './0014-billing-subscriptions.js';

/**
 * Every migration, in order. Static imports (no directory scan) so the list is the same in the
 * build, in tests and in a bundled binary. A migration is frozen once it has landed on main:
 * change the schema with a new one.
 */
export const migrations: Record<string, Migration> = {
  '0001-identity-and-organizations': m0001,
  '0003-organization-environments-and-projects': m0003,
  '0005-flags-targeting-and-keys': m0005,
  '0007-oauth-clients-and-password-resets': m0007,
  '0008-engagement-and-platform': m0008,
  '0010-exports-and-deletions': m0010,
  '0011-environment-revisions': m0011,
  '0012-flagd-environment-defaults': m0012,
  '0014-billing-subscriptions': m0014,
};
