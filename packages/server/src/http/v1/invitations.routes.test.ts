import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationTokenFromOutbox, inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/invitations on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let viewer: JoinedUser;
  let stranger: SignedUpUser;

  beforeAll(async () => {
    t = await createTestApp(dialect, { SWITCHYARD_PUBLIC_URL: 'https://flags.example.com' });
    admin = await signUp(t.app, { organizationName: 'Acme' });
    viewer = await inviteAndJoin(t.app, admin, 'viewer');
    stranger = await signUp(t.app);
  });
  afterAll(async () => t.close());

  const as = (user: { accessToken: string }) => authHeader(user.accessToken);
  const invite = (user: { accessToken: string }, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/invitations', headers: as(user), payload });
  const accept = (payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', headers, payload });

  it('POST invites an email as a role, mails a link and never shows the token', async () => {
    const res = await invite(admin, { email: 'Dev@Example.com', role: 'developer' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      id: expect.stringMatching(/^inv_\d+$/),
      organizationId: `tenant_${admin.organizationId}`,
      email: 'dev@example.com',
      role: 'developer',
      status: 'pending',
      invitedBy: `usr_${admin.userId}`,
      acceptedAt: null,
    });
    expect(Date.parse(body.expiresAt) - Date.parse(body.createdAt)).toBe(7 * 24 * 3600 * 1000);
    const token = await invitationTokenFromOutbox(t.app, admin, 'dev@example.com');
    expect(res.body).not.toContain(token);
    const audit = await t.database.handle.db.selectFrom('audit_events').select('action').where('resource_id', '=', body.id.slice(4)).execute();
    expect(audit.map((a) => a.action)).toEqual(['invitation.created']);
  });

  it('answers 401 without a token (accept excepted)', async () => {
    for (const [method, url] of [['GET', '/api/v1/invitations'], ['POST', '/api/v1/invitations'], ['GET', '/api/v1/invitations/inv_1'], ['DELETE', '/api/v1/invitations/inv_1'], ['POST', '/api/v1/invitations/inv_1/resend']] as const) {
      const res = await t.app.inject({ method, url, ...(method === 'POST' ? { payload: {} } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
    const badToken = await accept({ token: 'whatever' }, { authorization: 'Bearer not-a-real-token' });
    expect(badToken.statusCode).toBe(401);
  });

  it('POST: 403 for a viewer, 409 for a member or an open invitation, 422 naming the field', async () => {
    expect((await invite(viewer, { email: 'x@example.com', role: 'viewer' })).statusCode).toBe(403);
    const member = await invite(admin, { email: viewer.email, role: 'viewer' });
    expect(member.statusCode).toBe(409);
    expect(member.json().code).toBe('already_member');
    await invite(admin, { email: 'twice@example.com', role: 'viewer' });
    const twice = await invite(admin, { email: 'twice@example.com', role: 'viewer' });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('invitation_pending');
    const badEmail = await invite(admin, { email: 'not an email', role: 'viewer' });
    expect(badEmail.statusCode).toBe(422);
    expect(badEmail.json().errors).toHaveProperty('email');
    const badRole = await invite(admin, { email: 'y@example.com', role: 'overlord' });
    expect(badRole.statusCode).toBe(422);
    expect(badRole.json().errors).toHaveProperty('role');
    const missing = await invite(admin, { email: 'y@example.com' });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toHaveProperty('role');
  });

  it('GET lists (status filter, X-Total-Count) and reads one; 403 for a viewer; 404 across organisations', async () => {
    const created = (await invite(admin, { email: 'listed@example.com', role: 'viewer' })).json();
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/invitations?status=pending', headers: as(admin) });
    expect(list.statusCode).toBe(200);
    expect(list.json().every((i: { status: string }) => i.status === 'pending')).toBe(true);
    expect(list.json().map((i: { id: string }) => i.id)).toContain(created.id);
    expect(Number(list.headers['x-total-count'])).toBe(list.json().length);
    const accepted = await t.app.inject({ method: 'GET', url: '/api/v1/invitations?status=accepted', headers: as(admin) });
    expect(accepted.json().map((i: { email: string }) => i.email)).toEqual([viewer.email]);
    const badStatus = await t.app.inject({ method: 'GET', url: '/api/v1/invitations?status=lost', headers: as(admin) });
    expect(badStatus.statusCode).toBe(400);
    expect(badStatus.json().errors).toHaveProperty('status');

    expect((await t.app.inject({ method: 'GET', url: `/api/v1/invitations/${created.id}`, headers: as(admin) })).json()).toMatchObject({ email: 'listed@example.com' });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/invitations', headers: as(viewer) })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/invitations/${created.id}`, headers: as(stranger) })).statusCode).toBe(404);
  });

  it('accept without a login creates the account, joins it and answers the login body', async () => {
    await invite(admin, { email: 'newbie@example.com', role: 'developer' });
    const token = await invitationTokenFromOutbox(t.app, admin, 'newbie@example.com');
    const noPassword = await accept({ token });
    expect(noPassword.statusCode).toBe(422);
    expect(noPassword.json().errors).toHaveProperty('password');
    const shortPassword = await accept({ token, password: 'short' });
    expect(shortPassword.statusCode).toBe(422);
    expect(shortPassword.json().errors).toHaveProperty('password');

    const res = await accept({ token, password: 'password123', name: 'New Bie' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toMatchObject({
      success: true,
      message: 'Invitation accepted',
      data: {
        organization: { id: `tenant_${admin.organizationId}`, name: 'Acme', role: 'developer' },
        user: { email: 'newbie@example.com', name: 'New Bie', tenant_id: `tenant_${admin.organizationId}`, role: 'developer' },
        active_tenant_id: `tenant_${admin.organizationId}`,
        active_tenant_role: 'developer',
        tokenType: 'Bearer',
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
      },
    });
    // The tokens work, in the organisation joined, with the role's permissions.
    const members = await t.app.inject({ method: 'GET', url: '/api/v1/members', headers: authHeader(body.data.accessToken) });
    expect(members.statusCode).toBe(200);
    expect(members.json().map((m: { email: string }) => m.email)).toContain('newbie@example.com');
    // And the password is theirs now.
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'newbie@example.com', password: 'password123' } });
    expect(login.statusCode).toBe(200);
    // Single use.
    const again = await accept({ token, password: 'password123' });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('invitation_used');
  });

  it('accept when signed in as the invited email joins and answers tokens for the organisation; another email is 403', async () => {
    const invitee = await signUp(t.app);
    const other = await signUp(t.app);
    await invite(admin, { email: invitee.email, role: 'viewer' });
    const token = await invitationTokenFromOutbox(t.app, admin, invitee.email);
    const anonymous = await accept({ token, password: 'password123' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().code).toBe('login_required');
    const wrong = await accept({ token }, as(other));
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().code).toBe('invitation_email_mismatch');
    const res = await accept({ token }, as(invitee));
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      organization: { id: `tenant_${admin.organizationId}`, role: 'viewer' },
      active_tenant_id: `tenant_${admin.organizationId}`,
      tenants: expect.arrayContaining([expect.objectContaining({ tenant_id: `tenant_${invitee.organizationId}`, role: 'admin' })]),
    });
    const members = await t.app.inject({ method: 'GET', url: '/api/v1/members', headers: authHeader(res.json().data.accessToken) });
    expect(members.json().map((m: { email: string }) => m.email)).toContain(invitee.email);
  });

  it('accept refuses unknown (404 invitation_not_found), expired (404 invitation_expired) and revoked tokens', async () => {
    const unknown = await accept({ token: 'no-such-token', password: 'password123' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('invitation_not_found');

    const created = (await invite(admin, { email: 'late@example.com', role: 'viewer' })).json();
    const token = await invitationTokenFromOutbox(t.app, admin, 'late@example.com');
    await t.database.handle.db.updateTable('invitations').set({ expires_at: new Date(Date.now() - 60_000).toISOString() }).where('id', '=', Number(created.id.slice(4))).execute();
    const expired = await accept({ token, password: 'password123' });
    expect(expired.statusCode).toBe(404);
    expect(expired.json().code).toBe('invitation_expired');
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/invitations/${created.id}`, headers: as(admin) })).json().status).toBe('expired');

    const bad = await accept({ password: 'password123' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toHaveProperty('token');
  });

  it('DELETE revokes (audited; the link dies); 403 for a viewer; 404 across organisations; 409 twice', async () => {
    const created = (await invite(admin, { email: 'revoke-me@example.com', role: 'viewer' })).json();
    const token = await invitationTokenFromOutbox(t.app, admin, 'revoke-me@example.com');
    const url = `/api/v1/invitations/${created.id}`;
    expect((await t.app.inject({ method: 'DELETE', url, headers: as(viewer) })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'DELETE', url, headers: as(stranger) })).statusCode).toBe(404);
    const res = await t.app.inject({ method: 'DELETE', url, headers: as(admin) });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('revoked');
    expect((await t.app.inject({ method: 'DELETE', url, headers: as(admin) })).statusCode).toBe(409);
    expect((await accept({ token, password: 'password123' })).json().code).toBe('invitation_not_found');
    const audit = await t.database.handle.db.selectFrom('audit_events').select('action').where('resource_id', '=', created.id.slice(4)).execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['invitation.created', 'invitation.revoked']);
  });

  it('POST resend mails a new link and kills the old one; 403 for a viewer; 404 across organisations', async () => {
    const created = (await invite(admin, { email: 'resend@example.com', role: 'viewer' })).json();
    const first = await invitationTokenFromOutbox(t.app, admin, 'resend@example.com');
    const url = `/api/v1/invitations/${created.id}/resend`;
    expect((await t.app.inject({ method: 'POST', url, headers: as(viewer) })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url, headers: as(stranger) })).statusCode).toBe(404);
    const res = await t.app.inject({ method: 'POST', url, headers: as(admin) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: created.id, status: 'pending' });
    const second = await invitationTokenFromOutbox(t.app, admin, 'resend@example.com');
    expect(second).not.toBe(first);
    expect((await accept({ token: first, password: 'password123' })).statusCode).toBe(404);
    expect((await accept({ token: second, password: 'password123' })).statusCode).toBe(200);
  });
});
