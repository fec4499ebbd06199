import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import type { AccessService } from '../access/access-service.js';
import { pageOf, type Page, type PageRequest } from '../organizations/member-service.js';
import type { MailOutboxStore, OutboxMessage } from './mail-outbox-store.js';

/** Lets an organisation's admins read the mail sent on its behalf (invitation links included). */
export class MailOutboxService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly outbox: MailOutboxStore,
  ) {}

  /** Newest first. Needs `mail:read` (built-in: admin only), since messages carry invitation links. */
  async list(actor: Actor, organizationId: number | null, page?: PageRequest): Promise<Page<OutboxMessage>> {
    const p = pageOf(page);
    const grant = await this.access.require(actor, organizationId, 'mail:read');
    const [items, total] = await Promise.all([
      this.outbox.listByOrganization(this.db, grant.organizationId, p),
      this.outbox.countByOrganization(this.db, grant.organizationId),
    ]);
    return { items, total };
  }
}
