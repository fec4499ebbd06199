import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/admin on %s', (dialect) => {
  let t: TestApp;
  let root: SignedUpUser;
  let alice: SignedUpUser;
  let bob: SignedUpUser;

  beforeAll(async () => {
    t = await createTestApp(dialect, { ADMIN_SUPER_USER_EMAILS: 'root@example.test', SWITCHYARD_PUBLIC_URL: 'https://flags.example.com' });
    root = await signUp(t.app, { email: 'root@example.test' });
    alice = await signUp(t.app);
    bob = await signUp(t.app);
  });
  afterAll(async () => t.close());

  const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, as?: { accessToken: string }, payload?: unknown) =>
    t.app.inject({ method, url, headers: as ? authHeader(as.accessToken) : {}, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  const tokenMailedTo = async (email: string) => {
    const rows = await t.database.handle.db.selectFrom('mail_outbox').select(['text_body', 'organization_id']).where('to_address', '=', email).orderBy('created_at', 'desc').execute();
    expect(rows[0]?.organization_id).toBeNull();
    return /"token": "([^"]+)"/.exec(rows[0]!.text_body)![1]!;
  };

  it('who may call what: super_user only, /admin/tenants for admins too; 401 without a token', async () => {
    const superOnly = [
      ['GET', '/api/v1/admin/users'],
      ['GET', '/api/v1/admin/users/system'],
      ['PATCH', `/api/v1/admin/users/usr_${bob.userId}/deactivate`],
      ['PATCH', `/api/v1/admin/users/usr_${bob.userId}/reactivate`],
      ['PATCH', `/api/v1/admin/users/usr_${bob.userId}/role`, { role: 'viewer' }],
      ['POST', '/api/v1/admin/invitations', { email: 'x@example.test', role: 'viewer' }],
      ['GET', '/api/v1/admin/invitations'],
      ['GET', '/api/v1/admin/invitations/inv_1'],
      ['DELETE', '/api/v1/admin/invitations/inv_1'],
      ['POST', '/api/v1/admin/invitations/inv_1/resend'],
    ] as const;
    for (const [method, url, payload] of superOnly) {
      expect((await req(method, url, undefined, payload)).statusCode, `anonymous ${method} ${url}`).toBe(401);
      expect((await req(method, url, alice, payload)).statusCode, `${method} ${url}`).toBe(403);
    }
    expect((await req('GET', '/api/v1/admin/tenants')).statusCode).toBe(401);
    expect((await req('GET', '/api/v1/admin/tenants', alice)).statusCode).toBe(403);

    // A platform admin may list tenants, and nothing of the super_user's.
    expect((await req('PATCH', `/api/v1/admin/users/usr_${alice.userId}/role`, root, { role: 'admin' })).json().role).toBe('admin');
    const tenants = await req('GET', '/api/v1/admin/tenants', alice);
    expect(tenants.statusCode).toBe(200);
    expect(tenants.headers['x-total-count']).toBe('3');
    expect(tenants.json().map((x: { id: string }) => x.id)).toContain(`tenant_${bob.organizationId}`);
    expect(tenants.json()[0]).toMatchObject({ memberCount: 1, isSandbox: false });
    for (const [method, url, payload] of superOnly.slice(0, 2)) expect((await req(method, url, alice, payload)).statusCode).toBe(403);
    await req('PATCH', `/api/v1/admin/users/usr_${alice.userId}/role`, root, { role: null });
    expect((await req('GET', '/api/v1/admin/tenants', alice)).statusCode).toBe(403);
  });

  it('GET /admin/users lists platform role holders, /admin/users/system every account', async () => {
    await req('PATCH', `/api/v1/admin/users/usr_${bob.userId}/role`, root, { role: 'viewer' });
    const admins = await req('GET', '/api/v1/admin/users', root);
    expect(admins.statusCode).toBe(200);
    const byEmail = Object.fromEntries((admins.json() as Array<{ email: string; role: string }>).map((u) => [u.email, u.role]));
    expect(byEmail).toEqual({ 'root@example.test': 'super_user', [bob.email]: 'viewer' });
    const all = await req('GET', '/api/v1/admin/users/system?limit=2', root);
    expect(all.json()).toHaveLength(2);
    expect(all.headers['x-total-count']).toBe('3');
    expect(all.json()[0]).toMatchObject({ id: `usr_${root.userId}`, email: 'root@example.test', role: 'super_user', status: 'active' });
    await req('PATCH', `/api/v1/admin/users/usr_${bob.userId}/role`, root, { role: null });
  });

  it('PATCH role: super_user only for ADMIN_SUPER_USER_EMAILS; unknown roles 422; audited', async () => {
    const su = await req('PATCH', `/api/v1/admin/users/usr_${bob.userId}/role`, root, { role: 'super_user' });
    expect(su.statusCode).toBe(422);
    expect(su.json().errors).toHaveProperty('role');
    expect((await req('PATCH', `/api/v1/admin/users/usr_${bob.userId}/role`, root, { role: 'god' })).statusCode).toBe(422);
    expect((await req('PATCH', `/api/v1/admin/users/usr_${bob.userId}/role`, root, {})).statusCode).toBe(422);
    expect((await req('PATCH', `/api/v1/admin/users/usr_${root.userId}/role`, root, { role: 'viewer' })).statusCode).toBe(422);
    expect((await req('PATCH', '/api/v1/admin/users/usr_1/role', root, { role: 'viewer' })).statusCode).toBe(404);
    const ok = await req('PATCH', `/api/v1/admin/users/usr_${bob.userId}/role`, root, { role: 'admin' });
    expect(ok.json()).toMatchObject({ id: `usr_${bob.userId}`, role: 'admin' });
    const stored = await t.database.handle.db.selectFrom('users').select('platform_role').where('id', '=', bob.userId).executeTakeFirstOrThrow();
    expect(stored.platform_role).toBe('admin');
    const audit = await t.database.handle.db.selectFrom('audit_events').selectAll().where('action', '=', 'user.platform_role_changed').where('resource_id', '=', String(bob.userId)).execute();
    expect(audit.length).toBeGreaterThan(0);
    await req('PATCH', `/api/v1/admin/users/usr_${bob.userId}/role`, root, { role: null });
  });

  it("deactivate: the user's tokens stop working at once and sign-in is refused; reactivate lets them sign in again", async () => {
    const victim = await signUp(t.app);
    expect((await req('GET', '/api/v1/auth/me', victim)).statusCode).toBe(200);
    expect((await req('PATCH', `/api/v1/admin/users/usr_${root.userId}/deactivate`, root)).statusCode).toBe(409);
    const off = await req('PATCH', `/api/v1/admin/users/usr_${victim.userId}/deactivate`, root);
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ status: 'deactivated' });
    expect((await req('GET', '/api/v1/auth/me', victim)).statusCode).toBe(401);
    expect((await req('GET', '/api/v1/projects', victim)).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh-token', payload: { refreshToken: victim.refreshToken } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: victim.email, password: victim.password } })).statusCode).toBe(401);
    const sessions = await t.database.handle.db.selectFrom('sessions').select('revoked_reason').where('user_id', '=', victim.userId).execute();
    expect(sessions.every((s) => s.revoked_reason === 'deactivated')).toBe(true);

    const on = await req('PATCH', `/api/v1/admin/users/usr_${victim.userId}/reactivate`, root);
    expect(on.json()).toMatchObject({ status: 'active' });
    expect((await req('GET', '/api/v1/auth/me', victim)).statusCode).toBe(401);
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: victim.email, password: victim.password } });
    expect(login.statusCode).toBe(200);
    expect((await req('PATCH', '/api/v1/admin/users/usr_1/deactivate', root)).statusCode).toBe(404);
  });

  it('invitations: create (201, mailed), list, get, accept as the invited email, used once; viewer|admin only', async () => {
    const created = await req('POST', '/api/v1/admin/invitations', root, { email: 'Carol@Example.test', role: 'admin' });
    expect(created.statusCode).toBe(201);
    const inv = created.json();
    expect(inv).toMatchObject({ id: expect.stringMatching(/^inv_\d+$/), email: 'carol@example.test', role: 'admin', status: 'pending', invitedBy: `usr_${root.userId}`, acceptedAt: null });
    const token = await tokenMailedTo('carol@example.test');
    expect(created.body).not.toContain(token);
    const stored = await t.database.handle.db.selectFrom('invitations').selectAll().where('id', '=', Number(inv.id.slice(4))).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ kind: 'platform', organization_id: null });
    expect(stored.token_hash).not.toContain(token);

    expect((await req('POST', '/api/v1/admin/invitations', root, { email: 'carol@example.test', role: 'admin' })).json().code).toBe('invitation_pending');
    expect((await req('POST', '/api/v1/admin/invitations', root, { email: 'dave@example.test', role: 'super_user' })).statusCode).toBe(422);
    expect((await req('POST', '/api/v1/admin/invitations', root, { email: 'nope', role: 'viewer' })).statusCode).toBe(422);
    expect((await req('POST', '/api/v1/admin/invitations', root, { email: 'root@example.test', role: 'viewer' })).statusCode).toBe(409);

    const list = await req('GET', '/api/v1/admin/invitations', root);
    expect(list.json().map((i: { id: string }) => i.id)).toContain(inv.id);
    expect((await req('GET', `/api/v1/admin/invitations/${inv.id}`, root)).json()).toEqual(inv);
    expect((await req('GET', '/api/v1/admin/invitations/inv_1', root)).statusCode).toBe(404);

    // Someone else cannot use it; the invited email (once signed up) can, once.
    expect((await req('POST', '/api/v1/admin/invitations/accept', alice, { token })).statusCode).toBe(403);
    expect((await req('POST', '/api/v1/admin/invitations/accept', undefined, { token })).statusCode).toBe(401);
    const carol = await signUp(t.app, { email: 'carol@example.test' });
    const accepted = await req('POST', '/api/v1/admin/invitations/accept', carol, { token });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ invitation: { status: 'accepted', acceptedBy: `usr_${carol.userId}` }, user: { email: 'carol@example.test', role: 'admin' } });
    expect((await req('GET', '/api/v1/admin/tenants', carol)).statusCode).toBe(200);
    expect((await req('POST', '/api/v1/admin/invitations/accept', carol, { token })).json().code).toBe('invitation_used');
    expect((await req('POST', '/api/v1/admin/invitations/accept', carol, { token: 'made-up' })).json().code).toBe('invitation_not_found');
  });

  it('invitations: resend replaces the link; revoke ends it (409 when no longer pending)', async () => {
    const inv = (await req('POST', '/api/v1/admin/invitations', root, { email: 'erin@example.test', role: 'viewer' })).json();
    const oldToken = await tokenMailedTo('erin@example.test');
    const resent = await req('POST', `/api/v1/admin/invitations/${inv.id}/resend`, root);
    expect(resent.statusCode).toBe(200);
    const newToken = await tokenMailedTo('erin@example.test');
    expect(newToken).not.toBe(oldToken);
    const erin = await signUp(t.app, { email: 'erin@example.test' });
    expect((await req('POST', '/api/v1/admin/invitations/accept', erin, { token: oldToken })).statusCode).toBe(404);
    const revoked = await req('DELETE', `/api/v1/admin/invitations/${inv.id}`, root);
    expect(revoked.json().status).toBe('revoked');
    expect((await req('DELETE', `/api/v1/admin/invitations/${inv.id}`, root)).statusCode).toBe(409);
    expect((await req('POST', `/api/v1/admin/invitations/${inv.id}/resend`, root)).statusCode).toBe(409);
    expect((await req('POST', '/api/v1/admin/invitations/accept', erin, { token: newToken })).json().code).toBe('invitation_not_found');
  });

  it('POST /admin/invite (deprecated): admin → platform invitation, user → tenant invite as developer', async () => {
    const admin = await t.app.inject({ method: 'POST', url: '/admin/invite', headers: authHeader(root.accessToken), payload: { email: 'frank@example.test', role: 'admin' } });
    expect(admin.statusCode).toBe(201);
    expect(admin.headers.deprecation).toBe('true');
    expect(admin.headers.link).toBe('</api/v1/admin/invitations>; rel="successor-version"');
    expect(admin.json()).toMatchObject({ email: 'frank@example.test', role: 'admin', status: 'pending' });
    expect((await t.app.inject({ method: 'POST', url: '/admin/invite', headers: authHeader(alice.accessToken), payload: { email: 'x@example.test', role: 'admin' } })).statusCode).toBe(403);

    const user = await t.app.inject({ method: 'POST', url: '/admin/invite', headers: authHeader(alice.accessToken, alice.organizationId), payload: { email: 'grace@example.test', role: 'user' } });
    expect(user.statusCode).toBe(201);
    expect(user.headers.link).toBe(`</api/v1/tenants/tenant_${alice.organizationId}/users>; rel="successor-version"`);
    expect(user.json()).toMatchObject({ email: 'grace@example.test', role: 'developer', status: 'invited', invitationId: expect.stringMatching(/^inv_/) });
    expect((await t.app.inject({ method: 'POST', url: '/admin/invite', payload: { email: 'x@example.test', role: 'user' } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/admin/invite', headers: authHeader(alice.accessToken), payload: { email: 'x@example.test', role: 'owner' } })).statusCode).toBe(422);
  });

  it('/api/admin/… is not an alias of /api/v1/admin/… (Flipswitch lives there)', async () => {
    for (const url of ['/api/admin/users', '/api/admin/tenants', '/api/admin/me']) {
      const res = await req('GET', url, root);
      expect(res.headers.deprecation, url).toBeUndefined();
      if (res.statusCode === 200) expect(Array.isArray(res.json()), url).toBe(false);
    }
  });
});
