import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { MembershipWithOrganization, Organization, OrganizationStore } from './organization-store.js';

/** What it takes to create an organisation. */
export interface NewOrganization {
  name: string;
  primaryEmail?: string | null;
  contactName?: string | null;
  isSandbox?: boolean;
}

/** Organisations and who belongs to them. */
export class OrganizationService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: OrganizationStore,
    private readonly audit: AuditStore,
  ) {}

  /** Creates an organisation with `ownerUserId` as its first admin, in one transaction. */
  async createWithOwner(actor: Actor, input: NewOrganization, ownerUserId: number): Promise<Organization> {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 200) {
      throw new ValidationError('Organization name must be 1 to 200 characters', { name: 'must be 1 to 200 characters' });
    }
    const now = nowIso();
    const org: Organization = {
      id: newId(),
      name,
      primaryEmail: input.primaryEmail ?? null,
      contactName: input.contactName ?? null,
      isSandbox: input.isSandbox ?? false,
      sandboxExpiresAt: null,
      plan: 'self-hosted',
      createdAt: now,
      updatedAt: now,
    };
    await this.db.transaction().execute(async (trx) => {
      await this.store.insert(trx, org);
      await this.store.insertMembership(trx, {
        id: newId(),
        organizationId: org.id,
        userId: ownerUserId,
        role: 'admin',
        createdAt: now,
        updatedAt: now,
        lastAccessedAt: null,
      });
      await this.audit.record(trx, actor, {
        organizationId: org.id,
        action: 'organization.created',
        resourceType: 'organization',
        resourceId: org.id,
        after: { name: org.name, owner: ownerUserId },
      });
    });
    return org;
  }

  /** The user's memberships with their organisations, canonical (oldest) first. */
  async membershipsOf(userId: number): Promise<MembershipWithOrganization[]> {
    return this.store.listMembershipsOfUser(this.db, userId);
  }
}
