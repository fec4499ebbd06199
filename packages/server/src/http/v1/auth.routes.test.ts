import { createHash } from 'node:crypto';
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../domain/actor.js';
import { newId } from '../../domain/ids.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

const withoutInstance = (body: Record<string, unknown>) => {
  const { instance: _instance, ...rest } = body;
  return rest;
};

describe.each(testDialects())('auth routes on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  const db = () => t.database.handle.db;
  const me = (token: string, tenant?: string | number) =>
    t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: authHeader(token, tenant) });
  const refresh = (refreshToken: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh-token', payload: { refreshToken } });
  const login = (email: string, password: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });

  /** A second organisation the user administers, created through the organisation service. */
  const secondOrganization = async (u: SignedUpUser, name = 'Second') => {
    const org = await t.app.services.organizations.createWithOwner(systemActor, { name }, u.userId);
    return org.id;
  };

  describe('POST /api/v1/auth/signup', () => {
    it('creates the account and its organisation and answers the documented login body with 201', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/signup',
        payload: { email: '  Ada.Lovelace@Example.COM ', password: 'analytical-engine', name: 'Ada' },
      });
      expect(res.statusCode).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      const body = res.json();
      const d = body.data;
      expect(body).toMatchObject({ success: true, message: 'Signup successful' });
      expect(d.user).toMatchObject({ email: 'ada.lovelace@example.com', role: 'admin', name: 'Ada' });
      expect(d.user.uid).toMatch(/^usr_\d+$/);
      expect(d.user.tenant_id).toMatch(/^tenant_\d+$/);
      expect(d.subscription).toEqual({ plan: 'self-hosted', status: 'active', billingCycle: null });
      expect(d.tenants).toEqual([{ tenant_id: d.user.tenant_id, tenant_name: "Ada's organization", role: 'admin' }]);
      expect(d).toMatchObject({
        active_tenant_id: d.user.tenant_id,
        active_tenant_role: 'admin',
        canonical_tenant_id: d.user.tenant_id,
        canonical_role: 'admin',
        tokenType: 'Bearer',
        expiresIn: 3600,
      });
      expect(d.accessToken.split('.')).toHaveLength(3);
      expect(d.refreshToken).toMatch(/^syrt_[A-Za-z0-9_-]{43}$/);

      const row = await db().selectFrom('users').selectAll().where('email', '=', 'ada.lovelace@example.com').executeTakeFirstOrThrow();
      expect(`usr_${row.id}`).toBe(d.user.uid);
      // Hashed at the configured cost (the suite runs at 10; production defaults to 15).
      expect(row.password_hash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
      expect(row.password_hash).not.toContain('analytical-engine');
      // Refresh tokens are stored as their SHA-256 only.
      const stored = await db().selectFrom('refresh_tokens').select('token_hash').execute();
      expect(stored.map((r) => r.token_hash)).toContain(createHash('sha256').update(d.refreshToken).digest('hex'));
      expect(stored.map((r) => r.token_hash)).not.toContain(d.refreshToken);
    });

    it('uses the given organisation name', async () => {
      const u = await signUp(t.app, { organizationName: 'Acme Rockets' });
      const org = await db().selectFrom('organizations').selectAll().where('id', '=', u.organizationId).executeTakeFirstOrThrow();
      expect(org.name).toBe('Acme Rockets');
    });

    it('refuses a second account for the same email, whatever its case, with 409', async () => {
      const u = await signUp(t.app);
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/signup',
        payload: { email: ` ${u.email.toUpperCase()}`, password: 'another-password' },
      });
      expect(res.statusCode).toBe(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 409, code: 'email_taken' });
      const count = await db().selectFrom('users').select(db().fn.countAll().as('n')).where('email', '=', u.email).executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(1);
    });

    it('refuses a password shorter than 8 characters with 422 naming the field, and creates nothing', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/signup',
        payload: { email: 'short@example.test', password: '1234567' },
      });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'validation_failed', errors: { password: 'must be at least 8 characters' } });
      expect(await db().selectFrom('users').select('id').where('email', '=', 'short@example.test').executeTakeFirst()).toBeUndefined();
    });

    it('refuses a malformed email and a missing password with 422', async () => {
      const bad = await t.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email: 'not-an-email', password: 'long-enough' } });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().errors).toHaveProperty('email');
      const missing = await t.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email: 'x@example.test' } });
      expect(missing.statusCode).toBe(422);
      expect(missing.json().errors).toHaveProperty('password');
    });
  });

  describe('POST /api/v1/auth/login', () => {
    it('signs in with the documented body, canonical organisation first', async () => {
      const u = await signUp(t.app);
      const second = await secondOrganization(u);
      const res = await login(` ${u.email.toUpperCase()} `, u.password);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ success: true, message: 'Login successful' });
      expect(body.data).toMatchObject({
        user: { uid: `usr_${u.userId}`, email: u.email, tenant_id: `tenant_${u.organizationId}`, role: 'admin' },
        active_tenant_id: `tenant_${u.organizationId}`,
        canonical_tenant_id: `tenant_${u.organizationId}`,
        canonical_role: 'admin',
        tokenType: 'Bearer',
        expiresIn: 3600,
      });
      expect(body.data.tenants.map((x: { tenant_id: string }) => x.tenant_id)).toEqual([`tenant_${u.organizationId}`, `tenant_${second}`]);
      expect((await me(body.data.accessToken)).statusCode).toBe(200);
      const row = await db().selectFrom('users').select('last_login_at').where('id', '=', u.userId).executeTakeFirstOrThrow();
      expect(row.last_login_at).not.toBeNull();
    });

    it('answers a wrong password and an unknown email identically, after comparable work', async () => {
      // At the production hashing cost, so the work being compared dwarfs the noise.
      const slow = await createTestApp(dialect, { SWITCHYARD_PASSWORD_HASH_COST: '15' });
      try {
        const u = await signUp(slow.app);
        const time = async (email: string) => {
          const started = process.hrtime.bigint();
          const res = await slow.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'wrong-password' } });
          return { res, ms: Number(process.hrtime.bigint() - started) / 1e6 };
        };
        const wrong = await time(u.email);
        const unknown = await time('nobody-here@example.test');
        expect(wrong.res.statusCode).toBe(401);
        expect(unknown.res.statusCode).toBe(401);
        expect(withoutInstance(unknown.res.json())).toEqual(withoutInstance(wrong.res.json()));
        expect(wrong.res.json()).toMatchObject({ code: 'invalid_credentials', message: 'Invalid email or password' });
        // The unknown email is hashed against a dummy: without that it would answer in ~1 ms.
        expect(unknown.ms).toBeGreaterThan(wrong.ms * 0.25);
      } finally {
        await slow.close();
      }
    });

    it('refuses a deactivated account with the same 401', async () => {
      const u = await signUp(t.app);
      await db().updateTable('users').set({ status: 'deactivated' }).where('id', '=', u.userId).execute();
      const res = await login(u.email, u.password);
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('invalid_credentials');
    });

    it('validates the body with 422', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'a@example.test' } });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors).toHaveProperty('password');
    });
  });

  describe('bearer tokens on a protected route', () => {
    let u: SignedUpUser;
    beforeAll(async () => {
      u = await signUp(t.app);
    });

    it('accepts a valid token', async () => {
      const res = await me(u.accessToken);
      expect(res.statusCode).toBe(200);
    });

    it('answers 401 unauthorized without a credential', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me' });
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 401, code: 'unauthorized' });
    });

    it('answers 401 invalid_token for a malformed header or token', async () => {
      for (const authorization of ['Bearer', 'Bearer not-a-jwt', 'Basic dXNlcjpwYXNz', `Bearer ${u.accessToken.slice(0, -4)}AAAA`]) {
        const res = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization } });
        expect(res.statusCode, authorization).toBe(401);
        expect(res.json().code, authorization).toBe('invalid_token');
      }
    });

    const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

    it('answers 401 invalid_token for an expired token signed with our own key', async () => {
      const key = await db().selectFrom('signing_keys').selectAll().executeTakeFirstOrThrow();
      const privateKey = await importJWK(JSON.parse(key.private_jwk) as JWK, 'ES256');
      const c = claimsOf(u.accessToken);
      const past = Math.floor(Date.now() / 1000) - 7200;
      const expired = await new SignJWT({ sid: c.sid, org: c.org })
        .setProtectedHeader({ alg: 'ES256', kid: key.id, typ: 'at+jwt' })
        .setIssuer(String(c.iss))
        .setAudience(String(c.aud))
        .setSubject(String(c.sub))
        .setIssuedAt(past)
        .setExpirationTime(past + 3600)
        .sign(privateKey);
      const res = await me(expired);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'invalid_token', message: 'The access token has expired' });
    });

    it('answers 401 invalid_token for a token signed with a key that is not ours', async () => {
      const key = await db().selectFrom('signing_keys').select('id').executeTakeFirstOrThrow();
      const { privateKey } = await generateKeyPair('ES256');
      const c = claimsOf(u.accessToken);
      const forged = await new SignJWT({ sid: c.sid, org: c.org })
        .setProtectedHeader({ alg: 'ES256', kid: key.id, typ: 'at+jwt' })
        .setIssuer(String(c.iss))
        .setAudience(String(c.aud))
        .setSubject(String(c.sub))
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey);
      const res = await me(forged);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'invalid_token', message: 'The access token is invalid' });
    });

    it('answers 401 invalid_token for an unsigned (alg none) token', async () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify(claimsOf(u.accessToken))).toString('base64url');
      const res = await me(`${header}.${payload}.`);
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('invalid_token');
    });

    it('stops accepting the token the moment the user is deactivated', async () => {
      const v = await signUp(t.app);
      expect((await me(v.accessToken)).statusCode).toBe(200);
      await db().updateTable('users').set({ status: 'deactivated' }).where('id', '=', v.userId).execute();
      const res = await me(v.accessToken);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'invalid_token', message: 'The account is deactivated' });
      expect((await refresh(v.refreshToken)).statusCode).toBe(401);
    });
  });

  describe('POST /api/v1/auth/refresh-token', () => {
    it('rotates: new tokens, the old refresh token is spent', async () => {
      const u = await signUp(t.app);
      const res = await refresh(u.refreshToken);
      expect(res.statusCode).toBe(200);
      const d = res.json().data;
      expect(res.json()).toMatchObject({ success: true, message: 'Token refreshed' });
      expect(d).toMatchObject({ user: { uid: `usr_${u.userId}` }, active_tenant_id: `tenant_${u.organizationId}`, tokenType: 'Bearer', expiresIn: 3600 });
      expect(d.refreshToken).not.toBe(u.refreshToken);
      expect(d.accessToken).not.toBe(u.accessToken);
      expect((await me(d.accessToken)).statusCode).toBe(200);
      const old = await db()
        .selectFrom('refresh_tokens')
        .select('used_at')
        .where('token_hash', '=', createHash('sha256').update(u.refreshToken).digest('hex'))
        .executeTakeFirstOrThrow();
      expect(old.used_at).not.toBeNull();
      // And the new one works in turn.
      expect((await refresh(d.refreshToken)).statusCode).toBe(200);
    });

    it('treats reuse of a spent refresh token as theft: the whole session ends', async () => {
      const u = await signUp(t.app);
      const first = (await refresh(u.refreshToken)).json().data;
      const reuse = await refresh(u.refreshToken);
      expect(reuse.statusCode).toBe(401);
      expect(reuse.json().code).toBe('invalid_token');
      // Every token of the session is dead: the latest refresh token and both access tokens.
      expect((await refresh(first.refreshToken)).statusCode).toBe(401);
      expect((await me(first.accessToken)).statusCode).toBe(401);
      expect((await me(u.accessToken)).statusCode).toBe(401);
      const sessions = await db().selectFrom('sessions').select(['revoked_at', 'revoked_reason']).where('user_id', '=', u.userId).execute();
      expect(sessions).toHaveLength(1);
      expect(sessions[0]!.revoked_reason).toBe('reuse_detected');
      // A new login is a new session and works.
      expect((await login(u.email, u.password)).statusCode).toBe(200);
    });

    it('refuses an unknown or expired refresh token with 401 invalid_token', async () => {
      const unknown = await refresh('syrt_this-token-was-never-issued');
      expect(unknown.statusCode).toBe(401);
      expect(unknown.json().code).toBe('invalid_token');

      const u = await signUp(t.app);
      await db()
        .updateTable('refresh_tokens')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('token_hash', '=', createHash('sha256').update(u.refreshToken).digest('hex'))
        .execute();
      expect((await refresh(u.refreshToken)).statusCode).toBe(401);
    });

    it('refuses an empty body with 422', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh-token', payload: {} });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors).toHaveProperty('refreshToken');
    });
  });

  describe('POST /api/v1/auth/logout', () => {
    it('ends the session: the access and refresh tokens stop working at once', async () => {
      const u = await signUp(t.app);
      const other = (await login(u.email, u.password)).json().data;
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: authHeader(u.accessToken) });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ success: true });
      const after = await me(u.accessToken);
      expect(after.statusCode).toBe(401);
      expect(after.json()).toMatchObject({ code: 'invalid_token', message: 'The session has ended; sign in again' });
      expect((await refresh(u.refreshToken)).statusCode).toBe(401);
      // Only that session: the user's other login is untouched.
      expect((await me(other.accessToken)).statusCode).toBe(200);
    });

    it('needs a token', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout' });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('unauthorized');
    });
  });

  describe('GET /api/v1/auth/me', () => {
    it('returns the user and their memberships', async () => {
      const u = await signUp(t.app, { name: 'Grace' });
      const second = await secondOrganization(u, 'Navy');
      const res = await me(u.accessToken);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        user: { id: `usr_${u.userId}`, email: u.email, name: 'Grace', emailVerified: false, platformRole: null, status: 'active', lastLoginAt: null },
        memberships: [
          { organizationId: `tenant_${u.organizationId}`, organizationName: "Grace's organization", role: 'admin' },
          { organizationId: `tenant_${second}`, organizationName: 'Navy', role: 'admin' },
        ],
        activeOrganizationId: `tenant_${u.organizationId}`,
        activeRole: 'admin',
      });
      expect(res.json().user).not.toHaveProperty('passwordHash');
      expect(res.json().user).not.toHaveProperty('password_hash');
    });
  });

  describe('X-Tenant-ID', () => {
    it('selects another organisation of the user, in either id form', async () => {
      const u = await signUp(t.app);
      const second = await secondOrganization(u);
      for (const header of [`tenant_${second}`, String(second)]) {
        const res = await me(u.accessToken, header);
        expect(res.json().activeOrganizationId, header).toBe(`tenant_${second}`);
      }
      expect((await me(u.accessToken)).json().activeOrganizationId).toBe(`tenant_${u.organizationId}`);
    });

    it("falls back to the token's organisation for one the user does not belong to, or a malformed value", async () => {
      const u = await signUp(t.app);
      const stranger = await signUp(t.app);
      for (const header of [`tenant_${stranger.organizationId}`, 'tenant_abc', 'usr_1', '']) {
        const res = await me(u.accessToken, header);
        expect(res.statusCode, header).toBe(200);
        expect(res.json().activeOrganizationId, header).toBe(`tenant_${u.organizationId}`);
      }
    });

    it('carries the role of the selected membership', async () => {
      const owner = await signUp(t.app);
      const member = await signUp(t.app);
      await db()
        .insertInto('memberships')
        .values({ id: newId(), organization_id: owner.organizationId, user_id: member.userId, role: 'viewer', created_at: new Date().toISOString(), updated_at: new Date().toISOString(), last_accessed_at: null })
        .execute();
      const res = await me(member.accessToken, `tenant_${owner.organizationId}`);
      expect(res.json()).toMatchObject({ activeOrganizationId: `tenant_${owner.organizationId}`, activeRole: 'viewer' });
    });
  });

  describe('POST /api/v1/auth/switch-organization', () => {
    it('issues tokens acting in another organisation of the user, kept across refresh', async () => {
      const u = await signUp(t.app);
      const second = await secondOrganization(u, 'Other');
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/switch-organization',
        headers: authHeader(u.accessToken),
        payload: { organizationId: `tenant_${second}` },
      });
      expect(res.statusCode).toBe(200);
      const d = res.json().data;
      expect(d).toMatchObject({
        active_tenant_id: `tenant_${second}`,
        active_tenant_role: 'admin',
        canonical_tenant_id: `tenant_${u.organizationId}`,
        user: { tenant_id: `tenant_${second}` },
      });
      expect((await me(d.accessToken)).json().activeOrganizationId).toBe(`tenant_${second}`);
      const refreshed = (await refresh(d.refreshToken)).json().data;
      expect(refreshed.active_tenant_id).toBe(`tenant_${second}`);
      // The refresh token from before the switch is retired with it: using it ends the session.
      expect((await refresh(u.refreshToken)).statusCode).toBe(401);
      expect((await me(refreshed.accessToken)).statusCode).toBe(401);
    });

    it("answers 404 for an organisation the user does not belong to, exactly like one that doesn't exist", async () => {
      const u = await signUp(t.app);
      const stranger = await signUp(t.app);
      const foreign = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/switch-organization',
        headers: authHeader(u.accessToken),
        payload: { organizationId: `tenant_${stranger.organizationId}` },
      });
      const missing = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/switch-organization',
        headers: authHeader(u.accessToken),
        payload: { organizationId: 'tenant_12345' },
      });
      expect(foreign.statusCode).toBe(404);
      expect(missing.statusCode).toBe(404);
      expect(withoutInstance(foreign.json())).toEqual(withoutInstance(missing.json()));
      const garbage = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/switch-organization',
        headers: authHeader(u.accessToken),
        payload: { organizationId: 'proj_1' },
      });
      expect(garbage.statusCode).toBe(404);
    });

    it('needs a token', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/switch-organization', payload: { organizationId: '1' } });
      expect(res.statusCode).toBe(401);
    });
  });

  describe('GET /.well-known/jwks.json', () => {
    it('publishes public keys only, and they verify our access tokens', async () => {
      const u = await signUp(t.app);
      const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toMatch(/max-age=\d+/);
      const jwks = res.json();
      expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
      for (const k of jwks.keys) {
        expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
        expect(k).not.toHaveProperty('d');
      }
      const { payload, protectedHeader } = await jwtVerify(u.accessToken, createLocalJWKSet(jwks), {
        issuer: t.config.publicUrl,
        audience: 'switchyard',
      });
      expect(protectedHeader.typ).toBe('at+jwt');
      expect(payload).toMatchObject({ sub: String(u.userId), org: String(u.organizationId) });
      expect(typeof payload.sid).toBe('string');
      expect(payload.exp! - payload.iat!).toBe(3600);
    });

    it('does not verify a token signed by a stranger', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const kid = res.json().keys[0].kid as string;
      const forged = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(t.config.publicUrl).sign(privateKey);
      await expect(jwtVerify(forged, createLocalJWKSet(res.json()))).rejects.toThrow();
      expect(decodeProtectedHeader(forged).kid).toBe(kid);
      expect(await exportJWK(publicKey)).toHaveProperty('x');
    });
  });
});

describe.each(testDialects())('invite-only sign-up on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { SWITCHYARD_SIGNUP: 'invite-only' });
  });
  afterAll(async () => t.close());

  it('refuses sign-up with 403 signup_disabled and creates nothing', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email: 'in@example.test', password: 'long-enough' } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ status: 403, code: 'signup_disabled' });
    expect(await t.database.handle.db.selectFrom('users').select('id').execute()).toEqual([]);
  });

  it('still lets existing accounts sign in', async () => {
    await t.app.services.accounts.createAccount({ email: 'admin@localhost', password: 'bootstrap-pw', name: 'Admin', emailVerified: true, platformRole: 'admin' });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'admin@localhost', password: 'bootstrap-pw' } });
    expect(res.statusCode).toBe(200);
    // No membership yet: the body says so instead of inventing an organisation.
    expect(res.json().data).toMatchObject({ tenants: [], active_tenant_id: null, canonical_tenant_id: null, user: { tenant_id: null, role: null } });
    const meRes = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: authHeader(res.json().data.accessToken) });
    expect(meRes.json()).toMatchObject({ user: { platformRole: 'admin', emailVerified: true }, memberships: [], activeOrganizationId: null });
  });
});
