import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { AccessService } from '../access/access-service.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { AccountService, SignedIn } from '../identity/account-service.js';
import { emailProblem, normalizeEmail } from '../identity/email.js';
import type { UserStore } from '../identity/user-store.js';
import type { Mailer } from '../mail/mailer.js';
import type { Invitation, InvitationStatus, InvitationStore } from './invitation-store.js';
import { pageOf, type Page, type PageRequest } from './member-service.js';
import type { MemberWithUser, Membership, Organization, OrganizationStore } from './organization-store.js';
import { unlimitedEntitlements, type EntitlementCheck } from '../plans/entitlement-service.js';

/** How long an invitation link works. */
export const invitationTtlSeconds = 7 * 24 * 60 * 60;

/**
 * An invitation token that no longer works because it expired or was used. It is a not-found
 * (404) with its own code, so the invitee can be told why without a new status to learn.
 */
export class InvitationUnavailableError extends NotFoundError {
  constructor(code: 'invitation_expired' | 'invitation_used', message: string) {
    super('Invitation', code);
    this.message = message;
  }
}

/** An invitation as listed, with its derived status (`expired` for a pending one past its expiry). */
export interface InvitationView extends Omit<Invitation, 'status'> {
  status: InvitationStatus;
}

/** The outcome of accepting: the new membership, and tokens acting in it when we could issue them. */
export interface AcceptedInvitation {
  organization: Organization;
  membership: Membership;
  /** Null only for a caller signed in without a Switchyard session (e.g. an external ID token). */
  signedIn: SignedIn | null;
}

export interface AcceptInput {
  token: string;
  /** Required when the invitee has no account yet: it becomes their password. */
  password?: string | null;
  name?: string | null;
}

/** `addOrInvite`'s outcome: a member added at once, or an invitation sent. */
export type AddedOrInvited = { kind: 'member'; member: MemberWithUser } | { kind: 'invitation'; invitation: InvitationView };

/** What invitations need of identity: create the invitee's account and sign them in. */
export type InvitationAccounts = Pick<AccountService, 'createAccount' | 'login' | 'switchOrganization'>;

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function view(i: Invitation, now: string): InvitationView {
  return { ...i, status: i.status === 'pending' && i.expiresAt <= now ? 'expired' : i.status };
}

function addSeconds(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}

/**
 * Invitations to join an organisation: create (mailing a single-use link), list, revoke, resend
 * (a new token; the old one stops working) and accept (signed in, or creating the account).
 */
export class InvitationService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly organizations: OrganizationStore,
    private readonly invitations: InvitationStore,
    private readonly users: UserStore,
    private readonly accounts: InvitationAccounts,
    private readonly mailer: Mailer,
    private readonly audit: AuditStore,
    private readonly config: { publicUrl: string },
    /** The clock, so tests can move past the expiry. */
    private readonly now: () => string = nowIso,
  ) {}

  private entitlements: EntitlementCheck = unlimitedEntitlements;

  /** Plan limits and features (billing slice); nothing is limited until this is called. */
  useEntitlements(entitlements: EntitlementCheck): void {
    this.entitlements = entitlements;
  }

  async list(actor: Actor, organizationId: number | null, query: PageRequest & { status?: InvitationStatus } = {}): Promise<Page<InvitationView>> {
    const page = pageOf(query);
    const grant = await this.access.require(actor, organizationId, 'invitations:read');
    const now = this.now();
    const filter = { ...(query.status ? { status: query.status } : {}), now };
    const [items, total] = await Promise.all([
      this.invitations.list(this.db, grant.organizationId, { ...filter, ...page }),
      this.invitations.count(this.db, grant.organizationId, filter),
    ]);
    return { items: items.map((i) => view(i, now)), total };
  }

  async get(actor: Actor, organizationId: number | null, id: number): Promise<InvitationView> {
    const grant = await this.access.require(actor, organizationId, 'invitations:read');
    const invitation = await this.invitations.findById(this.db, grant.organizationId, id);
    if (!invitation) throw new NotFoundError('Invitation');
    return view(invitation, this.now());
  }

  /**
   * Invites `email` as `role` and mails the link. Refused for an existing member (409
   * `already_member`), an open invitation for the same email (409 `invitation_pending`: resend
   * it instead), an unknown role (422) or a role granting more than the caller holds (403).
   */
  async create(actor: Actor, organizationId: number | null, input: { email: string; role: string }): Promise<InvitationView> {
    const email = normalizeEmail(input.email);
    const problem = emailProblem(email);
    if (problem) throw new ValidationError(`email ${problem}`, { email: problem });
    let mailId = 0;
    const result = await this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'invitations:write', trx);
      await this.organizations.lock(trx, grant.organizationId);
      const role = await this.access.resolveRole(grant.organizationId, input.role, trx);
      if (!role) throw new ValidationError(`Unknown role "${input.role}"`, { role: 'is not a role of this organization' });
      this.access.assertCanGrant(grant, role.permissions);
      if (await this.organizations.findMemberByEmail(trx, grant.organizationId, email)) {
        throw new ConflictError(`${email} is already a member of this organization`, 'already_member');
      }
      const now = this.now();
      const open = await this.invitations.findOpenByEmail(trx, grant.organizationId, email, now);
      if (open) {
        throw new ConflictError(`${email} already has a pending invitation; resend it instead`, 'invitation_pending', {
          invitationId: open.id,
        });
      }
      // A pending invitation holds a member's place.
      await this.entitlements.requireWithinLimit(grant.organizationId, 'members', trx);
      const token = newToken();
      const invitation: Invitation = {
        id: newId(),
        organizationId: grant.organizationId,
        email,
        role: role.key,
        invitedBy: actor.userId,
        status: 'pending',
        createdAt: now,
        expiresAt: addSeconds(now, invitationTtlSeconds),
        acceptedAt: null,
        acceptedBy: null,
      };
      await this.invitations.insert(trx, invitation, hashToken(token));
      await this.audit.record(trx, actor, {
        organizationId: grant.organizationId,
        action: 'invitation.created',
        resourceType: 'invitation',
        resourceId: invitation.id,
        after: { email, role: role.key, expiresAt: invitation.expiresAt },
      });
      mailId = await this.enqueueMail(trx, actor, invitation, role.name, token);
      return invitation;
    });
    await this.mailer.deliver([mailId]);
    return view(result, this.now());
  }

  /**
   * Adds `email` to the organisation as `role`: at once when the email has an account
   * (`members:write`; 409 `already_member` when it is a member), otherwise by invitation as
   * `create` does (`invitations:write`). IntelliToggle's "add user to tenant".
   */
  async addOrInvite(actor: Actor, organizationId: number | null, input: { email: string; role: string }): Promise<AddedOrInvited> {
    const email = normalizeEmail(input.email);
    const problem = emailProblem(email);
    if (problem) throw new ValidationError(`email ${problem}`, { email: problem });
    const existing = await this.users.findByEmailWithPassword(this.db, email);
    if (!existing) return { kind: 'invitation', invitation: await this.create(actor, organizationId, { email, role: input.role }) };
    const member = await this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'members:write', trx);
      await this.organizations.lock(trx, grant.organizationId);
      const role = await this.access.resolveRole(grant.organizationId, input.role, trx);
      if (!role) throw new ValidationError(`Unknown role "${input.role}"`, { role: 'is not a role of this organization' });
      this.access.assertCanGrant(grant, role.permissions);
      if (await this.organizations.findMembership(trx, grant.organizationId, existing.id)) {
        throw new ConflictError(`${email} is already a member of this organization`, 'already_member');
      }
      await this.entitlements.requireWithinLimit(grant.organizationId, 'members', trx);
      const now = this.now();
      const membership: Membership = {
        id: newId(),
        organizationId: grant.organizationId,
        userId: existing.id,
        role: role.key,
        createdAt: now,
        updatedAt: now,
        lastAccessedAt: null,
      };
      await this.organizations.insertMembership(trx, membership);
      await this.audit.record(trx, actor, {
        organizationId: grant.organizationId,
        action: 'member.added',
        resourceType: 'member',
        resourceId: existing.id,
        after: { userId: existing.id, email, role: role.key },
      });
      return { ...membership, email, name: existing.name };
    });
    return { kind: 'member', member };
  }

  /** Revokes a pending invitation (409 `invitation_not_pending` once accepted or revoked). */
  async revoke(actor: Actor, organizationId: number | null, id: number): Promise<InvitationView> {
    return this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'invitations:write', trx);
      const invitation = await this.invitations.findById(trx, grant.organizationId, id);
      if (!invitation) throw new NotFoundError('Invitation');
      if (!(await this.invitations.markRevoked(trx, id))) {
        throw new ConflictError(`The invitation is already ${invitation.status}`, 'invitation_not_pending', { status: invitation.status });
      }
      await this.audit.record(trx, actor, {
        organizationId: grant.organizationId,
        action: 'invitation.revoked',
        resourceType: 'invitation',
        resourceId: id,
        before: { email: invitation.email, role: invitation.role, status: invitation.status },
        after: { status: 'revoked' },
      });
      return view({ ...invitation, status: 'revoked' }, this.now());
    });
  }

  /**
   * Mails a pending (or expired, never accepted) invitation again with a new token and a fresh
   * 7-day expiry; the previous link stops working.
   */
  async resend(actor: Actor, organizationId: number | null, id: number): Promise<InvitationView> {
    let mailId = 0;
    const result = await this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'invitations:write', trx);
      await this.organizations.lock(trx, grant.organizationId);
      const invitation = await this.invitations.findById(trx, grant.organizationId, id);
      if (!invitation) throw new NotFoundError('Invitation');
      if (invitation.status !== 'pending') {
        throw new ConflictError(`The invitation is already ${invitation.status}`, 'invitation_not_pending', { status: invitation.status });
      }
      const role = await this.access.resolveRole(grant.organizationId, invitation.role, trx);
      this.access.assertCanGrant(grant, role?.permissions ?? []);
      const token = newToken();
      const now = this.now();
      const next: Invitation = { ...invitation, expiresAt: addSeconds(now, invitationTtlSeconds) };
      await this.invitations.replaceToken(trx, id, hashToken(token), next.expiresAt);
      await this.audit.record(trx, actor, {
        organizationId: grant.organizationId,
        action: 'invitation.resent',
        resourceType: 'invitation',
        resourceId: id,
        before: { expiresAt: invitation.expiresAt },
        after: { expiresAt: next.expiresAt },
      });
      mailId = await this.enqueueMail(trx, actor, next, role?.name ?? invitation.role, token);
      return next;
    });
    await this.mailer.deliver([mailId]);
    return view(result, this.now());
  }

  /**
   * Accepts an invitation by its token. A signed-in caller must be the invited email (403
   * `invitation_email_mismatch`); without a sign-in the account is created (password required;
   * 401 `login_required` when the email already has an account). Unknown or revoked tokens are
   * 404 `invitation_not_found`; expired and used ones 404 `invitation_expired` / `invitation_used`.
   */
  async accept(actor: Actor | null, input: AcceptInput): Promise<AcceptedInvitation> {
    const invitation = await this.invitations.findByTokenHash(this.db, hashToken(input.token));
    if (!invitation || invitation.status === 'revoked') throw new NotFoundError('Invitation', 'invitation_not_found');
    if (invitation.status === 'accepted') throw new InvitationUnavailableError('invitation_used', 'This invitation has already been used');
    if (invitation.expiresAt <= this.now()) {
      throw new InvitationUnavailableError('invitation_expired', 'This invitation has expired; ask for a new one');
    }

    if (actor) {
      if (actor.kind !== 'user' || actor.userId === null) {
        throw new ForbiddenError('Only a person can accept an invitation', 'forbidden');
      }
      const user = await this.users.findById(this.db, actor.userId);
      if (!user) throw new UnauthorizedError('The account no longer exists', 'invalid_token');
      if (user.email !== invitation.email) {
        throw new ForbiddenError('This invitation was sent to a different email address', 'invitation_email_mismatch');
      }
      const membership = await this.db.transaction().execute((trx) => this.join(trx, actor, invitation, user.id));
      const organization = (await this.organizations.findById(this.db, invitation.organizationId))!;
      const signedIn = actor.sessionId === null ? null : await this.accounts.switchOrganization(actor, invitation.organizationId);
      return { organization, membership, signedIn };
    }

    if (await this.users.findByEmailWithPassword(this.db, invitation.email)) {
      throw new UnauthorizedError('An account with this email exists: sign in, then accept the invitation', 'login_required');
    }
    const password = input.password ?? null;
    if (password === null) {
      throw new ValidationError('A password is required to create your account', { password: 'is required to create your account' });
    }
    const membership = await this.db.transaction().execute(async (trx) => {
      const userId = newId();
      // The invitee proved the address by holding the mailed token.
      const self: Actor = { kind: 'user', userId, credentialId: null, organizationId: invitation.organizationId, role: null, platformRole: null, scopes: null, sessionId: null };
      const user = await this.accounts.createAccount(
        { email: invitation.email, password, name: input.name ?? null, emailVerified: true },
        { trx, actor: self },
      );
      return this.join(trx, { ...self, userId: user.id }, invitation, user.id);
    });
    const organization = (await this.organizations.findById(this.db, invitation.organizationId))!;
    const signedIn = await this.accounts.login({ email: invitation.email, password });
    return { organization, membership, signedIn };
  }

  private async join(trx: Transaction<Database>, actor: Actor, invitation: Invitation, userId: number): Promise<Membership> {
    await this.organizations.lock(trx, invitation.organizationId);
    const now = this.now();
    // Single use even under concurrent accepts: only one conditional update wins.
    if (!(await this.invitations.markAccepted(trx, invitation.id, userId, now))) {
      throw new InvitationUnavailableError('invitation_used', 'This invitation has already been used');
    }
    if (await this.organizations.findMembership(trx, invitation.organizationId, userId)) {
      throw new ConflictError('You are already a member of this organization', 'already_member');
    }
    const membership: Membership = {
      id: newId(),
      organizationId: invitation.organizationId,
      userId,
      role: invitation.role,
      createdAt: now,
      updatedAt: now,
      lastAccessedAt: null,
    };
    await this.organizations.insertMembership(trx, membership);
    await this.audit.record(trx, actor, {
      organizationId: invitation.organizationId,
      action: 'invitation.accepted',
      resourceType: 'invitation',
      resourceId: invitation.id,
      before: { status: 'pending' },
      after: { status: 'accepted', userId },
    });
    await this.audit.record(trx, actor, {
      organizationId: invitation.organizationId,
      action: 'member.added',
      resourceType: 'member',
      resourceId: userId,
      after: { userId, email: invitation.email, role: invitation.role, invitationId: invitation.id },
    });
    return membership;
  }

  private async enqueueMail(trx: Transaction<Database>, actor: Actor, invitation: Invitation, roleName: string, token: string): Promise<number> {
    const org = (await this.organizations.findById(trx, invitation.organizationId))!;
    const inviter = actor.userId === null ? null : await this.users.findById(trx, actor.userId);
    const who = inviter ? (inviter.name ? `${inviter.name} (${inviter.email})` : inviter.email) : 'An administrator';
    const link = `${this.config.publicUrl}/invitations/accept?token=${encodeURIComponent(token)}`;
    const text = [
      `${who} invited you to join "${org.name}" on Switchyard as ${roleName}.`,
      '',
      `Accept the invitation: ${link}`,
      '',
      `The link works once and expires at ${invitation.expiresAt}.`,
      `(API: POST ${this.config.publicUrl}/api/v1/invitations/accept with {"token": "${token}"}.)`,
    ].join('\n');
    return this.mailer.enqueue(trx, {
      organizationId: invitation.organizationId,
      to: invitation.email,
      subject: `You are invited to join ${org.name} on Switchyard`,
      text,
    });
  }
}
