import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../features/api-keys/api-key-format.js';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { evaluateWith } from '../../testing/evaluation-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/projects/{project_id}/api-keys on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let developer: JoinedUser;
  let viewer: JoinedUser;
  let stranger: SignedUpUser;
  let projectId: number;
  let production: number;

  const url = (project = 'default', rest = '') => `/api/v1/projects/${project}/api-keys${rest}`;
  const as = (u: { accessToken: string }) => authHeader(u.accessToken);
  const create = (u: { accessToken: string }, payload: Record<string, unknown>, project = 'default') =>
    t.app.inject({ method: 'POST', url: url(project), headers: as(u), payload });

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app);
    developer = await inviteAndJoin(t.app, admin, 'developer');
    viewer = await inviteAndJoin(t.app, admin, 'viewer');
    stranger = await signUp(t.app);
    const db = t.database.handle.db;
    const project = await db.selectFrom('projects').select('id').where('organization_id', '=', admin.organizationId).where('is_default', '=', 1).executeTakeFirstOrThrow();
    projectId = project.id;
    production = (await db.selectFrom('environments').select('id').where('project_id', '=', projectId).where('key', '=', 'production').executeTakeFirstOrThrow()).id;
  });
  afterAll(async () => t?.close());

  it('creates a key shown once, stores only its SHA-256, and audits it', async () => {
    const res = await create(admin, { name: 'Backend', environment: 'production', scope: 'server' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toEqual({
      id: expect.stringMatching(/^key_\d+$/),
      name: 'Backend',
      environment: 'production',
      environmentId: `env_${production}`,
      projectId: `proj_${projectId}`,
      scope: 'server',
      prefix: body.key.slice(0, 16),
      createdAt: expect.any(String),
      lastUsedAt: null,
      expiresAt: null,
      revokedAt: null,
      key: expect.stringMatching(/^sy_server_[A-Za-z0-9_-]{43}$/),
    });
    const row = await t.database.handle.db.selectFrom('api_keys').selectAll().where('id', '=', Number(body.id.slice(4))).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(hashApiKey(body.key));
    expect(JSON.stringify(row)).not.toContain(body.key);
    const audit = await t.database.handle.db.selectFrom('audit_events').selectAll().where('resource_type', '=', 'api_key').where('resource_id', '=', String(row.id)).execute();
    expect(audit.map((a) => a.action)).toEqual(['api_key.created']);
    expect(audit[0]!.project_id).toBe(projectId);
    expect(JSON.parse(audit[0]!.after!)).toMatchObject({ name: 'Backend', environment: 'production', scope: 'server', prefix: row.prefix });
    expect(audit[0]!.after).not.toContain(body.key);

    // By environment id, project id and key; sdk and stream scopes; an expiry in the future.
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    for (const [project, environment, scope] of [
      [`proj_${projectId}`, `env_${production}`, 'sdk'],
      [String(projectId), String(production), 'stream'],
    ] as const) {
      const r = await create(developer, { name: 'k', environment, scope, expiresAt }, project);
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toMatchObject({ scope, environment: 'production', expiresAt, key: expect.stringMatching(new RegExp(`^sy_${scope}_`)) });
    }
  });

  it('lists and gets keys without the key or its hash, newest first, paged, filtered by environment', async () => {
    const staging = await create(admin, { name: 'Staging', environment: 'staging', scope: 'sdk' });
    expect(staging.statusCode).toBe(200);
    const list = await t.app.inject({ method: 'GET', url: url(), headers: as(developer) });
    expect(list.statusCode).toBe(200);
    const items = list.json() as Array<Record<string, unknown>>;
    expect(Number(list.headers['x-total-count'])).toBe(items.length);
    expect(items.length).toBeGreaterThanOrEqual(4);
    expect(items[0]!.name).toBe('Staging');
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(['createdAt', 'environment', 'environmentId', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'projectId', 'revokedAt', 'scope']);
    }
    expect(list.body).not.toContain(staging.json().key);
    expect(list.body).not.toContain(hashApiKey(staging.json().key));

    const page = await t.app.inject({ method: 'GET', url: `${url()}?limit=1&offset=1`, headers: as(admin) });
    expect(page.json()).toHaveLength(1);
    expect(page.json()[0].id).toBe(items[1]!.id);
    const onlyStaging = await t.app.inject({ method: 'GET', url: `${url()}?environment=staging`, headers: as(admin) });
    expect((onlyStaging.json() as Array<{ environment: string }>).map((k) => k.environment)).toEqual(['staging']);
    expect((await t.app.inject({ method: 'GET', url: `${url()}?limit=0`, headers: as(admin) })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url: `${url()}?offset=-1`, headers: as(admin) })).statusCode).toBe(400);

    const one = await t.app.inject({ method: 'GET', url: url('default', `/${staging.json().id}`), headers: as(admin) });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(items[0]);
    expect((await t.app.inject({ method: 'GET', url: url('default', '/key_1'), headers: as(admin) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: url('default', '/nonsense'), headers: as(admin) })).statusCode).toBe(404);
  });

  it('revokes (DELETE or POST …/revoke) once, audited, idempotent; the key stops working at once', async () => {
    for (const how of ['DELETE', 'POST'] as const) {
      const created = (await create(admin, { name: `revoke ${how}`, environment: 'production', scope: 'server' })).json();
      expect((await evaluateWith(t.app, created.key, {})).statusCode).toBe(200);
      const path = how === 'DELETE' ? url('default', `/${created.id}`) : url('default', `/${created.id}/revoke`);
      const res = await t.app.inject({ method: how, url: path, headers: as(developer) });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: created.id, revokedAt: expect.any(String) });
      expect((await evaluateWith(t.app, created.key, {})).statusCode).toBe(401);
      const again = await t.app.inject({ method: how, url: path, headers: as(admin) });
      expect(again.statusCode).toBe(200);
      expect(again.json().revokedAt).toBe(res.json().revokedAt);
      const audit = await t.database.handle.db.selectFrom('audit_events').select('action').where('resource_id', '=', created.id.slice(4)).orderBy('created_at').execute();
      expect(audit.map((a) => a.action)).toEqual(['api_key.created', 'api_key.revoked']);
    }
  });

  it('records lastUsedAt in batches, not per request', async () => {
    const created = (await create(admin, { name: 'used', environment: 'production', scope: 'sdk' })).json();
    const stored = () => t.database.handle.db.selectFrom('api_keys').select('last_used_at').where('id', '=', Number(created.id.slice(4))).executeTakeFirstOrThrow();
    await evaluateWith(t.app, created.key, {});
    expect((await stored()).last_used_at).toBeNull();
    await t.app.services.apiKeyMap.flushLastUsed();
    const first = (await stored()).last_used_at;
    expect(first).not.toBeNull();
    const listed = (await t.app.inject({ method: 'GET', url: url('default', `/${created.id}`), headers: as(admin) })).json();
    expect(listed.lastUsedAt).toBe(first);
  });

  it('refuses bad input with 422 naming each field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'x', environment: 'production', scope: 'admin' }, 'scope'],
      [{ name: 'x', environment: 'nowhere', scope: 'server' }, 'environment'],
      [{ name: 'x', environment: 'production', scope: 'server', expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
      [{ name: 'x', environment: 'production', scope: 'server', expiresAt: 'tomorrow' }, 'expiresAt'],
      [{ name: '', environment: 'production', scope: 'server' }, 'name'],
      [{ name: '   ', environment: 'production', scope: 'server' }, 'name'],
      [{ environment: 'production', scope: 'server' }, 'name'],
      [{ name: 'x', environment: 'production', scope: 'server', key: 'mine' }, 'key'],
    ];
    for (const [payload, field] of cases) {
      const res = await create(admin, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(Object.keys(res.json().errors ?? {}), JSON.stringify(payload)).toContain(field);
    }
  });

  it('needs api_keys permissions (viewer 403), a caller (401), and hides other organisations (404)', async () => {
    expect((await create(viewer, { name: 'x', environment: 'production', scope: 'server' })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: url(), headers: as(viewer) })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: url() })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: url(), payload: { name: 'x' } })).statusCode).toBe(401);

    const mine = (await create(admin, { name: 'mine', environment: 'production', scope: 'server' })).json();
    for (const req of [
      { method: 'GET' as const, url: url(`proj_${projectId}`) },
      { method: 'GET' as const, url: url(`proj_${projectId}`, `/${mine.id}`) },
      { method: 'DELETE' as const, url: url(`proj_${projectId}`, `/${mine.id}`) },
      { method: 'POST' as const, url: url(`proj_${projectId}`), payload: { name: 'x', environment: 'production', scope: 'server' } },
    ]) {
      const res = await t.app.inject({ ...req, headers: as(stranger) });
      expect(res.statusCode, `${req.method} ${req.url}`).toBe(404);
    }
    // The stranger's own project cannot reach our key either.
    expect((await t.app.inject({ method: 'GET', url: url('default', `/${mine.id}`), headers: as(stranger) })).statusCode).toBe(404);
    expect((await evaluateWith(t.app, mine.key, {})).statusCode).toBe(200);
    // An API key is no management credential.
    expect((await t.app.inject({ method: 'GET', url: url(), headers: { 'x-api-key': mine.key } })).statusCode).toBe(403);
  });
});
