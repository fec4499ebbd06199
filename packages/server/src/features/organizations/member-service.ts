import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { nowIso } from '../../domain/ids.js';
import type { AccessGrant, AccessService } from '../access/access-service.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { MemberWithUser, OrganizationStore } from './organization-store.js';

/** A page of a list and how many there are in all. */
export interface Page<T> {
  items: T[];
  total: number;
}

/** Paging as every list takes it. */
export interface PageRequest {
  limit?: number;
  offset?: number;
}

/** Applies the default and bounds every list shares: limit 1–1000 (default 100), offset ≥ 0. */
export function pageOf(page: PageRequest = {}): { limit: number; offset: number } {
  const limit = page.limit ?? 100;
  const offset = page.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ValidationError('limit must be 1 to 1000', { limit: 'must be an integer from 1 to 1000' });
  if (!Number.isInteger(offset) || offset < 0) throw new ValidationError('offset must be 0 or more', { offset: 'must be an integer of 0 or more' });
  return { limit, offset };
}

const adminRole = 'admin';

/** Who belongs to an organisation, in which role; never leaves an organisation without an admin. */
export class MemberService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly store: OrganizationStore,
    private readonly audit: AuditStore,
  ) {}

  async list(actor: Actor, organizationId: number | null, page?: PageRequest): Promise<Page<MemberWithUser>> {
    const p = pageOf(page);
    const grant = await this.access.require(actor, organizationId, 'members:read');
    const [items, total] = await Promise.all([
      this.store.listMembers(this.db, grant.organizationId, p),
      this.store.countMembers(this.db, grant.organizationId),
    ]);
    return { items, total };
  }

  async get(actor: Actor, organizationId: number | null, userId: number): Promise<MemberWithUser> {
    const grant = await this.access.require(actor, organizationId, 'members:read');
    const member = await this.store.findMember(this.db, grant.organizationId, userId);
    if (!member) throw new NotFoundError('Member');
    return member;
  }

  /**
   * Gives a member another role (built in or custom). The caller must hold every permission of
   * both the member's current and new role, and the last admin cannot be demoted.
   */
  async changeRole(actor: Actor, organizationId: number | null, userId: number, roleKey: string): Promise<MemberWithUser> {
    return this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'members:write', trx);
      await this.store.lock(trx, grant.organizationId);
      const member = await this.findMember(trx, grant.organizationId, userId);
      const role = await this.access.resolveRole(grant.organizationId, roleKey, trx);
      if (!role) throw new ValidationError(`Unknown role "${roleKey}"`, { role: 'is not a role of this organization' });
      if (member.role === role.key) return member;
      await this.assertCanManage(trx, grant, member);
      this.access.assertCanGrant(grant, role.permissions);
      if (member.role === adminRole) await this.assertNotLastAdmin(trx, grant.organizationId);
      const updatedAt = nowIso();
      await this.store.updateMembershipRole(trx, grant.organizationId, userId, role.key, updatedAt);
      await this.audit.record(trx, actor, {
        organizationId: grant.organizationId,
        action: 'member.role_changed',
        resourceType: 'member',
        resourceId: userId,
        before: { role: member.role },
        after: { role: role.key },
      });
      return { ...member, role: role.key, updatedAt };
    });
  }

  /**
   * Removes a member. Anyone may remove themselves (leave); removing someone else needs
   * `members:write` and every permission the member holds. The last admin can do neither.
   */
  async remove(actor: Actor, organizationId: number | null, userId: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const self = actor.kind === 'user' && actor.userId === userId;
      const grant = self
        ? await this.access.requireMember(actor, organizationId, trx)
        : await this.access.require(actor, organizationId, 'members:write', trx);
      await this.store.lock(trx, grant.organizationId);
      const member = await this.findMember(trx, grant.organizationId, userId);
      if (!self) await this.assertCanManage(trx, grant, member);
      if (member.role === adminRole) await this.assertNotLastAdmin(trx, grant.organizationId);
      await this.store.deleteMembership(trx, grant.organizationId, userId);
      await this.audit.record(trx, actor, {
        organizationId: grant.organizationId,
        action: self ? 'member.left' : 'member.removed',
        resourceType: 'member',
        resourceId: userId,
        before: { userId, email: member.email, role: member.role },
      });
    });
  }

  private async findMember(trx: Transaction<Database>, organizationId: number, userId: number): Promise<MemberWithUser> {
    const member = await this.store.findMember(trx, organizationId, userId);
    if (!member) throw new NotFoundError('Member');
    return member;
  }

  private async assertCanManage(trx: Transaction<Database>, grant: AccessGrant, member: MemberWithUser): Promise<void> {
    const current = await this.access.resolveRole(grant.organizationId, member.role, trx);
    this.access.assertCanGrant(grant, current?.permissions ?? []);
  }

  private async assertNotLastAdmin(trx: Transaction<Database>, organizationId: number): Promise<void> {
    if ((await this.store.countMembersWithRole(trx, organizationId, adminRole)) <= 1) {
      throw new ConflictError('An organization must keep at least one admin', 'last_admin');
    }
  }
}
