import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, UnauthorizedError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { AccountService, SignedIn } from './account-service.js';
import { normalizeEmail } from './email.js';
import type { ExternalIdentityStore } from './external-identity-store.js';
import type { IdTokenVerifier, VerifiedIdToken } from './id-token-verifier.js';
import { passwordProblem } from './password.js';
import type { SessionStore } from './session-store.js';
import type { User, UserStore } from './user-store.js';

/** The federated providers IntelliToggle names (`/auth/signin/{provider}`). */
export const signInProviders = ['google', 'github', 'microsoft'] as const;
export type SignInProvider = (typeof signInProviders)[number];

/** A sign-in (or sign-up, or login) with an external ID token. */
export interface IdTokenSignInInput {
  idToken: string;
  /** Which `/signin/{provider}` was used; null for login and signup. */
  provider: SignInProvider | null;
  /** Signup only: must be the token's email when given. */
  email?: string | null;
  /** Signup only: becomes the new account's Switchyard password (at least 8 characters). */
  password?: string | null;
  name?: string | null;
  organizationName?: string | null;
}

/** The session started, and whether the account was created by this sign-in. */
export interface IdTokenSignedIn {
  signedIn: SignedIn;
  created: boolean;
}

/**
 * Sign-in with external ID tokens (any configured OIDC issuer; Firebase is a preset). The token
 * is verified by `IdTokenVerifier` (its email must be verified by the issuer), then linked to an
 * account through `external_identities` (issuer + subject): an identity seen before signs in to
 * its account; a new one is linked to the account with the same (verified) email, or creates the
 * account and its own organisation as sign-up does. Every link is audited.
 *
 * Linking to an account whose email was never verified hands the account to the issuer-verified
 * owner of the address: its password is removed and its sessions end, so whoever registered the
 * address first (perhaps not its owner) keeps no way in.
 */
export class ExternalSignInService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly verifier: IdTokenVerifier,
    private readonly identities: ExternalIdentityStore,
    private readonly users: UserStore,
    private readonly sessions: SessionStore,
    private readonly accounts: AccountService,
    private readonly audit: AuditStore,
  ) {}

  /** Verifies the ID token and signs its holder in (linking or creating the account). */
  async signIn(input: IdTokenSignInInput): Promise<IdTokenSignedIn> {
    const token = await this.verifier.verify(input.idToken);
    const fields: Record<string, string> = {};
    if (input.email !== undefined && input.email !== null && normalizeEmail(input.email) !== token.email) {
      fields.email = 'must be the email of the ID token (or left out)';
    }
    if (input.password !== undefined && input.password !== null) {
      const issue = passwordProblem(input.password);
      if (issue) fields.password = issue;
    }
    if (Object.keys(fields).length > 0) throw new ValidationError('The sign-up details do not fit the ID token', fields);
    // Two first sign-ins of one identity at once: the loser of the unique index tries again and
    // finds the winner's account.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.signInOnce(token, input);
      } catch (err) {
        const raced = isUniqueViolation(err) || (err instanceof ConflictError && err.code === 'email_taken');
        if (!raced || attempt >= 3) throw err;
      }
    }
  }

  private async signInOnce(token: VerifiedIdToken, input: IdTokenSignInInput): Promise<IdTokenSignedIn> {
    const linked = await this.identities.find(this.db, token.issuer, token.subject);
    if (linked) return { signedIn: await this.accounts.signInProven(linked.userId), created: false };

    const existing = await this.users.findByEmailWithPassword(this.db, token.email);
    if (existing) {
      if (existing.status !== 'active') throw new UnauthorizedError('Invalid email or password', 'invalid_credentials');
      await this.db.transaction().execute(async (trx) => {
        const claimed = !existing.emailVerified;
        const now = nowIso();
        if (claimed) {
          await this.users.setPasswordHash(trx, existing.id, null, now);
          await this.users.setEmailVerified(trx, existing.id, now);
          await this.sessions.revokeSessionsOfUser(trx, existing.id, 'password_changed', now);
        }
        await this.link(trx, existing, token, input.provider, { claimed });
      });
      return { signedIn: await this.accounts.signInProven(existing.id), created: false };
    }

    const prepared = await this.accounts.prepareAccount({
      email: token.email,
      password: input.password ?? null,
      name: input.name ?? token.name,
      emailVerified: true,
    });
    const signedIn = await this.accounts.signupPrepared(prepared, {
      organizationName: input.organizationName ?? null,
      alongside: (trx, user) => this.link(trx, user, token, input.provider, { claimed: false }),
    });
    return { signedIn, created: true };
  }

  private async link(trx: Transaction<Database>, user: Pick<User, 'id'>, token: VerifiedIdToken, provider: SignInProvider | null, how: { claimed: boolean }): Promise<void> {
    const id = newId();
    await this.identities.insert(trx, { id, userId: user.id, issuer: token.issuer, subject: token.subject, provider, createdAt: nowIso() });
    await this.audit.record(trx, { kind: 'user', userId: user.id, credentialId: null, organizationId: null, role: null, platformRole: null, scopes: null, sessionId: null }, {
      organizationId: null,
      action: 'user.external_identity_linked',
      resourceType: 'user',
      resourceId: user.id,
      after: { issuer: token.issuer, subject: token.subject, provider, ...(how.claimed ? { passwordRemoved: true, sessionsEnded: true } : {}) },
    });
  }

  /**
   * Turns an external ID token sent as a bearer token into the request's actor: a user without
   * a Switchyard session (`sessionId: null`), acting in `requestedOrganizationId` when a member,
   * otherwise in their oldest organisation. Only identities already linked (by a sign-in) are
   * accepted: `UnauthorizedError('id_token_not_linked')` otherwise.
   */
  async actorForIdToken(token: string, requestedOrganizationId: number | null): Promise<Actor> {
    const verified = await this.verifier.verify(token);
    const state = await this.identities.callerState(this.db, verified.issuer, verified.subject);
    if (!state) {
      throw new UnauthorizedError('No account is linked to this identity yet: sign in first with POST /api/v1/auth/login and {"idToken"}', 'id_token_not_linked');
    }
    if (state.status !== 'active') throw new UnauthorizedError('The account is deactivated', 'invalid_token');
    const chosen =
      (requestedOrganizationId !== null ? state.memberships.find((m) => m.organizationId === requestedOrganizationId) : undefined) ?? state.memberships[0] ?? null;
    return {
      kind: 'user',
      userId: state.userId,
      credentialId: null,
      organizationId: chosen?.organizationId ?? null,
      role: chosen?.role ?? null,
      platformRole: this.accounts.effectivePlatformRole(state.email, state.platformRole),
      scopes: null,
      sessionId: null,
    };
  }

  /** Whether a bearer token is an external ID token for this service to judge (a JWT, not ours). */
  claims(token: string): boolean {
    return this.verifier.looksLikeJwt(token);
  }
}
