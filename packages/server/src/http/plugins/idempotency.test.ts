import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createCustomApp } from '../../testing/custom-app.js';
import type { TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';
import { ProblemSchema } from '../v1/problem.js';

describe.each(testDialects())('Idempotency-Key on %s', (dialect) => {
  let t: TestApp;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let flakyCalls = 0;

  beforeAll(async () => {
    t = await createCustomApp(dialect, {
      extend: (app) => {
        // Fails with a 500 on its first call: a failed request must not hold the key.
        app.post('/api/v1/test-flaky', {
          schema: { operationId: 'testFlaky', tags: ['test'], body: Type.Object({ n: Type.Integer() }), response: { 200: Type.Object({ calls: Type.Integer() }), 500: ProblemSchema } },
        }, async () => {
          flakyCalls++;
          if (flakyCalls === 1) throw new Error('boom');
          return { calls: flakyCalls };
        });
      },
    });
    alice = await signUp(t.app);
    bob = await signUp(t.app);
  });
  afterAll(async () => t.close());

  const createProject = (user: SignedUpUser, key: string | undefined, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/projects', headers: { ...authHeader(user.accessToken), ...(key === undefined ? {} : { 'idempotency-key': key }) }, payload });
  const projectsNamed = async (organizationId: number, name: string) =>
    (await t.database.handle.db.selectFrom('projects').select('id').where('organization_id', '=', organizationId).where('name', '=', name).execute()).length;

  it('a repeat with the same key and body returns the first response and does the work once', async () => {
    const first = await createProject(alice, 'create-mobile-1', { name: 'Mobile', color: '#123456' });
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await createProject(alice, 'create-mobile-1', { color: '#123456', name: 'Mobile' });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    expect(again.json()).toEqual(first.json());
    expect(await projectsNamed(alice.organizationId, 'Mobile')).toBe(1);
    // Without a key, the same request does the work again (409: the key derived from the name is taken).
    expect((await createProject(alice, undefined, { name: 'Mobile' })).statusCode).toBe(409);
  });

  it('the same key with a different body (or path) is refused with 422 idempotency_key_reused', async () => {
    expect((await createProject(alice, 'reused-1', { name: 'Web' })).statusCode).toBe(201);
    const other = await createProject(alice, 'reused-1', { name: 'Web 2' });
    expect(other.statusCode).toBe(422);
    expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(other.json().code).toBe('idempotency_key_reused');
    expect(await projectsNamed(alice.organizationId, 'Web 2')).toBe(0);
    const otherPath = await t.app.inject({ method: 'POST', url: '/api/v1/test-flaky', headers: { ...authHeader(alice.accessToken), 'idempotency-key': 'reused-1' }, payload: { n: 1 } });
    expect(otherPath.statusCode).toBe(422);
  });

  it('keys are per caller: another user with the same key does their own work', async () => {
    expect((await createProject(alice, 'shared-key', { name: 'Shared' })).statusCode).toBe(201);
    const bobs = await createProject(bob, 'shared-key', { name: 'Shared' });
    expect(bobs.statusCode).toBe(201);
    expect(bobs.headers['idempotent-replayed']).toBeUndefined();
    expect(await projectsNamed(bob.organizationId, 'Shared')).toBe(1);
  });

  it('a concurrent duplicate of a request still in flight gets 409; the work happens once', async () => {
    // A claim held by a request that is still running (same caller, key, method, path and body).
    const held = await t.app.services.idempotency.begin({ caller: `user:${alice.userId}`, key: 'in-flight-1', method: 'POST', url: '/api/v1/projects', body: { name: 'Busy' } });
    expect(held.kind).toBe('claimed');
    const dup = await createProject(alice, 'in-flight-1', { name: 'Busy' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('idempotency_request_in_progress');
    expect(await projectsNamed(alice.organizationId, 'Busy')).toBe(0);

    const [a, b] = await Promise.all([createProject(alice, 'race-1', { name: 'Race' }), createProject(alice, 'race-1', { name: 'Race' })]);
    expect([a.statusCode, b.statusCode].sort()).toEqual(expect.arrayContaining([201]));
    for (const r of [a, b]) expect([201, 409]).toContain(r.statusCode);
    expect(await projectsNamed(alice.organizationId, 'Race')).toBe(1);
  });

  it('malformed keys are a 400 naming the header; GET ignores the header', async () => {
    for (const key of ['has space', 'x'.repeat(256), 'tab\there']) {
      const res = await createProject(alice, key, { name: 'Never' });
      expect(res.statusCode, key).toBe(400);
      expect(res.json()).toMatchObject({ code: 'invalid_idempotency_key' });
      expect(res.json().errors).toHaveProperty('Idempotency-Key');
    }
    expect(await projectsNamed(alice.organizationId, 'Never')).toBe(0);
    expect((await createProject(alice, 'x'.repeat(255), { name: 'Longest key' })).statusCode).toBe(201);
    const get = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: { ...authHeader(alice.accessToken), 'idempotency-key': 'has space' } });
    expect(get.statusCode).toBe(200);
  });

  it('a failed (5xx) request does not keep the key: the retry does the work', async () => {
    const send = () => t.app.inject({ method: 'POST', url: '/api/v1/test-flaky', headers: { ...authHeader(alice.accessToken), 'idempotency-key': 'flaky-1' }, payload: { n: 1 } });
    expect((await send()).statusCode).toBe(500);
    const retry = await send();
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toEqual({ calls: 2 });
    const replay = await send();
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual({ calls: 2 });
    expect(flakyCalls).toBe(2);
  });

  it('stores only hashes and a sealed response; keys expire after 24 hours and are purged', async () => {
    const res = await createProject(alice, 'sealed-1', { name: 'Secretive Project' });
    expect(res.statusCode).toBe(201);
    const rows = await t.database.handle.db.selectFrom('idempotency_keys').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.lookup_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.lookup_hash).not.toContain('sealed-1');
      expect(r.response ?? '').not.toContain('Secretive');
      expect(Date.parse(r.expires_at) - Date.parse(r.created_at)).toBe(24 * 3600 * 1000);
    }
    // Past its 24 hours the key is free again (even for another body), and purging deletes it.
    await t.database.handle.db.updateTable('idempotency_keys').set({ expires_at: '2000-01-01T00:00:00.000Z' }).execute();
    const reusedLater = await createProject(alice, 'sealed-1', { name: 'Another Project' });
    expect(reusedLater.statusCode).toBe(201);
    expect(await t.app.services.idempotency.purgeExpired()).toBe(rows.length - 1);
    const left = await t.database.handle.db.selectFrom('idempotency_keys').select('id').execute();
    expect(left).toHaveLength(1);
  });
});
