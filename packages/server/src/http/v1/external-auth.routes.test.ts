import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { inviteAndJoin } from '../../testing/access-fixtures.js';
import { authHeader, signUp } from '../../testing/auth.js';
import { startLocalOidcIssuer, type LocalOidcIssuer } from '../../testing/local-oidc-issuer.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';
import { parseId } from './ids.js';

function expect401(res: LightMyRequestResponse, code: string): void {
  expect(res.statusCode).toBe(401);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({ status: 401, code, message: expect.any(String) });
}

describe.each(testDialects())('external ID tokens on %s', (dialect) => {
  let idp: LocalOidcIssuer;
  let t: TestApp;
  beforeAll(async () => {
    idp = await startLocalOidcIssuer();
    t = await createTestApp(dialect, idp.env());
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  const db = () => t.database.handle.db;
  const post = (url: string, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url, payload });
  const login = (idToken: string) => post('/api/v1/auth/login', { idToken });
  const userByEmail = (email: string) => db().selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  const identitiesOf = (userId: number) => db().selectFrom('external_identities').selectAll().where('user_id', '=', userId).execute();
  const userCount = async () => Number((await db().selectFrom('users').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n);

  describe('sign-in', () => {
    it('a first login with a valid ID token creates the account (email verified, no password) and its organisation, linked by issuer and subject', async () => {
      const person = idp.person({ name: 'Ada Lovelace' });
      const res = await login(await idp.sign(person));
      expect(res.statusCode).toBe(200);
      const data = res.json().data;
      expect(res.json()).toMatchObject({ success: true, message: 'Login successful' });
      expect(data).toMatchObject({ user: { uid: expect.stringMatching(/^usr_/), email: person.email, name: 'Ada Lovelace', role: 'admin' }, tokenType: 'Bearer' });
      expect(data.active_tenant_id).toBe(data.canonical_tenant_id);
      expect(data.tenants).toHaveLength(1);
      const user = await userByEmail(person.email);
      expect(user).toMatchObject({ email_verified: 1, password_hash: null, status: 'active' });
      const links = await identitiesOf(user!.id);
      expect(links).toEqual([expect.objectContaining({ issuer: idp.issuer, subject: person.sub, provider: null })]);
      const audit = await db().selectFrom('audit_events').select('action').where('resource_id', '=', String(user!.id)).execute();
      expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['user.created', 'user.external_identity_linked']));
      // The session is ours: the access token works as usual.
      const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: authHeader(data.accessToken) });
      expect(me.statusCode).toBe(200);
    });

    it('a second sign-in of the same identity reaches the same account (also through /signin/google), creating nothing', async () => {
      const person = idp.person();
      const first = await login(await idp.sign(person));
      expect(first.statusCode).toBe(200);
      const users = await userCount();
      const second = await post('/api/v1/auth/signin/google', { idToken: await idp.sign(person), providerName: 'google' });
      expect(second.statusCode).toBe(200);
      expect(second.json().data.user.uid).toBe(first.json().data.user.uid);
      expect(second.json().data.active_tenant_id).toBe(first.json().data.active_tenant_id);
      expect(await userCount()).toBe(users);
      expect(await identitiesOf(parseId('user', first.json().data.user.uid)!)).toHaveLength(1);
    });

    it('each /signin/{provider} records its provider; a providerName of another provider is 422', async () => {
      for (const provider of ['google', 'github', 'microsoft']) {
        const person = idp.person();
        const res = await post(`/api/v1/auth/signin/${provider}`, { idToken: await idp.sign(person), providerName: provider });
        expect(res.statusCode).toBe(200);
        const user = await userByEmail(person.email);
        expect((await identitiesOf(user!.id))[0]!.provider).toBe(provider);
      }
      const mismatch = await post('/api/v1/auth/signin/github', { idToken: await idp.sign(idp.person()), providerName: 'google' });
      expect(mismatch.statusCode).toBe(422);
      expect(mismatch.json().errors).toHaveProperty('providerName');
      const missing = await post('/api/v1/auth/signin/github', {});
      expect(missing.statusCode).toBe(422);
      expect(missing.json().errors).toHaveProperty('idToken');
    });

    it('signup with idToken, email and password: 201, and that password signs in too; again: 200, same account', async () => {
      const person = idp.person();
      const idToken = await idp.sign(person);
      const res = await post('/api/v1/auth/signup', { idToken, email: person.email.toUpperCase(), password: 'securepassword123' });
      expect(res.statusCode).toBe(201);
      expect(res.json().message).toBe('Signup successful');
      const byPassword = await post('/api/v1/auth/login', { email: person.email, password: 'securepassword123' });
      expect(byPassword.statusCode).toBe(200);
      expect(byPassword.json().data.user.uid).toBe(res.json().data.user.uid);
      const again = await post('/api/v1/auth/signup', { idToken, email: person.email, password: 'securepassword123' });
      expect(again.statusCode).toBe(200);
      expect(again.json().data.user.uid).toBe(res.json().data.user.uid);
    });

    it('signup refuses an email other than the token’s and a short password (422), creating nothing', async () => {
      const person = idp.person();
      const idToken = await idp.sign(person);
      const users = await userCount();
      const other = await post('/api/v1/auth/signup', { idToken, email: 'someone-else@example.com', password: 'securepassword123' });
      expect(other.statusCode).toBe(422);
      expect(other.json().errors).toHaveProperty('email');
      const short = await post('/api/v1/auth/signup', { idToken, password: 'short' });
      expect(short.statusCode).toBe(422);
      expect(short.json().errors).toHaveProperty('password');
      expect(await userCount()).toBe(users);
    });

    it('password signup and login still require email and password when no idToken is sent', async () => {
      const signup = await post('/api/v1/auth/signup', { email: 'x@example.com' });
      expect(signup.statusCode).toBe(422);
      expect(signup.json().errors).toEqual({ password: 'is required' });
      const login = await post('/api/v1/auth/login', {});
      expect(login.statusCode).toBe(422);
      expect(login.json().errors).toEqual({ email: 'is required', password: 'is required' });
    });

    it('links to an existing account with a verified email, keeping its password and sessions', async () => {
      const owner = await signUp(t.app);
      const member = await inviteAndJoin(t.app, owner, 'developer'); // invitation mail proved the email
      const res = await login(await idp.sign(idp.person({ email: member.email })));
      expect(res.statusCode).toBe(200);
      expect(res.json().data.user.uid).toBe(`usr_${member.userId}`);
      expect(res.json().data.active_tenant_id).toBe(`tenant_${owner.organizationId}`);
      const byPassword = await post('/api/v1/auth/login', { email: member.email, password: member.password });
      expect(byPassword.statusCode).toBe(200);
      const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: authHeader(member.accessToken) });
      expect(me.statusCode).toBe(200);
    });

    it('claiming an unverified account by its verified email removes the password and ends its sessions', async () => {
      const squatter = await signUp(t.app); // sign-up never verified the address
      const res = await login(await idp.sign(idp.person({ email: squatter.email })));
      expect(res.statusCode).toBe(200);
      expect(res.json().data.user.uid).toBe(`usr_${squatter.userId}`);
      const user = await userByEmail(squatter.email);
      expect(user).toMatchObject({ email_verified: 1, password_hash: null });
      const byPassword = await post('/api/v1/auth/login', { email: squatter.email, password: squatter.password });
      expect(byPassword.statusCode).toBe(401);
      const old = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: authHeader(squatter.accessToken) });
      expect(old.statusCode).toBe(401);
      const audit = await db().selectFrom('audit_events').select('after').where('action', '=', 'user.external_identity_linked').where('resource_id', '=', String(squatter.userId)).executeTakeFirstOrThrow();
      expect(JSON.parse(audit.after!)).toMatchObject({ passwordRemoved: true, sessionsEnded: true });
    });

    describe('refusals: clear 401s, nothing created', () => {
      const refused = async (idToken: string, code: string) => {
        const users = await userCount();
        expect401(await login(idToken), code);
        expect401(await post('/api/v1/auth/signin/microsoft', { idToken }), code);
        expect(await userCount()).toBe(users);
      };
      it('expired', async () => refused(await idp.sign(idp.person(), { expiresIn: -120 }), 'id_token_expired'));
      it('signed by another key under the published kid', async () => {
        const stray = await idp.strayKey();
        await refused(await idp.sign(idp.person(), { key: stray, kid: idp.key.kid }), 'id_token_invalid_signature');
      });
      it('signed with a key whose kid is not published', async () => refused(await idp.sign(idp.person(), { key: await idp.strayKey() }), 'id_token_unknown_key'));
      it('for another audience', async () => refused(await idp.sign({ ...idp.person(), aud: 'someone-else' }), 'id_token_wrong_audience'));
      it('from another issuer', async () => refused(await idp.sign({ ...idp.person(), iss: 'https://evil.example' }), 'id_token_untrusted_issuer'));
      it('with an unverified email', async () => refused(await idp.sign(idp.person({ email_verified: false })), 'email_not_verified'));
      it('without an email', async () => refused(await idp.sign({ sub: 'uid-no-mail' }), 'id_token_email_missing'));
      it('not a JWT', async () => refused('definitely-not-a-jwt', 'id_token_malformed'));
    });
  });

  describe('ID tokens as bearer tokens', () => {
    it('a linked identity’s ID token reaches protected routes as its user, in X-Tenant-ID when a member', async () => {
      const person = idp.person();
      const idToken = await idp.sign(person);
      const signedIn = (await login(idToken)).json().data;
      const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: authHeader(idToken) });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({ user: { id: signedIn.user.uid, email: person.email }, activeOrganizationId: signedIn.active_tenant_id, activeRole: 'admin' });
      const projects = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(idToken) });
      expect(projects.statusCode).toBe(200);
      expect(projects.json()).toHaveLength(1);
      // Someone else's tenant: not theirs, so the canonical one applies, and naming it on an
      // organisation route is 404.
      const other = await signUp(t.app);
      const foreign = await t.app.inject({ method: 'GET', url: `/api/v1/organizations/${other.organizationId}`, headers: authHeader(idToken, other.organizationId) });
      expect(foreign.statusCode).toBe(404);
      // Logout has no session of ours to end; it succeeds and the ID token keeps working.
      const logout = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: authHeader(idToken) });
      expect(logout.statusCode).toBe(200);
    });

    it('an identity never signed in is 401 id_token_not_linked; a bad ID token says why', async () => {
      const unlinked = await idp.sign(idp.person());
      expect401(await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(unlinked) }), 'id_token_not_linked');
      const person = idp.person();
      await login(await idp.sign(person));
      expect401(await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(await idp.sign(person, { expiresIn: -60 })) }), 'id_token_expired');
      expect401(await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(await idp.sign({ ...person, aud: 'other' })) }), 'id_token_wrong_audience');
      expect401(await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(await idp.sign({ ...person, iss: 'https://evil.example' })) }), 'id_token_untrusted_issuer');
    });

    it('a deactivated account’s ID token stops working at once', async () => {
      const person = idp.person();
      const idToken = await idp.sign(person);
      const uid = parseId('user', (await login(idToken)).json().data.user.uid)!;
      await db().updateTable('users').set({ status: 'deactivated' }).where('id', '=', uid).execute();
      expect401(await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: authHeader(idToken) }), 'invalid_token');
      expect401(await login(idToken), 'invalid_credentials');
    });
  });
});

describe.each(testDialects())('external ID tokens on an invite-only server on %s', (dialect) => {
  let idp: LocalOidcIssuer;
  let t: TestApp;
  beforeAll(async () => {
    idp = await startLocalOidcIssuer();
    t = await createTestApp(dialect, { ...idp.env(), SWITCHYARD_SIGNUP: 'invite-only', SWITCHYARD_ADMIN_EMAIL: 'boss@example.com', SWITCHYARD_ADMIN_PASSWORD: 'bootstrap-pw' });
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it('refuses a first sign-in that would create an account (403 signup_disabled), but links an existing one', async () => {
    const stranger = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { idToken: await idp.sign(idp.person()) } });
    expect(stranger.statusCode).toBe(403);
    expect(stranger.json()).toMatchObject({ code: 'signup_disabled' });
    expect(await t.database.handle.db.selectFrom('external_identities').select('id').execute()).toHaveLength(0);
    const boss = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { idToken: await idp.sign(idp.person({ email: 'boss@example.com' })) } });
    expect(boss.statusCode).toBe(200);
    expect(boss.json().data.user.email).toBe('boss@example.com');
  });
});
