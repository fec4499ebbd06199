import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/users/{userId}/product-tours on %s', (dialect) => {
  let t: TestApp;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let root: SignedUpUser;

  beforeAll(async () => {
    t = await createTestApp(dialect, { ADMIN_SUPER_USER_EMAILS: 'root@example.test' });
    alice = await signUp(t.app);
    bob = await signUp(t.app);
    root = await signUp(t.app, { email: 'root@example.test' });
  });
  afterAll(async () => t.close());

  const url = (user: { userId: number }, tour = 'main-onboarding@v1') => `/api/v1/users/usr_${user.userId}/product-tours/${tour}`;
  const call = (method: 'GET' | 'PUT' | 'DELETE', as: SignedUpUser, path: string, payload?: Record<string, unknown>) =>
    t.app.inject({ method, url: path, headers: authHeader(as.accessToken), ...(payload ? { payload } : {}) });

  it('GET of a tour never recorded: not completed, null times', async () => {
    const res = await call('GET', alice, url(alice));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ completed: false, completed_at: null, created_at: null, updated_at: null });
  });

  it('PUT records completion (completed_at defaults to now), GET reads it, DELETE resets it', async () => {
    const put = await call('PUT', alice, url(alice), { completed: true });
    expect(put.statusCode).toBe(200);
    const body = put.json();
    expect(body.completed).toBe(true);
    expect(Math.abs(Date.parse(body.completed_at) - Date.now())).toBeLessThan(60_000);
    expect(body.created_at).toEqual(expect.any(String));
    const given = await call('PUT', alice, url(alice), { completed: true, completed_at: '2024-01-20T15:30:00Z' });
    expect(given.json()).toMatchObject({ completed: true, completed_at: '2024-01-20T15:30:00.000Z', created_at: body.created_at });
    expect((await call('GET', alice, url(alice))).json()).toEqual(given.json());
    const rows = await t.database.handle.db.selectFrom('product_tours').selectAll().where('user_id', '=', alice.userId).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ tour_key: 'main-onboarding@v1', completed: 1 });

    const del = await call('DELETE', alice, url(alice));
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect((await call('GET', alice, url(alice))).json()).toEqual({ completed: false, completed_at: null, created_at: null, updated_at: null });
    expect(await t.database.handle.db.selectFrom('product_tours').selectAll().where('user_id', '=', alice.userId).execute()).toHaveLength(0);
  });

  it('completed: false clears completed_at; tours are per user and per key', async () => {
    await call('PUT', alice, url(alice, 'flags-tour@v2'), { completed: true });
    const undone = await call('PUT', alice, url(alice, 'flags-tour@v2'), { completed: false });
    expect(undone.json()).toMatchObject({ completed: false, completed_at: null });
    await call('PUT', alice, url(alice, 'other.tour'), { completed: true });
    expect((await call('GET', bob, url(bob, 'other.tour'))).json().completed).toBe(false);
  });

  it("another user's tours are 404; a platform admin reaches anyone's", async () => {
    await call('PUT', alice, url(alice, 'secret@v1'), { completed: true });
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const res = await call(method, bob, url(alice, 'secret@v1'), method === 'PUT' ? { completed: false } : undefined);
      expect(res.statusCode, method).toBe(404);
    }
    expect((await call('GET', alice, url(alice, 'secret@v1'))).json().completed).toBe(true);
    const asAdmin = await call('GET', root, url(alice, 'secret@v1'));
    expect(asAdmin.statusCode).toBe(200);
    expect(asAdmin.json().completed).toBe(true);
    expect((await call('PUT', root, url(alice, 'secret@v1'), { completed: false })).json().completed).toBe(false);
    expect((await call('GET', root, '/api/v1/users/usr_1/product-tours/x')).statusCode).toBe(404);
    expect((await call('GET', bob, '/api/v1/users/not-a-user/product-tours/x')).statusCode).toBe(404);
  });

  it('401 without a token; 400 for a bad tour key; 422 for a bad body', async () => {
    expect((await t.app.inject({ method: 'GET', url: url(alice) })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'PUT', url: url(alice), payload: { completed: true } })).statusCode).toBe(401);
    for (const bad of ['-starts-with-dash', 'has%20space', 'two@at@signs', 'x'.repeat(129)]) {
      const res = await call('GET', alice, url(alice, bad));
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().code).toBe('bad_request');
    }
    const missing = await call('PUT', alice, url(alice), {});
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toHaveProperty('completed');
    const badDate = await call('PUT', alice, url(alice), { completed: true, completed_at: 'yesterday' });
    expect(badDate.statusCode).toBe(422);
    const future = await call('PUT', alice, url(alice), { completed: true, completed_at: '2999-01-01T00:00:00Z' });
    expect(future.statusCode).toBe(422);
    expect(future.json().errors).toHaveProperty('completed_at');
    const contradictory = await call('PUT', alice, url(alice), { completed: false, completed_at: '2024-01-01T00:00:00Z' });
    expect(contradictory.statusCode).toBe(422);
  });

  it('PUT honours Idempotency-Key', async () => {
    const send = () => t.app.inject({ method: 'PUT', url: url(alice, 'idem@v1'), headers: { ...authHeader(alice.accessToken), 'idempotency-key': 'tour-put-1' }, payload: { completed: true } });
    const first = await send();
    const again = await send();
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
  });
});
