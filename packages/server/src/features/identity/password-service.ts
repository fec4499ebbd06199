import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { Mailer } from '../mail/mailer.js';
import { emailProblem, normalizeEmail } from './email.js';
import { hashPassword, passwordProblem, scryptParamsFor, verifyPassword } from './password.js';
import type { PasswordResetStore } from './password-reset-store.js';
import type { SessionStore } from './session-store.js';
import { hashSecret } from './token-service.js';
import type { UserStore } from './user-store.js';

/** A reset link works for one hour, once. */
export const passwordResetTtlSeconds = 3600;
/** Reset mails one account is sent per hour at most; further requests answer the same but send nothing. */
export const maxResetMailsPerHour = 5;
/**
 * `forgot` never resolves sooner than this: writing the token and the mail (fsync'd on SQLite)
 * takes measurably longer than finding no account, and the difference would tell who has one.
 */
export const forgotPasswordFloorMs = 250;

const selfActor = (userId: number): Actor => ({ kind: 'user', userId, credentialId: null, organizationId: null, role: null, platformRole: null, scopes: null, sessionId: null });

/**
 * Passwords of existing accounts: the forgot / reset pair (a single-use, expiring link mailed to
 * the account's address; only the token's SHA-256 is stored) and changing one's own password.
 * Both end sessions: a reset ends every session of the account, a change every session but the
 * caller's. Every change is audited.
 */
export class PasswordService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly users: UserStore,
    private readonly sessions: SessionStore,
    private readonly resets: PasswordResetStore,
    private readonly mailer: Mailer,
    private readonly audit: AuditStore,
    private readonly config: Pick<Config, 'publicUrl' | 'passwordHashCost'>,
    private readonly forgotFloorMs = forgotPasswordFloorMs,
  ) {}

  /**
   * Mails a reset link when the email belongs to an active account; otherwise does nothing.
   * Resolves the same way either way, and not before `forgotPasswordFloorMs`, so the caller
   * learns nothing about which accounts exist (delivery is not awaited, so SMTP time does not
   * tell either). A new link replaces older ones; past `maxResetMailsPerHour` in an hour,
   * nothing more is sent.
   */
  async forgot(rawEmail: string): Promise<void> {
    const email = normalizeEmail(rawEmail);
    const issue = emailProblem(email);
    if (issue) throw new ValidationError('The email is invalid', { email: issue });
    const started = Date.now();
    try {
      await this.sendResetLink(email);
    } finally {
      const wait = this.forgotFloorMs - (Date.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private async sendResetLink(email: string): Promise<void> {
    const user = await this.users.findByEmailWithPassword(this.db, email);
    if (!user || user.status !== 'active') return;
    const token = `syrp_${randomBytes(32).toString('base64url')}`;
    const now = nowIso();
    const mailId = await this.db.transaction().execute(async (trx) => {
      const hourAgo = new Date(Date.parse(now) - 3600_000).toISOString();
      if ((await this.resets.countSince(trx, user.id, hourAgo)) >= maxResetMailsPerHour) return null;
      await this.resets.retireAllOfUser(trx, user.id, now);
      await this.resets.insert(trx, {
        id: newId(),
        userId: user.id,
        tokenHash: hashSecret(token),
        createdAt: now,
        expiresAt: new Date(Date.parse(now) + passwordResetTtlSeconds * 1000).toISOString(),
        usedAt: null,
      });
      await this.audit.record(trx, selfActor(user.id), { organizationId: null, action: 'user.password_reset_requested', resourceType: 'user', resourceId: user.id });
      const link = `${this.config.publicUrl}/reset-password?token=${token}`;
      return this.mailer.enqueue(trx, {
        organizationId: null,
        to: user.email,
        subject: 'Reset your Switchyard password',
        text: [
          'Someone (hopefully you) asked to reset the password of your Switchyard account.',
          '',
          `Choose a new password here within the next hour: ${link}`,
          '',
          'The link works once. If you did not ask for it, ignore this mail: your password stays as it is.',
        ].join('\n'),
      });
    });
    // Never throws (failures are recorded on the outbox row); not awaited, see above.
    if (mailId !== null) void this.mailer.deliver([mailId]);
  }

  /**
   * Sets a new password with a mailed reset token: once, within the hour, for an active account.
   * Every session of the account ends (reason `password_changed`), and the mail having reached
   * its owner counts as the email being verified. An unknown token is 404 `reset_token_invalid`,
   * a used one `reset_token_used`, an expired one `reset_token_expired`.
   */
  async reset(token: string, newPassword: string): Promise<void> {
    const issue = passwordProblem(newPassword);
    if (issue) throw new ValidationError('The new password is invalid', { newPassword: issue });
    // The token is looked up before any hashing, so guessing tokens costs us one indexed read.
    const found = await this.resets.findByHash(this.db, hashSecret(token));
    if (!found) throw new NotFoundError('Password reset', 'reset_token_invalid');
    if (found.usedAt !== null) throw this.used();
    if (found.expiresAt <= nowIso()) throw new NotFoundError('Password reset', 'reset_token_expired');
    const passwordHash = await hashPassword(newPassword, scryptParamsFor(this.config.passwordHashCost));
    await this.db.transaction().execute(async (trx) => {
      const now = nowIso();
      if (!(await this.resets.markUsed(trx, found.id, now))) throw this.used();
      const user = await this.users.findById(trx, found.userId);
      if (!user || user.status !== 'active') throw new NotFoundError('Password reset', 'reset_token_invalid');
      await this.users.setPasswordHash(trx, user.id, passwordHash, now);
      if (!user.emailVerified) await this.users.setEmailVerified(trx, user.id, now);
      await this.resets.retireAllOfUser(trx, user.id, now);
      const ended = await this.sessions.revokeSessionsOfUser(trx, user.id, 'password_changed', now);
      await this.audit.record(trx, selfActor(user.id), {
        organizationId: null,
        action: 'user.password_reset',
        resourceType: 'user',
        resourceId: user.id,
        after: { sessionsEnded: ended },
      });
    });
  }

  private used(): NotFoundError {
    return new NotFoundError('Password reset', 'reset_token_used');
  }

  /**
   * Changes the caller's password after checking the current one: a wrong one is 403
   * `invalid_current_password`, an account without a password 403 `password_not_set` (use
   * forgot-password to set one). Every other session of the user ends; the caller's stays (a
   * caller without a Switchyard session — an external ID token — ends them all).
   */
  async update(actor: Actor, currentPassword: string, newPassword: string): Promise<{ sessionsEnded: number }> {
    if (actor.kind !== 'user' || actor.userId === null) throw new UnauthorizedError('This endpoint needs a user access token', 'unauthorized');
    const issue = passwordProblem(newPassword);
    if (issue) throw new ValidationError('The new password is invalid', { newPassword: issue });
    const user = await this.users.findById(this.db, actor.userId);
    if (!user) throw new UnauthorizedError('The account no longer exists', 'invalid_token');
    const stored = (await this.users.findByEmailWithPassword(this.db, user.email))?.passwordHash ?? null;
    if (stored === null) throw new ForbiddenError('This account has no password yet: set one through forgot-password', 'password_not_set');
    if (!(await verifyPassword(currentPassword, stored))) throw new ForbiddenError('The current password is wrong', 'invalid_current_password');
    const passwordHash = await hashPassword(newPassword, scryptParamsFor(this.config.passwordHashCost));
    const sessionId = actor.sessionId;
    return this.db.transaction().execute(async (trx) => {
      const now = nowIso();
      await this.users.setPasswordHash(trx, user.id, passwordHash, now);
      await this.resets.retireAllOfUser(trx, user.id, now);
      const sessionsEnded = sessionId === null
        ? await this.sessions.revokeSessionsOfUser(trx, user.id, 'password_changed', now)
        : await this.sessions.revokeOtherSessionsOfUser(trx, user.id, sessionId, 'password_changed', now);
      await this.audit.record(trx, actor, {
        organizationId: null,
        action: 'user.password_changed',
        resourceType: 'user',
        resourceId: user.id,
        after: { sessionsEnded },
      });
      return { sessionsEnded };
    });
  }
}
