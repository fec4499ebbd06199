import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { inviteAndJoin } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';
import { parseId } from './ids.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function expectOAuthError(res: LightMyRequestResponse, status: number, error: string): void {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.json()).toEqual({ error, error_description: expect.any(String) });
}

describe.each(testDialects())('OAuth clients and the token endpoint on %s', (dialect) => {
  let t: TestApp;
  let owner: SignedUpUser;
  let stranger: SignedUpUser;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    owner = await signUp(t.app);
    stranger = await signUp(t.app);
  });
  afterAll(async () => t.close());

  const db = () => t.database.handle.db;
  const createClient = (user: { accessToken: string }, tenant: number | string | undefined, payload: unknown) =>
    t.app.inject({ method: 'POST', url: '/api/v1/oauth/clients', headers: authHeader(user.accessToken, tenant), payload: payload as Record<string, unknown> });
  const newClient = async (scopes: string[], user: SignedUpUser = owner) => {
    const res = await createClient(user, user.organizationId, { name: `client ${scopes.join(' ')}`, scopes });
    expect(res.statusCode).toBe(201);
    return res.json() as { clientId: string; clientSecret: string; scopes: string[] };
  };
  const token = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: '/api/v1/oauth/token', headers: { ...formHeaders, ...headers }, payload: form(fields) });
  const machineToken = async (scopes: string[], user: SignedUpUser = owner) => {
    const c = await newClient(scopes, user);
    const res = await token({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret });
    expect(res.statusCode).toBe(200);
    return { client: c, accessToken: res.json().access_token as string };
  };

  describe('POST /api/v1/oauth/clients', () => {
    it('creates a client: 201 with the secret once, stored only as its SHA-256, audited', async () => {
      const res = await createClient(owner, `tenant_${owner.organizationId}`, { name: '  SDK Demo ', scopes: ['flags:write', 'flags:read', 'flags:read'] });
      expect(res.statusCode).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      const body = res.json();
      expect(body).toEqual({
        clientId: expect.stringMatching(/^client_\d+$/),
        clientSecret: expect.stringMatching(/^sycs_[A-Za-z0-9_-]{43}$/),
        name: 'SDK Demo',
        scopes: ['flags:read', 'flags:write'],
        createdAt: expect.any(String),
        lastUsedAt: null,
        revokedAt: null,
      });
      const id = parseId('oauthClient', body.clientId)!;
      const row = await db().selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.secret_hash).toBe(sha256(body.clientSecret));
      expect(JSON.stringify(row)).not.toContain(body.clientSecret);
      expect(row.organization_id).toBe(owner.organizationId);
      const audit = await db().selectFrom('audit_events').selectAll().where('action', '=', 'oauth_client.created').where('resource_id', '=', String(id)).executeTakeFirstOrThrow();
      expect(audit).toMatchObject({ organization_id: owner.organizationId, actor_type: 'user', actor_id: owner.userId });
      expect(JSON.parse(audit.after!)).toEqual({ name: 'SDK Demo', scopes: ['flags:read', 'flags:write'] });
    });

    it('requires X-Tenant-ID (400 tenant_required), and a tenant you do not belong to is 404', async () => {
      const missing = await createClient(owner, undefined, { name: 'x', scopes: ['flags:read'] });
      expect(missing.statusCode).toBe(400);
      expect(missing.json()).toMatchObject({ code: 'tenant_required' });
      const foreign = await createClient(owner, stranger.organizationId, { name: 'x', scopes: ['flags:read'] });
      expect(foreign.statusCode).toBe(404);
      const garbage = await createClient(owner, 'tenant_abc', { name: 'x', scopes: ['flags:read'] });
      expect(garbage.statusCode).toBe(400);
      const count = await db().selectFrom('oauth_clients').select((eb) => eb.fn.countAll<number | string>().as('n')).where('organization_id', '=', stranger.organizationId).executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(0);
    });

    it('names an unknown scope in a 422 and stores nothing; an empty list is 422 too', async () => {
      const before = await db().selectFrom('oauth_clients').select('id').execute();
      const res = await createClient(owner, owner.organizationId, { name: 'x', scopes: ['flags:read', 'admin:all'] });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors.scopes).toContain('"admin:all"');
      const empty = await createClient(owner, owner.organizationId, { name: 'x', scopes: [] });
      expect(empty.statusCode).toBe(422);
      expect(empty.json().errors).toHaveProperty('scopes');
      const noName = await createClient(owner, owner.organizationId, { scopes: ['flags:read'] });
      expect(noName.statusCode).toBe(422);
      expect(noName.json().errors).toHaveProperty('name');
      expect(await db().selectFrom('oauth_clients').select('id').execute()).toHaveLength(before.length);
    });

    it('401 without a token, 403 for a viewer, 403 permission_escalation for scopes the creator lacks', async () => {
      const anon = await t.app.inject({ method: 'POST', url: '/api/v1/oauth/clients', headers: { 'x-tenant-id': String(owner.organizationId) }, payload: { name: 'x', scopes: ['flags:read'] } });
      expect(anon.statusCode).toBe(401);
      const viewer = await inviteAndJoin(t.app, owner, 'viewer');
      const byViewer = await createClient(viewer, owner.organizationId, { name: 'x', scopes: ['flags:read'] });
      expect(byViewer.statusCode).toBe(403);
      // A custom role that may manage credentials but not flags cannot mint a flags:write client.
      const role = await t.app.inject({
        method: 'POST',
        url: '/api/v1/roles',
        headers: authHeader(owner.accessToken, owner.organizationId),
        payload: { key: 'key-keeper', name: 'Key keeper', permissions: ['api_keys:read', 'api_keys:write', 'flags:read'] },
      });
      expect(role.statusCode).toBe(200);
      const keeper = await inviteAndJoin(t.app, owner, 'key-keeper');
      const escalating = await createClient(keeper, owner.organizationId, { name: 'x', scopes: ['flags:write'] });
      expect(escalating.statusCode).toBe(403);
      expect(escalating.json()).toMatchObject({ code: 'permission_escalation', details: { missing: ['flags:write'] } });
      const fine = await createClient(keeper, owner.organizationId, { name: 'reader', scopes: ['flags:read'] });
      expect(fine.statusCode).toBe(201);
    });

    it('a machine token cannot create clients (its scopes hold no credential permission)', async () => {
      const { accessToken } = await machineToken(['projects:write', 'flags:write']);
      const res = await createClient({ accessToken }, owner.organizationId, { name: 'x', scopes: ['flags:read'] });
      expect(res.statusCode).toBe(403);
    });
  });

  describe('GET and DELETE /api/v1/oauth/clients', () => {
    it('lists the tenant’s clients newest first without secrets, with X-Total-Count; never another tenant’s', async () => {
      const mine = await newClient(['projects:read']);
      await newClient(['flags:read'], stranger);
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/oauth/clients', headers: authHeader(owner.accessToken, owner.organizationId) });
      expect(res.statusCode).toBe(200);
      const list = res.json() as Array<Record<string, unknown>>;
      expect(Number(res.headers['x-total-count'])).toBe(list.length);
      expect(list[0]!.clientId).toBe(mine.clientId);
      expect(res.body).not.toContain('sycs_');
      expect(res.body).not.toContain('secret');
      const theirs = await t.app.inject({ method: 'GET', url: '/api/v1/oauth/clients', headers: authHeader(stranger.accessToken) });
      expect((theirs.json() as Array<{ clientId: string }>).map((c) => c.clientId)).not.toContain(mine.clientId);
      const foreign = await t.app.inject({ method: 'GET', url: '/api/v1/oauth/clients', headers: authHeader(owner.accessToken, stranger.organizationId) });
      expect(foreign.statusCode).toBe(404);
    });

    it('revokes: 204, listed with revokedAt, audited once, idempotent; another tenant’s client is 404', async () => {
      const c = await newClient(['flags:read']);
      const foreign = await t.app.inject({ method: 'DELETE', url: `/api/v1/oauth/clients/${c.clientId}`, headers: authHeader(stranger.accessToken) });
      expect(foreign.statusCode).toBe(404);
      const res = await t.app.inject({ method: 'DELETE', url: `/api/v1/oauth/clients/${c.clientId}`, headers: authHeader(owner.accessToken) });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      const listed = await t.app.inject({ method: 'GET', url: '/api/v1/oauth/clients', headers: authHeader(owner.accessToken) });
      const revokedAt = (listed.json() as Array<{ clientId: string; revokedAt: string | null }>).find((x) => x.clientId === c.clientId)?.revokedAt;
      expect(revokedAt).toEqual(expect.any(String));
      const again = await t.app.inject({ method: 'DELETE', url: `/api/v1/oauth/clients/${c.clientId}`, headers: authHeader(owner.accessToken) });
      expect(again.statusCode).toBe(204);
      const audits = await db().selectFrom('audit_events').select('id').where('action', '=', 'oauth_client.revoked').where('resource_id', '=', c.clientId.replace('client_', '')).execute();
      expect(audits).toHaveLength(1);
      const unknown = await t.app.inject({ method: 'DELETE', url: '/api/v1/oauth/clients/client_12345', headers: authHeader(owner.accessToken) });
      expect(unknown.statusCode).toBe(404);
    });
  });

  describe('POST /api/v1/oauth/token', () => {
    it('issues a Bearer token for 3600 s with every scope of the client when none is asked for', async () => {
      const c = await newClient(['flags:read', 'flags:evaluate', 'projects:read']);
      const res = await token({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual({ access_token: expect.stringMatching(/^ey/), token_type: 'Bearer', expires_in: 3600, scope: 'flags:read flags:evaluate projects:read' });
      const row = await db().selectFrom('oauth_clients').select('last_used_at').where('id', '=', parseId('oauthClient', c.clientId)!).executeTakeFirstOrThrow();
      expect(row.last_used_at).not.toBeNull();
    });

    it('grants the requested subset, and refuses a scope the client lacks with invalid_scope', async () => {
      const c = await newClient(['flags:read', 'flags:evaluate']);
      const subset = await token({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, scope: 'flags:evaluate' });
      expect(subset.statusCode).toBe(200);
      expect(subset.json().scope).toBe('flags:evaluate');
      const beyond = await token({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, scope: 'flags:read flags:write' });
      expectOAuthError(beyond, 400, 'invalid_scope');
      expect(beyond.json().error_description).toContain('flags:write');
      const nonsense = await token({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, scope: 'openid' });
      expectOAuthError(nonsense, 400, 'invalid_scope');
    });

    it('answers at the legacy /oauth/token too, marked deprecated', async () => {
      const c = await newClient(['flags:read']);
      const res = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: formHeaders, payload: form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }) });
      expect(res.statusCode).toBe(200);
      expect(res.headers.deprecation).toBe('true');
      expect(res.headers.link).toContain('</api/v1/oauth/token>');
      expectOAuthError(await t.app.inject({ method: 'POST', url: '/oauth/token', headers: formHeaders, payload: form({ grant_type: 'password' }) }), 400, 'unsupported_grant_type');
    });

    it('accepts a JSON body as well as the form', async () => {
      const c = await newClient(['flags:read']);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret } });
      expect(res.statusCode).toBe(200);
      expect(res.json().scope).toBe('flags:read');
      const wrongType = await t.app.inject({ method: 'POST', url: '/api/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: 42, client_secret: c.clientSecret } });
      expectOAuthError(wrongType, 400, 'invalid_request');
    });

    it('accepts the credentials as HTTP Basic (RFC 6749 §2.3.1)', async () => {
      const c = await newClient(['projects:read']);
      const res = await token({ grant_type: 'client_credentials' }, { authorization: basic(c.clientId, c.clientSecret) });
      expect(res.statusCode).toBe(200);
      expect(res.json().scope).toBe('projects:read');
      const wrong = await token({ grant_type: 'client_credentials' }, { authorization: basic(c.clientId, 'sycs_wrong') });
      expectOAuthError(wrong, 401, 'invalid_client');
      expect(wrong.headers['www-authenticate']).toMatch(/^Basic realm="switchyard"/);
      const both = await token({ grant_type: 'client_credentials', client_secret: c.clientSecret }, { authorization: basic(c.clientId, c.clientSecret) });
      expectOAuthError(both, 400, 'invalid_request');
      const malformed = await token({ grant_type: 'client_credentials' }, { authorization: 'Basic !!!' });
      expectOAuthError(malformed, 401, 'invalid_client');
    });

    it('answers invalid_client (401) for a wrong secret, an unknown client and missing credentials', async () => {
      const c = await newClient(['flags:read']);
      expectOAuthError(await token({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: `${c.clientSecret}x` }), 401, 'invalid_client');
      expectOAuthError(await token({ grant_type: 'client_credentials', client_id: 'client_999', client_secret: c.clientSecret }), 401, 'invalid_client');
      expectOAuthError(await token({ grant_type: 'client_credentials', client_id: 'nonsense', client_secret: c.clientSecret }), 401, 'invalid_client');
      expectOAuthError(await token({ grant_type: 'client_credentials', client_id: c.clientId }), 401, 'invalid_client');
    });

    it('answers invalid_request and unsupported_grant_type in RFC 6749 bodies, never problem+json', async () => {
      const c = await newClient(['flags:read']);
      expectOAuthError(await token({ client_id: c.clientId, client_secret: c.clientSecret }), 400, 'invalid_request');
      expectOAuthError(await token({ grant_type: 'password', client_id: c.clientId, client_secret: c.clientSecret }), 400, 'unsupported_grant_type');
      expectOAuthError(await token({ grant_type: 'authorization_code', code: 'x' }), 400, 'unsupported_grant_type');
      const repeated = await t.app.inject({
        method: 'POST',
        url: '/api/v1/oauth/token',
        headers: formHeaders,
        payload: `grant_type=client_credentials&client_id=${c.clientId}&client_secret=${c.clientSecret}&scope=flags:read&scope=flags:read`,
      });
      expectOAuthError(repeated, 400, 'invalid_request');
      const wrongType = await t.app.inject({ method: 'POST', url: '/api/v1/oauth/token', headers: { 'content-type': 'text/plain' }, payload: 'grant_type=client_credentials' });
      expectOAuthError(wrongType, 400, 'invalid_request');
      const empty = await t.app.inject({ method: 'POST', url: '/api/v1/oauth/token' });
      expectOAuthError(empty, 400, 'invalid_request');
    });

    it('a revoked client gets no token, and the tokens it had stop working at once', async () => {
      const { client, accessToken } = await machineToken(['projects:read']);
      const before = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(accessToken) });
      expect(before.statusCode).toBe(200);
      const revoked = await t.app.inject({ method: 'DELETE', url: `/api/v1/oauth/clients/${client.clientId}`, headers: authHeader(owner.accessToken) });
      expect(revoked.statusCode).toBe(204);
      const after = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(accessToken) });
      expect(after.statusCode).toBe(401);
      expect(after.json()).toMatchObject({ code: 'invalid_token', message: expect.stringContaining('revoked') });
      expectOAuthError(await token({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }), 401, 'invalid_client');
    });
  });

  describe('machine tokens reach only what their scopes allow', () => {
    let projectId: string;
    beforeAll(async () => {
      const projects = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(owner.accessToken) });
      projectId = (projects.json() as Array<{ id: string }>)[0]!.id;
      const flag = await t.app.inject({
        method: 'POST',
        url: `/api/v1/projects/${projectId}/flags`,
        headers: authHeader(owner.accessToken),
        payload: { key: 'checkout', type: 'boolean', defaultValue: false },
      });
      expect(flag.statusCode).toBe(200);
    });
    const get = (url: string, accessToken: string, tenant?: number) => t.app.inject({ method: 'GET', url, headers: authHeader(accessToken, tenant) });

    it('projects:read lists projects but may not create one, nor read flags', async () => {
      const { accessToken } = await machineToken(['projects:read']);
      const list = await get('/api/v1/projects', accessToken);
      expect(list.statusCode).toBe(200);
      expect((list.json() as Array<{ id: string }>).map((p) => p.id)).toContain(projectId);
      const create = await t.app.inject({ method: 'POST', url: '/api/v1/projects', headers: authHeader(accessToken), payload: { name: 'Robots' } });
      expect(create.statusCode).toBe(403);
      expect((await get(`/api/v1/projects/${projectId}/flags`, accessToken)).statusCode).toBe(403);
    });

    it('flags:evaluate may not list flags (403); flags:read may; flags:write may create one', async () => {
      const evaluator = await machineToken(['flags:evaluate']);
      const denied = await get(`/api/v1/projects/${projectId}/flags`, evaluator.accessToken);
      expect(denied.statusCode).toBe(403);
      expect(denied.json()).toMatchObject({ code: 'forbidden', details: { permission: 'flags:read' } });
      const reader = await machineToken(['flags:read']);
      const listed = await get(`/api/v1/projects/${projectId}/flags`, reader.accessToken);
      expect(listed.statusCode).toBe(200);
      expect((listed.json() as Array<{ key: string }>).map((f) => f.key)).toContain('checkout');
      const readerCreate = await t.app.inject({ method: 'POST', url: `/api/v1/projects/${projectId}/flags`, headers: authHeader(reader.accessToken), payload: { key: 'robot-a', type: 'boolean' } });
      expect(readerCreate.statusCode).toBe(403);
      const writer = await machineToken(['flags:write']);
      const created = await t.app.inject({ method: 'POST', url: `/api/v1/projects/${projectId}/flags`, headers: authHeader(writer.accessToken), payload: { key: 'robot-b', type: 'boolean' } });
      expect(created.statusCode).toBe(200);
      const audit = await db().selectFrom('audit_events').selectAll().where('action', '=', 'flag.created').where('actor_type', '=', 'client').execute();
      expect(audit.map((a) => a.actor_id)).toContain(parseId('oauthClient', writer.client.clientId));
    });

    it('flags:evaluate evaluates on POST /api/v1/flags/{flagKey}/evaluate but may not list /api/v1/flags; flags:read may not evaluate', async () => {
      const evaluator = await machineToken(['flags:evaluate']);
      const headers = { ...authHeader(evaluator.accessToken, owner.organizationId), 'x-environment': 'production' };
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/flags/checkout/evaluate', headers, payload: { targetingKey: 'user_1' } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ value: expect.anything(), reason: expect.any(String) });
      const list = await t.app.inject({ method: 'GET', url: '/api/v1/flags', headers });
      expect(list.statusCode).toBe(403);
      const reader = await machineToken(['flags:read']);
      const readerHeaders = { ...authHeader(reader.accessToken, owner.organizationId), 'x-environment': 'production' };
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/flags', headers: readerHeaders })).statusCode).toBe(200);
      const refused = await t.app.inject({ method: 'POST', url: '/api/v1/flags/checkout/evaluate', headers: readerHeaders, payload: { targetingKey: 'user_1' } });
      expect(refused.statusCode).toBe(403);
      // Its own tenant only, even when it names another.
      const elsewhere = await t.app.inject({ method: 'POST', url: '/api/v1/flags/checkout/evaluate', headers: { ...headers, 'x-tenant-id': String(stranger.organizationId) }, payload: { targetingKey: 'user_1' } });
      expect(elsewhere.statusCode).toBe(404);
    });

    it('stays in its own tenant: another tenant’s project is 404, user-only routes are 401', async () => {
      const { accessToken } = await machineToken(['projects:read', 'flags:read']);
      const theirProjects = await get('/api/v1/projects', stranger.accessToken);
      const theirs = (theirProjects.json() as Array<{ id: string }>)[0]!.id;
      expect((await get(`/api/v1/projects/${theirs}`, accessToken)).statusCode).toBe(404);
      expect((await get(`/api/v1/projects/${theirs}/flags`, accessToken, stranger.organizationId)).statusCode).toBe(404);
      const me = await get('/api/v1/auth/me', accessToken);
      expect(me.statusCode).toBe(401);
    });

    it('a tampered machine token is refused with invalid_token', async () => {
      const { accessToken } = await machineToken(['projects:read']);
      const [h, p, s] = accessToken.split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
      claims.scope = 'projects:read projects:write flags:write';
      const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
      const res = await get('/api/v1/projects', forged);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'invalid_token' });
    });
  });
});
