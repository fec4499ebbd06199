import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { startLocalOidcIssuer, type LocalOidcIssuer } from '../../testing/local-oidc-issuer.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';
import { forgotPasswordFloorMs, maxResetMailsPerHour } from '../../features/identity/password-service.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe.each(testDialects())('passwords on %s', (dialect) => {
  let t: TestApp;
  let idp: LocalOidcIssuer;
  beforeAll(async () => {
    idp = await startLocalOidcIssuer();
    t = await createTestApp(dialect, { ...idp.env(), SWITCHYARD_PUBLIC_URL: 'https://flags.example.com' });
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  const db = () => t.database.handle.db;
  const post = (url: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) => t.app.inject({ method: 'POST', url, payload, headers });
  const mailsTo = (email: string) => db().selectFrom('mail_outbox').selectAll().where('to_address', '=', email).orderBy('created_at').execute();
  const login = (email: string, password: string) => post('/api/v1/auth/login', { email, password });
  const me = (token: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: authHeader(token) });
  /** Asks for a reset and reads the token from the mailed link. */
  const resetToken = async (email: string): Promise<string> => {
    const res = await post('/api/v1/auth/forgot-password', { email });
    expect(res.statusCode).toBe(200);
    const mail = (await mailsTo(email)).at(-1);
    const token = mail && /https:\/\/flags\.example\.com\/reset-password\?token=([A-Za-z0-9_-]+)/.exec(mail.text_body)?.[1];
    if (!token) throw new Error(`no reset mail to ${email}`);
    return token;
  };

  describe('POST /api/v1/auth/forgot-password', () => {
    it('answers the same 200 for an account and for no account, and mails a link only to the account', async () => {
      const user = await signUp(t.app);
      const timed = async (email: string) => {
        const started = performance.now();
        const res = await post('/api/v1/auth/forgot-password', { email });
        return { res, ms: performance.now() - started };
      };
      const { res: known, ms: knownMs } = await timed(`  ${user.email.toUpperCase()} `);
      const { res: unknown, ms: unknownMs } = await timed('nobody-here@example.com');
      // Neither answers before the floor, so finding no account is not faster than mailing one.
      expect(knownMs).toBeGreaterThanOrEqual(forgotPasswordFloorMs - 5);
      expect(unknownMs).toBeGreaterThanOrEqual(forgotPasswordFloorMs - 5);
      expect(known.statusCode).toBe(200);
      expect(unknown.statusCode).toBe(200);
      expect(unknown.body).toBe(known.body);
      expect(known.json()).toEqual({ success: true, message: expect.any(String) });
      expect(known.headers['cache-control']).toBe('no-store');
      expect(await mailsTo('nobody-here@example.com')).toHaveLength(0);
      const mails = await mailsTo(user.email);
      expect(mails).toHaveLength(1);
      expect(mails[0]!.subject).toMatch(/reset/i);
      const token = /token=([A-Za-z0-9_-]+)/.exec(mails[0]!.text_body)![1]!;
      // Stored hashed, expiring in an hour.
      const row = await db().selectFrom('password_resets').selectAll().where('token_hash', '=', sha256(token)).executeTakeFirstOrThrow();
      expect(row.user_id).toBe(user.userId);
      const ttl = Date.parse(row.expires_at) - Date.parse(row.created_at);
      expect(ttl).toBe(3600_000);
      expect(JSON.stringify(await db().selectFrom('password_resets').selectAll().execute())).not.toContain(token);
    });

    it('a malformed email is 422; an absent one too', async () => {
      expect((await post('/api/v1/auth/forgot-password', { email: 'not-an-email' })).statusCode).toBe(422);
      expect((await post('/api/v1/auth/forgot-password', {})).statusCode).toBe(422);
    });

    it(`sends at most ${maxResetMailsPerHour} mails an hour to one account, still answering 200`, async () => {
      const user = await signUp(t.app);
      for (let i = 0; i < maxResetMailsPerHour + 2; i++) {
        expect((await post('/api/v1/auth/forgot-password', { email: user.email })).statusCode).toBe(200);
      }
      expect(await mailsTo(user.email)).toHaveLength(maxResetMailsPerHour);
    });
  });

  describe('POST /api/v1/auth/reset-password', () => {
    it('sets the new password once, ends every session, and is audited', async () => {
      const user = await signUp(t.app);
      const other = await login(user.email, user.password);
      const token = await resetToken(user.email);
      const res = await post('/api/v1/auth/reset-password', { token, newPassword: 'brand-new-password' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ success: true });
      expect((await login(user.email, user.password)).statusCode).toBe(401);
      expect((await login(user.email, 'brand-new-password')).statusCode).toBe(200);
      expect((await me(user.accessToken)).statusCode).toBe(401);
      expect((await me(other.json().data.accessToken)).statusCode).toBe(401);
      const refresh = await post('/api/v1/auth/refresh-token', { refreshToken: user.refreshToken });
      expect(refresh.statusCode).toBe(401);
      const again = await post('/api/v1/auth/reset-password', { token, newPassword: 'another-password' });
      expect(again.statusCode).toBe(404);
      expect(again.json()).toMatchObject({ code: 'reset_token_used' });
      const audit = await db().selectFrom('audit_events').select(['action', 'after']).where('resource_id', '=', String(user.userId)).where('action', '=', 'user.password_reset').execute();
      expect(audit).toHaveLength(1);
      expect(JSON.parse(audit[0]!.after!)).toEqual({ sessionsEnded: 2 });
      const verified = await db().selectFrom('users').select('email_verified').where('id', '=', user.userId).executeTakeFirstOrThrow();
      expect(verified.email_verified).toBe(1);
    });

    it('refuses an expired token, an unknown one, a replaced one, and a short password (which keeps the token usable)', async () => {
      const user = await signUp(t.app);
      const first = await resetToken(user.email);
      const second = await resetToken(user.email);
      const replaced = await post('/api/v1/auth/reset-password', { token: first, newPassword: 'brand-new-password' });
      expect(replaced.statusCode).toBe(404);
      expect(replaced.json().code).toBe('reset_token_used');
      const short = await post('/api/v1/auth/reset-password', { token: second, newPassword: 'short' });
      expect(short.statusCode).toBe(422);
      expect(short.json().errors).toHaveProperty('newPassword');
      const unknown = await post('/api/v1/auth/reset-password', { token: 'syrp_nonsense', newPassword: 'brand-new-password' });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().code).toBe('reset_token_invalid');
      await db().updateTable('password_resets').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('token_hash', '=', sha256(second)).execute();
      const expired = await post('/api/v1/auth/reset-password', { token: second, newPassword: 'brand-new-password' });
      expect(expired.statusCode).toBe(404);
      expect(expired.json().code).toBe('reset_token_expired');
      expect((await login(user.email, user.password)).statusCode).toBe(200);
    });

    it('one token, two concurrent resets: exactly one wins', async () => {
      const user = await signUp(t.app);
      const token = await resetToken(user.email);
      const [a, b] = await Promise.all([
        post('/api/v1/auth/reset-password', { token, newPassword: 'password-number-a' }),
        post('/api/v1/auth/reset-password', { token, newPassword: 'password-number-b' }),
      ]);
      expect([a.statusCode, b.statusCode].sort()).toEqual([200, 404]);
      const winner = a.statusCode === 200 ? 'password-number-a' : 'password-number-b';
      expect((await login(user.email, winner)).statusCode).toBe(200);
    });
  });

  describe('POST /api/v1/auth/update-password', () => {
    let user: SignedUpUser;
    beforeAll(async () => {
      user = await signUp(t.app);
    });

    it('needs a signed-in caller (401 before the body is looked at)', async () => {
      const res = await post('/api/v1/auth/update-password', {});
      expect(res.statusCode).toBe(401);
    });

    it('a wrong current password is 403 invalid_current_password and changes nothing; a short new one 422', async () => {
      const wrong = await post('/api/v1/auth/update-password', { currentPassword: 'not-my-password', newPassword: 'newpassword123' }, authHeader(user.accessToken));
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json()).toMatchObject({ code: 'invalid_current_password' });
      const short = await post('/api/v1/auth/update-password', { currentPassword: user.password, newPassword: 'short' }, authHeader(user.accessToken));
      expect(short.statusCode).toBe(422);
      expect(short.json().errors).toHaveProperty('newPassword');
      expect((await login(user.email, user.password)).statusCode).toBe(200);
    });

    it('changes it, answers {success: true}, keeps the caller’s session and ends the others; audited', async () => {
      const otherSession = (await login(user.email, user.password)).json().data;
      const res = await post('/api/v1/auth/update-password', { currentPassword: user.password, newPassword: 'newpassword123' }, authHeader(user.accessToken));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ success: true });
      expect((await me(user.accessToken)).statusCode).toBe(200);
      expect((await me(otherSession.accessToken)).statusCode).toBe(401);
      expect((await post('/api/v1/auth/refresh-token', { refreshToken: otherSession.refreshToken })).statusCode).toBe(401);
      expect((await post('/api/v1/auth/refresh-token', { refreshToken: user.refreshToken })).statusCode).toBe(200);
      expect((await login(user.email, user.password)).statusCode).toBe(401);
      expect((await login(user.email, 'newpassword123')).statusCode).toBe(200);
      const audit = await db().selectFrom('audit_events').select('after').where('action', '=', 'user.password_changed').where('resource_id', '=', String(user.userId)).executeTakeFirstOrThrow();
      expect(JSON.parse(audit.after!).sessionsEnded).toBeGreaterThanOrEqual(1);
    });

    it('an account without a password (external sign-in only) is told to use forgot-password', async () => {
      const idToken = await idp.sign(idp.person());
      const signedIn = await post('/api/v1/auth/login', { idToken });
      expect(signedIn.statusCode).toBe(200);
      const res = await post('/api/v1/auth/update-password', { currentPassword: 'anything-at-all', newPassword: 'newpassword123' }, authHeader(signedIn.json().data.accessToken));
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'password_not_set' });
    });

    it('a machine token cannot change a password', async () => {
      const owner = await signUp(t.app);
      const created = await post('/api/v1/oauth/clients', { name: 'robot', scopes: ['projects:read'] }, authHeader(owner.accessToken, owner.organizationId));
      const { clientId, clientSecret } = created.json();
      const tokenRes = await t.app.inject({
        method: 'POST',
        url: '/api/v1/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
      });
      const res = await post('/api/v1/auth/update-password', { currentPassword: 'x', newPassword: 'newpassword123' }, authHeader(tokenRes.json().access_token));
      expect(res.statusCode).toBe(401);
    });
  });
});
