import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import type { Database } from '../../db/schema.js';
import { systemActor } from '../../domain/actor.js';
import type { AccountService } from '../identity/account-service.js';
import { normalizeEmail } from '../identity/email.js';
import type { UserStore } from '../identity/user-store.js';
import type { OrganizationService } from './organization-service.js';

/** What a bootstrap run found or did. */
export type BootstrapOutcome =
  | { status: 'disabled' }
  | { status: 'exists'; email: string }
  | { status: 'created'; email: string; userId: number; organizationId: number };

/**
 * The first administrator: when `SWITCHYARD_ADMIN_EMAIL`/`SWITCHYARD_ADMIN_PASSWORD` are set and
 * no account has that email, creates the account (platform role `super_user` when the email is
 * in `ADMIN_SUPER_USER_EMAILS`, otherwise `admin`), its organisation (`SWITCHYARD_ADMIN_ORG`,
 * default "Default") with the user as admin, and the organisation's default project with
 * `development`, `staging` and `production` — all in one transaction. Runs on every start;
 * once the account exists it does nothing (even if its organisation was since deleted), and of
 * several instances starting at once exactly one creates it.
 */
export class BootstrapService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly users: UserStore,
    private readonly accounts: Pick<AccountService, 'createAccount'>,
    private readonly organizations: OrganizationService,
    private readonly config: Pick<Config, 'admin' | 'superUserEmails'>,
  ) {}

  async run(): Promise<BootstrapOutcome> {
    const admin = this.config.admin;
    if (!admin) return { status: 'disabled' };
    const email = normalizeEmail(admin.email);
    if (await this.exists(email)) return { status: 'exists', email };
    try {
      return await this.db.transaction().execute(async (trx) => {
        const user = await this.accounts.createAccount(
          {
            email,
            password: admin.password,
            name: null,
            emailVerified: true,
            platformRole: this.config.superUserEmails.includes(email) ? 'super_user' : 'admin',
          },
          { trx, actor: systemActor },
        );
        const org = await this.organizations.createWithOwner(systemActor, { name: admin.organization, primaryEmail: email }, user.id, trx);
        return { status: 'created' as const, email, userId: user.id, organizationId: org.id };
      });
    } catch (err) {
      // Another instance starting at the same time won the race (our insert hit the unique
      // index, or SQLite was busy); its transaction created everything.
      if (await this.exists(email)) return { status: 'exists', email };
      throw err;
    }
  }

  private async exists(email: string): Promise<boolean> {
    return (await this.users.findByEmailWithPassword(this.db, email)) !== null;
  }
}
