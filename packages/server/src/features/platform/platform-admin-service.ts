import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { AccessService } from '../access/access-service.js';
import { platformRoles, type PlatformRole } from '../access/permissions.js';
import type { AuditStore } from '../audit/audit-store.js';
import { emailProblem, normalizeEmail } from '../identity/email.js';
import type { SessionStore } from '../identity/session-store.js';
import type { UserStore } from '../identity/user-store.js';
import type { Mailer } from '../mail/mailer.js';
import type { PlatformInvitation, PlatformStore, PlatformUser, TenantOverview } from './platform-store.js';

/** How long a platform invitation link works. */
export const platformInvitationTtlSeconds = 7 * 24 * 60 * 60;

/** Roles an invitation can grant (`super_user` comes only from `ADMIN_SUPER_USER_EMAILS`). */
export const invitableRoles = ['viewer', 'admin'] as const;

/** An account with its effective platform role. */
export interface PlatformUserView extends Omit<PlatformUser, 'storedRole'> {
  role: PlatformRole | null;
}

/** An invitation with its derived status (`expired` for a pending one past its expiry). */
export interface PlatformInvitationView extends Omit<PlatformInvitation, 'status'> {
  status: PlatformInvitation['status'] | 'expired';
}

export interface Page<T> {
  items: T[];
  total: number;
}

type PageRequest = { limit?: number; offset?: number };

function page(p: PageRequest): { limit: number; offset: number } {
  return { limit: p.limit ?? 100, offset: p.offset ?? 0 };
}

function addSeconds(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const rank = (role: string | null): number => platformRoles.indexOf((role ?? '') as PlatformRole);

/**
 * The platform's operators: admin users and every account (list, deactivate — whose tokens stop
 * working at once —, reactivate, platform role), platform-admin invitations (create, list, get,
 * revoke, resend, accept) and every tenant. All of it is `super_user` only, except listing
 * tenants (`admin`) and accepting an invitation (the invited person). `super_user` is exactly
 * the emails of `ADMIN_SUPER_USER_EMAILS`: no one else can be given it.
 */
export class PlatformAdminService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly store: PlatformStore,
    private readonly users: UserStore,
    private readonly sessions: SessionStore,
    private readonly mailer: Mailer,
    private readonly audit: AuditStore,
    private readonly config: { superUserEmails: readonly string[]; publicUrl: string },
    private readonly now: () => string = nowIso,
  ) {}

  /** Accounts holding a platform role (super users from the configuration included). */
  async listAdmins(actor: Actor, p: PageRequest = {}): Promise<Page<PlatformUserView>> {
    this.access.requirePlatformRole(actor, 'super_user');
    return this.users_(true, p);
  }

  /** Every account of the platform. */
  async listUsers(actor: Actor, p: PageRequest = {}): Promise<Page<PlatformUserView>> {
    this.access.requirePlatformRole(actor, 'super_user');
    return this.users_(false, p);
  }

  /** Deactivates an account: it cannot sign in, and its sessions end (its tokens stop working at once). */
  async deactivate(actor: Actor, userId: number): Promise<PlatformUserView> {
    this.access.requirePlatformRole(actor, 'super_user');
    if (actor.userId === userId) throw new ConflictError('You cannot deactivate your own account', 'cannot_deactivate_self');
    return this.db.transaction().execute(async (trx) => {
      const user = await this.requireUser(trx, userId);
      if (user.status === 'deactivated') return this.view(user);
      const now = this.now();
      await this.users.setStatus(trx, userId, 'deactivated', now);
      await this.sessions.revokeSessionsOfUser(trx, userId, 'deactivated', now);
      await this.audit.record(trx, actor, { organizationId: null, action: 'user.deactivated', resourceType: 'user', resourceId: userId, before: { status: user.status }, after: { status: 'deactivated' } });
      return this.view({ ...user, status: 'deactivated', updatedAt: now });
    });
  }

  /** Lets a deactivated account sign in again (its old sessions stay ended). */
  async reactivate(actor: Actor, userId: number): Promise<PlatformUserView> {
    this.access.requirePlatformRole(actor, 'super_user');
    return this.db.transaction().execute(async (trx) => {
      const user = await this.requireUser(trx, userId);
      if (user.status === 'active') return this.view(user);
      const now = this.now();
      await this.users.setStatus(trx, userId, 'active', now);
      await this.audit.record(trx, actor, { organizationId: null, action: 'user.reactivated', resourceType: 'user', resourceId: userId, before: { status: user.status }, after: { status: 'active' } });
      return this.view({ ...user, status: 'active', updatedAt: now });
    });
  }

  /**
   * Sets an account's platform role (`viewer`, `admin`, `super_user`; null removes it).
   * `super_user` only for emails in `ADMIN_SUPER_USER_EMAILS`, whose role cannot be changed
   * (the configuration decides it). Takes effect on the account's next request.
   */
  async setRole(actor: Actor, userId: number, role: string | null): Promise<PlatformUserView> {
    this.access.requirePlatformRole(actor, 'super_user');
    if (role !== null && !(platformRoles as readonly string[]).includes(role)) {
      throw new ValidationError('role must be viewer, admin or super_user', { role: 'must be viewer, admin or super_user' });
    }
    return this.db.transaction().execute(async (trx) => {
      const user = await this.requireUser(trx, userId);
      const configured = this.config.superUserEmails.includes(user.email);
      if (role === 'super_user' && !configured) {
        throw new ValidationError('super_user is reserved for emails listed in ADMIN_SUPER_USER_EMAILS', { role: 'super_user is reserved for emails listed in ADMIN_SUPER_USER_EMAILS' });
      }
      if (configured && role !== 'super_user') {
        throw new ValidationError('This account is a super user by ADMIN_SUPER_USER_EMAILS; change the configuration instead', { role: 'is fixed by ADMIN_SUPER_USER_EMAILS' });
      }
      if (user.storedRole === role) return this.view(user);
      const now = this.now();
      await this.store.setRole(trx, userId, role, now);
      await this.audit.record(trx, actor, { organizationId: null, action: 'user.platform_role_changed', resourceType: 'user', resourceId: userId, before: { role: user.storedRole }, after: { role } });
      return this.view({ ...user, storedRole: role, updatedAt: now });
    });
  }

  /** Invites an email to be a platform `viewer` or `admin`, mailing a single-use link valid for 7 days. */
  async invite(actor: Actor, input: { email: string; role: string }): Promise<PlatformInvitationView> {
    this.access.requirePlatformRole(actor, 'super_user');
    const email = normalizeEmail(input.email);
    const fields: Record<string, string> = {};
    const problem = emailProblem(email);
    if (problem) fields.email = problem;
    if (!(invitableRoles as readonly string[]).includes(input.role)) fields.role = 'must be viewer or admin';
    if (Object.keys(fields).length > 0) throw new ValidationError('The invitation is invalid', fields);
    let mailId = 0;
    const invitation = await this.db.transaction().execute(async (trx) => {
      const now = this.now();
      const existing = await this.store.findUserByEmail(trx, email);
      if (existing && rank(this.effectiveRole(existing)) >= rank(input.role)) {
        throw new ConflictError(`${email} already has the platform role ${this.effectiveRole(existing)}`, 'already_platform_admin');
      }
      const open = await this.store.findOpenInvitation(trx, email, now);
      if (open) throw new ConflictError(`${email} already has a pending invitation; resend it instead`, 'invitation_pending', { invitationId: `inv_${open.id}` });
      const token = randomBytes(32).toString('base64url');
      const created: PlatformInvitation = {
        id: newId(),
        email,
        role: input.role,
        invitedBy: actor.userId,
        status: 'pending',
        createdAt: now,
        expiresAt: addSeconds(now, platformInvitationTtlSeconds),
        acceptedAt: null,
        acceptedBy: null,
      };
      await this.store.insertInvitation(trx, created, hashToken(token));
      await this.audit.record(trx, actor, { organizationId: null, action: 'platform_invitation.created', resourceType: 'invitation', resourceId: created.id, after: { email, role: input.role, expiresAt: created.expiresAt } });
      mailId = await this.enqueueMail(trx, created, token);
      return created;
    });
    await this.mailer.deliver([mailId]);
    return this.invitationView(invitation);
  }

  async listInvitations(actor: Actor, p: PageRequest = {}): Promise<Page<PlatformInvitationView>> {
    this.access.requirePlatformRole(actor, 'super_user');
    const [items, total] = await Promise.all([this.store.listInvitations(this.db, page(p)), this.store.countInvitations(this.db)]);
    return { items: items.map((i) => this.invitationView(i)), total };
  }

  async getInvitation(actor: Actor, id: number): Promise<PlatformInvitationView> {
    this.access.requirePlatformRole(actor, 'super_user');
    const invitation = await this.store.findInvitation(this.db, id);
    if (!invitation) throw new NotFoundError('Invitation');
    return this.invitationView(invitation);
  }

  /** Revokes a pending invitation (409 `invitation_not_pending` once accepted or revoked). */
  async revokeInvitation(actor: Actor, id: number): Promise<PlatformInvitationView> {
    this.access.requirePlatformRole(actor, 'super_user');
    return this.db.transaction().execute(async (trx) => {
      const invitation = await this.store.findInvitation(trx, id);
      if (!invitation) throw new NotFoundError('Invitation');
      if (!(await this.store.markRevoked(trx, id))) throw new ConflictError(`The invitation is already ${invitation.status}`, 'invitation_not_pending', { status: invitation.status });
      await this.audit.record(trx, actor, { organizationId: null, action: 'platform_invitation.revoked', resourceType: 'invitation', resourceId: id, before: { status: invitation.status }, after: { status: 'revoked' } });
      return this.invitationView({ ...invitation, status: 'revoked' });
    });
  }

  /** Mails a pending (or expired, never accepted) invitation again with a new link and 7 fresh days. */
  async resendInvitation(actor: Actor, id: number): Promise<PlatformInvitationView> {
    this.access.requirePlatformRole(actor, 'super_user');
    let mailId = 0;
    const next = await this.db.transaction().execute(async (trx) => {
      const invitation = await this.store.findInvitation(trx, id);
      if (!invitation) throw new NotFoundError('Invitation');
      if (invitation.status !== 'pending') throw new ConflictError(`The invitation is already ${invitation.status}`, 'invitation_not_pending', { status: invitation.status });
      const token = randomBytes(32).toString('base64url');
      const updated = { ...invitation, expiresAt: addSeconds(this.now(), platformInvitationTtlSeconds) };
      await this.store.replaceToken(trx, id, hashToken(token), updated.expiresAt);
      await this.audit.record(trx, actor, { organizationId: null, action: 'platform_invitation.resent', resourceType: 'invitation', resourceId: id, before: { expiresAt: invitation.expiresAt }, after: { expiresAt: updated.expiresAt } });
      mailId = await this.enqueueMail(trx, updated, token);
      return updated;
    });
    await this.mailer.deliver([mailId]);
    return this.invitationView(next);
  }

  /**
   * The signed-in user accepts a platform invitation by its mailed token: they must be the invited
   * email (403 `invitation_email_mismatch`); unknown or revoked tokens are 404
   * `invitation_not_found`, expired and used ones 404 `invitation_expired` / `invitation_used`.
   * A stronger role the user already holds is kept.
   */
  async accept(actor: Actor, token: string): Promise<{ invitation: PlatformInvitationView; user: PlatformUserView }> {
    if (actor.kind !== 'user' || actor.userId === null) {
      if (actor.kind === 'user') throw new UnauthorizedError();
      throw new ForbiddenError('Only a person can accept an invitation');
    }
    const userId = actor.userId;
    return this.db.transaction().execute(async (trx) => {
      const invitation = await this.store.findInvitationByTokenHash(trx, hashToken(token));
      if (!invitation || invitation.status === 'revoked') throw new NotFoundError('Invitation', 'invitation_not_found');
      if (invitation.status === 'accepted') throw new NotFoundError('Invitation', 'invitation_used');
      const now = this.now();
      if (invitation.expiresAt <= now) throw new NotFoundError('Invitation', 'invitation_expired');
      const user = await this.requireUser(trx, userId);
      if (user.email !== invitation.email) throw new ForbiddenError('This invitation was sent to a different email address', 'invitation_email_mismatch');
      if (!(await this.store.markAccepted(trx, invitation.id, userId, now))) throw new NotFoundError('Invitation', 'invitation_used');
      const role = rank(user.storedRole) >= rank(invitation.role) ? user.storedRole : invitation.role;
      if (role !== user.storedRole) await this.store.setRole(trx, userId, role, now);
      await this.audit.record(trx, actor, { organizationId: null, action: 'platform_invitation.accepted', resourceType: 'invitation', resourceId: invitation.id, before: { status: 'pending', role: user.storedRole }, after: { status: 'accepted', role } });
      return { invitation: this.invitationView({ ...invitation, status: 'accepted', acceptedAt: now, acceptedBy: userId }), user: this.view({ ...user, storedRole: role }) };
    });
  }

  /** Every tenant of the platform, with member counts (platform `admin` and up). */
  async listTenants(actor: Actor, p: PageRequest = {}): Promise<Page<TenantOverview>> {
    this.access.requirePlatformRole(actor, 'admin');
    const [items, total] = await Promise.all([this.store.listTenants(this.db, page(p)), this.store.countTenants(this.db)]);
    return { items, total };
  }

  private async users_(adminsOnly: boolean, p: PageRequest): Promise<Page<PlatformUserView>> {
    const query = { adminsOnly, superUserEmails: this.config.superUserEmails };
    const [items, total] = await Promise.all([this.store.listUsers(this.db, { ...query, ...page(p) }), this.store.countUsers(this.db, query)]);
    return { items: items.map((u) => this.view(u)), total };
  }

  private async requireUser(db: Transaction<Database>, userId: number): Promise<PlatformUser> {
    const user = await this.store.findUser(db, userId);
    if (!user) throw new NotFoundError('User');
    return user;
  }

  private effectiveRole(user: PlatformUser): PlatformRole | null {
    if (this.config.superUserEmails.includes(user.email)) return 'super_user';
    return user.storedRole === 'viewer' || user.storedRole === 'admin' ? user.storedRole : null;
  }

  private view(user: PlatformUser): PlatformUserView {
    const { storedRole: _stored, ...rest } = user;
    return { ...rest, role: this.effectiveRole(user) };
  }

  private invitationView(i: PlatformInvitation): PlatformInvitationView {
    return { ...i, status: i.status === 'pending' && i.expiresAt <= this.now() ? 'expired' : i.status };
  }

  private async enqueueMail(trx: Transaction<Database>, invitation: PlatformInvitation, token: string): Promise<number> {
    const link = `${this.config.publicUrl}/admin/invitations/accept?token=${encodeURIComponent(token)}`;
    const text = [
      `You are invited to operate Switchyard as a platform ${invitation.role}.`,
      '',
      `Sign in (or sign up) as ${invitation.email}, then accept: ${link}`,
      '',
      `The link works once and expires at ${invitation.expiresAt}.`,
      `(API: POST ${this.config.publicUrl}/api/v1/admin/invitations/accept with {"token": "${token}"}.)`,
    ].join('\n');
    return this.mailer.enqueue(trx, { organizationId: null, to: invitation.email, subject: `You are invited to be a Switchyard platform ${invitation.role}`, text });
  }
}
