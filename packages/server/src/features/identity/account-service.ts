import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../../config.js';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OrganizationService } from '../organizations/organization-service.js';
import type { MembershipWithOrganization } from '../organizations/organization-store.js';
import { emailProblem, normalizeEmail } from './email.js';
import type { PendingDeletionLookup, PendingDeletionNotice } from './pending-deletion.js';
import { dummyPasswordHash, hashPassword, needsRehash, passwordProblem, scryptParamsFor, verifyPassword, type ScryptParams } from './password.js';
import type { CallerStore, SessionStore } from './session-store.js';
import { hashSecret, newRefreshToken, refreshTokenTtlSeconds, type TokenService } from './token-service.js';
import { withoutPassword, type PlatformRole, type User, type UserStore } from './user-store.js';

/** What it takes to create an account (sign-up, bootstrap admin, accepting an invitation). */
export interface NewAccount {
  email: string;
  /** Null for an account that will only sign in through an external identity provider. */
  password: string | null;
  name?: string | null;
  emailVerified?: boolean;
  platformRole?: PlatformRole | null;
}

/** A validated account with its password hashed, ready to insert (see `prepareAccount`). */
export interface PreparedAccount {
  readonly prepared: true;
  readonly id: number;
  readonly email: string;
  readonly name: string | null;
  readonly passwordHash: string | null;
  readonly emailVerified: boolean;
  readonly platformRole: PlatformRole | null;
}

/** Options for `createAccount`. */
export interface CreateAccountOptions {
  /** Who creates it, for the audit trail; defaults to the new user themself (self sign-up). */
  actor?: Actor;
  /** Run inside the caller's transaction (e.g. create the user and its membership atomically). */
  trx?: Transaction<Database>;
}

/** Self-service sign-up. */
export interface SignupInput {
  email: string;
  password: string;
  name?: string | null;
  organizationName?: string | null;
}

/** A signed-in session: the user, where they belong, and the tokens to act as them. */
export interface SignedIn {
  user: User;
  /** Oldest first: the first is the canonical organisation. */
  memberships: MembershipWithOrganization[];
  /** The organisation the tokens act in; null when the user belongs to none. */
  activeOrganizationId: number | null;
  sessionId: number;
  accessToken: string;
  refreshToken: string;
  /** Access-token lifetime in seconds. */
  expiresIn: number;
  /** Login only: the soonest pending deletion of the account or of an organisation of the user (null: none). */
  pendingDeletion?: PendingDeletionNotice | null;
}

/** The account behind a request, for `GET /auth/me`. */
export interface AccountOverview {
  user: User;
  memberships: MembershipWithOrganization[];
  activeOrganizationId: number | null;
  activeRole: string | null;
  /** Effective platform role (configured super users included). */
  platformRole: PlatformRole | null;
}

const nameMax = 200;
const invalidCredentials = () => new UnauthorizedError('Invalid email or password', 'invalid_credentials');
const invalidRefresh = (message = 'The refresh token is invalid or has expired') => new UnauthorizedError(message, 'invalid_token');


function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

function addSeconds(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}

function cleanName(raw: string | null | undefined): string | null {
  const name = raw?.trim() ?? '';
  return name.length > 0 ? name : null;
}

/**
 * Accounts and sign-in: creating accounts, signing up, logging in, refreshing, switching
 * organisation, logging out, and turning an access token into the request's `Actor`.
 */
export class AccountService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly users: UserStore,
    private readonly sessions: SessionStore,
    private readonly callers: CallerStore,
    private readonly tokens: TokenService,
    private readonly organizations: OrganizationService,
    private readonly audit: AuditStore,
    private readonly config: Pick<Config, 'signup' | 'superUserEmails' | 'passwordHashCost'>,
  ) {
    this.hashParams = scryptParamsFor(config.passwordHashCost);
    this.dummyHash = dummyPasswordHash(this.hashParams);
  }

  private readonly hashParams: ScryptParams;
  // Unknown emails are "checked" against this so that they take as long as a wrong password does.
  private readonly dummyHash: string;

  private pendingDeletions: PendingDeletionLookup | null = null;

  /** Where login learns of pending deletions (the account-deletion slice, wired in composition). */
  usePendingDeletions(lookup: PendingDeletionLookup): void {
    this.pendingDeletions = lookup;
  }

  /**
   * Validates and hashes a new account without touching the database. Call it before opening a
   * transaction that will `createAccount(prepared, {trx})`: hashing takes ~100 ms, and on SQLite
   * an open transaction holds the only connection. `prepared.id` is the future user id.
   * Throws `ValidationError` (fields `email`, `password`, `name`, `platformRole`).
   */
  async prepareAccount(input: NewAccount): Promise<PreparedAccount> {
    const email = normalizeEmail(input.email);
    const name = cleanName(input.name);
    const fields: Record<string, string> = {};
    const emailIssue = emailProblem(email);
    if (emailIssue) fields.email = emailIssue;
    if (input.password !== null) {
      const passwordIssue = passwordProblem(input.password);
      if (passwordIssue) fields.password = passwordIssue;
    }
    if (name && name.length > nameMax) fields.name = `must be at most ${nameMax} characters`;
    const superUser = this.config.superUserEmails.includes(email);
    if (input.platformRole === 'super_user' && !superUser) {
      fields.platformRole = 'super_user is reserved for emails listed in ADMIN_SUPER_USER_EMAILS';
    }
    if (Object.keys(fields).length > 0) throw new ValidationError('The account details are invalid', fields);
    return {
      prepared: true,
      id: newId(),
      email,
      name,
      passwordHash: input.password === null ? null : await hashPassword(input.password, this.hashParams),
      emailVerified: input.emailVerified ?? false,
      platformRole: superUser ? 'super_user' : (input.platformRole ?? null),
    };
  }

  /**
   * Creates an account (from raw input, or from `prepareAccount`'s result). Throws
   * `ValidationError` or `ConflictError('email_taken')`. Does not sign in or create an
   * organisation. Audited as `user.created`.
   */
  async createAccount(input: NewAccount | PreparedAccount, options: CreateAccountOptions = {}): Promise<User> {
    const p = 'prepared' in input ? input : await this.prepareAccount(input);
    const { id, email, name } = p;
    const now = nowIso();
    const user = {
      id,
      email,
      name,
      emailVerified: p.emailVerified,
      platformRole: p.platformRole,
      status: 'active' as const,
      createdAt: now,
      updatedAt: now,
      lastLoginAt: null,
      passwordHash: p.passwordHash,
    };
    const actor = options.actor ?? this.userActor(id, null, null);
    const work = async (trx: Transaction<Database>) => {
      if (await this.users.findByEmailWithPassword(trx, email)) throw this.emailTaken();
      await this.users.insert(trx, user);
      await this.audit.record(trx, actor, {
        organizationId: null,
        action: 'user.created',
        resourceType: 'user',
        resourceId: id,
        after: { email, name, platformRole: user.platformRole },
      });
    };
    try {
      if (options.trx) await work(options.trx);
      else await this.db.transaction().execute(work);
    } catch (err) {
      // Two sign-ups racing for one email: the unique index decides.
      if (isUniqueViolation(err)) throw this.emailTaken();
      throw err;
    }
    return withoutPassword(user);
  }

  private emailTaken(): ConflictError {
    return new ConflictError('An account with this email already exists', 'email_taken');
  }

  /**
   * Self-service sign-up: the account, its own organisation (the user its admin) and a session.
   * Refused with `ForbiddenError('signup_disabled')` when sign-up is invite-only.
   */
  async signup(input: SignupInput): Promise<SignedIn> {
    this.assertSignupOpen();
    const prepared = await this.prepareAccount({ email: input.email, password: input.password, name: input.name ?? null, emailVerified: false });
    return this.signupPrepared(prepared, { organizationName: input.organizationName ?? null });
  }

  private assertSignupOpen(): void {
    if (this.config.signup !== 'open') {
      throw new ForbiddenError('Sign-up is by invitation only on this server', 'signup_disabled');
    }
  }

  /**
   * Sign-up from a prepared account (see `prepareAccount`): the account, its own organisation
   * (the user its admin; named "<name>'s organization" unless given) and a session. `alongside`
   * runs in the same transaction (e.g. linking an external identity), so a sign-up that fails
   * leaves nothing behind. Refused with `ForbiddenError('signup_disabled')` when invite-only.
   */
  async signupPrepared(
    prepared: PreparedAccount,
    options: { organizationName?: string | null; alongside?: (trx: Transaction<Database>, user: User) => Promise<void> } = {},
  ): Promise<SignedIn> {
    this.assertSignupOpen();
    const orgName = cleanName(options.organizationName) ?? this.defaultOrganizationName(prepared.name, prepared.email);
    const user = await this.db.transaction().execute(async (trx) => {
      const created = await this.createAccount(prepared, { trx });
      const self = this.userActor(created.id, null, null);
      await this.organizations.createWithOwner(self, { name: orgName, primaryEmail: prepared.email, contactName: prepared.name }, created.id, trx);
      await options.alongside?.(trx, created);
      return created;
    });
    const memberships = await this.organizations.membershipsOf(user.id);
    return this.startSession(user, memberships, memberships[0]?.organizationId ?? null);
  }

  /**
   * Starts a session for an account whose holder proved who they are another way (a verified
   * external ID token): no password is checked. A deactivated or missing account is refused with
   * `UnauthorizedError('invalid_credentials')`, as login refuses it.
   */
  async signInProven(userId: number): Promise<SignedIn> {
    const found = await this.users.findById(this.db, userId);
    if (!found || found.status !== 'active') throw invalidCredentials();
    const now = nowIso();
    await this.users.recordLogin(this.db, found.id, now);
    const user = { ...found, lastLoginAt: now };
    const memberships = await this.organizations.membershipsOf(user.id);
    return this.startSession(user, memberships, memberships[0]?.organizationId ?? null);
  }

  private defaultOrganizationName(name: string | null, email: string): string {
    const who = (name ?? email.slice(0, email.lastIndexOf('@'))).slice(0, 180);
    return `${who}'s organization`;
  }

  /**
   * Email + password sign-in into the user's canonical (oldest) organisation. A wrong password,
   * an unknown email, a password-less or a deactivated account all get the same
   * `UnauthorizedError('invalid_credentials')`, after the same amount of hashing.
   */
  async login(input: { email: string; password: string }): Promise<SignedIn> {
    const email = normalizeEmail(input.email);
    const found = await this.users.findByEmailWithPassword(this.db, email);
    const ok = await verifyPassword(input.password, found?.passwordHash ?? this.dummyHash);
    if (!found || !found.passwordHash || !ok || found.status !== 'active') throw invalidCredentials();
    const now = nowIso();
    if (needsRehash(found.passwordHash, this.hashParams)) {
      await this.users.setPasswordHash(this.db, found.id, await hashPassword(input.password, this.hashParams), now);
    }
    await this.users.recordLogin(this.db, found.id, now);
    const user = { ...withoutPassword(found), lastLoginAt: now };
    const memberships = await this.organizations.membershipsOf(user.id);
    const signedIn = await this.startSession(user, memberships, memberships[0]?.organizationId ?? null);
    // Told at every login, so nobody is surprised when the grace period ends.
    return { ...signedIn, pendingDeletion: (await this.pendingDeletions?.pendingFor(user.id)) ?? null };
  }

  private async startSession(user: User, memberships: MembershipWithOrganization[], organizationId: number | null): Promise<SignedIn> {
    const now = nowIso();
    const sessionId = newId();
    const refreshToken = newRefreshToken();
    const expiresAt = addSeconds(now, refreshTokenTtlSeconds);
    await this.db.transaction().execute(async (trx) => {
      await this.sessions.insertSession(trx, {
        id: sessionId,
        userId: user.id,
        organizationId,
        createdAt: now,
        expiresAt,
        revokedAt: null,
        revokedReason: null,
      });
      await this.sessions.insertRefreshToken(trx, {
        id: newId(),
        sessionId,
        tokenHash: hashSecret(refreshToken),
        createdAt: now,
        expiresAt,
        usedAt: null,
      });
    });
    const access = await this.tokens.issueAccessToken({ userId: user.id, sessionId, organizationId });
    return { user, memberships, activeOrganizationId: organizationId, sessionId, accessToken: access.token, refreshToken, expiresIn: access.expiresIn };
  }

  /**
   * Exchanges a refresh token for new tokens, replacing it. Presenting a token that was already
   * exchanged revokes its whole session (someone else has a copy), and every token of it stops
   * working.
   */
  async refresh(refreshToken: string): Promise<SignedIn> {
    const record = await this.sessions.findRefreshTokenByHash(this.db, hashSecret(refreshToken));
    if (!record) throw invalidRefresh();
    const session = await this.sessions.findSession(this.db, record.sessionId);
    if (!session || session.revokedAt !== null) throw invalidRefresh('The session has ended; sign in again');
    const now = nowIso();
    if (record.usedAt !== null || !(await this.sessions.markRefreshTokenUsed(this.db, record.id, now))) {
      await this.sessions.revokeSession(this.db, session.id, 'reuse_detected', now);
      throw invalidRefresh('The refresh token was already used; the session has been ended for safety');
    }
    if (record.expiresAt <= now || session.expiresAt <= now) throw invalidRefresh();
    const user = await this.users.findById(this.db, session.userId);
    if (!user || user.status !== 'active') throw invalidRefresh('The account is not active');

    const memberships = await this.organizations.membershipsOf(user.id);
    // Keep the session's organisation while the user still belongs to it.
    const organizationId = memberships.some((m) => m.organizationId === session.organizationId)
      ? session.organizationId
      : (memberships[0]?.organizationId ?? null);
    const next = newRefreshToken();
    const expiresAt = addSeconds(now, refreshTokenTtlSeconds);
    await this.db.transaction().execute(async (trx) => {
      await this.sessions.insertRefreshToken(trx, {
        id: newId(),
        sessionId: session.id,
        tokenHash: hashSecret(next),
        createdAt: now,
        expiresAt,
        usedAt: null,
      });
      await this.sessions.extendSession(trx, session.id, expiresAt);
      if (organizationId !== session.organizationId) await this.sessions.setSessionOrganization(trx, session.id, organizationId);
    });
    const access = await this.tokens.issueAccessToken({ userId: user.id, sessionId: session.id, organizationId });
    return { user, memberships, activeOrganizationId: organizationId, sessionId: session.id, accessToken: access.token, refreshToken: next, expiresIn: access.expiresIn };
  }

  /**
   * New tokens acting in another organisation the user belongs to (`NotFoundError` otherwise).
   * The session's earlier refresh tokens are retired: only the new one continues the chain.
   */
  async switchOrganization(actor: Actor, organizationId: number): Promise<SignedIn> {
    const { userId, sessionId } = this.requireSessionUser(actor);
    const user = await this.users.findById(this.db, userId);
    if (!user) throw new UnauthorizedError('The account no longer exists', 'invalid_token');
    const memberships = await this.organizations.membershipsOf(userId);
    if (!memberships.some((m) => m.organizationId === organizationId)) throw new NotFoundError('Organization');
    const now = nowIso();
    const next = newRefreshToken();
    const expiresAt = addSeconds(now, refreshTokenTtlSeconds);
    await this.db.transaction().execute(async (trx) => {
      await this.sessions.retireRefreshTokensOfSession(trx, sessionId, now);
      await this.sessions.insertRefreshToken(trx, {
        id: newId(),
        sessionId,
        tokenHash: hashSecret(next),
        createdAt: now,
        expiresAt,
        usedAt: null,
      });
      await this.sessions.setSessionOrganization(trx, sessionId, organizationId);
      await this.sessions.extendSession(trx, sessionId, expiresAt);
    });
    const access = await this.tokens.issueAccessToken({ userId, sessionId, organizationId });
    return { user, memberships, activeOrganizationId: organizationId, sessionId, accessToken: access.token, refreshToken: next, expiresIn: access.expiresIn };
  }

  /** Ends the caller's session: its refresh tokens and access tokens stop working at once. */
  async logout(actor: Actor): Promise<void> {
    if (actor.kind !== 'user' || actor.userId === null) throw new UnauthorizedError();
    // A user signed in without a session of ours (an external ID token) has nothing to end here.
    if (actor.sessionId === null) return;
    await this.sessions.revokeSession(this.db, actor.sessionId, 'logout', nowIso());
  }

  /** The calling user and their memberships. */
  async me(actor: Actor): Promise<AccountOverview> {
    if (actor.kind !== 'user' || actor.userId === null) throw new UnauthorizedError();
    const user = await this.users.findById(this.db, actor.userId);
    if (!user) throw new UnauthorizedError('The account no longer exists', 'invalid_token');
    const memberships = await this.organizations.membershipsOf(user.id);
    return {
      user,
      memberships,
      activeOrganizationId: actor.organizationId,
      activeRole: actor.role,
      platformRole: this.effectivePlatformRole(user.email, user.platformRole),
    };
  }

  /**
   * Turns one of our access tokens into the request's actor: verifies it, then checks — in one
   * indexed read — that the user is active, the session not revoked, and which of the requested
   * and the token's organisations the user still belongs to. `requestedOrganizationId` (from
   * `X-Tenant-ID`) wins when the user is a member; otherwise the token's organisation applies,
   * and neither when the user has left it. Throws `UnauthorizedError('invalid_token')`.
   */
  async actorForAccessToken(token: string, requestedOrganizationId: number | null): Promise<Actor> {
    const claims = await this.tokens.verifyAccessToken(token);
    const orgIds = [...new Set([claims.organizationId, requestedOrganizationId].filter((x): x is number => x !== null))];
    const state = await this.callers.load(this.db, claims.userId, claims.sessionId, orgIds);
    if (!state) throw new UnauthorizedError('The account no longer exists', 'invalid_token');
    if (state.status !== 'active') throw new UnauthorizedError('The account is deactivated', 'invalid_token');
    if (!state.session || state.session.revokedAt !== null || state.session.expiresAt <= nowIso()) {
      throw new UnauthorizedError('The session has ended; sign in again', 'invalid_token');
    }
    let organizationId: number | null = null;
    if (requestedOrganizationId !== null && state.roles.has(requestedOrganizationId)) organizationId = requestedOrganizationId;
    else if (claims.organizationId !== null && state.roles.has(claims.organizationId)) organizationId = claims.organizationId;
    const actor = this.userActor(claims.userId, organizationId, organizationId === null ? null : (state.roles.get(organizationId) ?? null));
    actor.platformRole = this.effectivePlatformRole(state.email, state.platformRole);
    actor.sessionId = claims.sessionId;
    return actor;
  }

  /** Super users are exactly the configured emails; a stored `super_user` elsewhere counts for nothing. */
  effectivePlatformRole(email: string, stored: string | null): PlatformRole | null {
    if (this.config.superUserEmails.includes(email)) return 'super_user';
    if (stored === 'viewer' || stored === 'admin') return stored;
    return null;
  }

  private userActor(userId: number, organizationId: number | null, role: string | null): Actor {
    return { kind: 'user', userId, credentialId: null, organizationId, role, platformRole: null, scopes: null, sessionId: null };
  }

  private requireSessionUser(actor: Actor): { userId: number; sessionId: number } {
    if (actor.kind !== 'user' || actor.userId === null) throw new UnauthorizedError();
    if (actor.sessionId === null) {
      throw new ForbiddenError('Switching organisation needs a Switchyard session token', 'session_required');
    }
    return { userId: actor.userId, sessionId: actor.sessionId };
  }
}
