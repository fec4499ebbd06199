import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { startSmtpTestServer, type SmtpTestServer } from '../../testing/smtp-test-server.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('GET /api/v1/mail-outbox on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let developer: JoinedUser;
  let stranger: SignedUpUser;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app, { organizationName: 'Mailers' });
    developer = await inviteAndJoin(t.app, admin, 'developer');
    stranger = await signUp(t.app);
  });
  afterAll(async () => t.close());

  it("lists the organisation's mail, newest first, undelivered without SMTP", async () => {
    await t.app.inject({ method: 'POST', url: '/api/v1/invitations', headers: authHeader(admin.accessToken), payload: { email: 'second@example.com', role: 'viewer' } });
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/mail-outbox', headers: authHeader(admin.accessToken) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-total-count']).toBe('2');
    const mail = res.json();
    expect(mail.map((m: { to: string }) => m.to)).toEqual(['second@example.com', developer.email]);
    expect(mail[0]).toMatchObject({ id: expect.stringMatching(/^mail_\d+$/), subject: expect.stringContaining('Mailers'), sentAt: null, error: null, htmlBody: null });
    expect(mail[0].textBody).toContain('/invitations/accept?token=');
    const paged = await t.app.inject({ method: 'GET', url: '/api/v1/mail-outbox?limit=1&offset=1', headers: authHeader(admin.accessToken) });
    expect(paged.json().map((m: { to: string }) => m.to)).toEqual([developer.email]);
  });

  it('answers 401 without a token, 403 for a non-admin, 400 for bad paging', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/mail-outbox' })).statusCode).toBe(401);
    const dev = await t.app.inject({ method: 'GET', url: '/api/v1/mail-outbox', headers: authHeader(developer.accessToken) });
    expect(dev.statusCode).toBe(403);
    expect(dev.json().details).toEqual({ permission: 'mail:read' });
    const bad = await t.app.inject({ method: 'GET', url: '/api/v1/mail-outbox?offset=x', headers: authHeader(admin.accessToken) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toHaveProperty('offset');
  });

  it("never shows another organisation's mail", async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/mail-outbox', headers: authHeader(stranger.accessToken) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([]);
    // Naming the other organisation does not help: X-Tenant-ID only selects one you belong to.
    const named = await t.app.inject({ method: 'GET', url: '/api/v1/mail-outbox', headers: authHeader(stranger.accessToken, admin.organizationId) });
    expect(named.json()).toEqual([]);
  });
});

describe.each(testDialects())('invitation mail over SMTP through the app on %s', (dialect) => {
  let smtp: SmtpTestServer;
  let t: TestApp;
  beforeAll(async () => {
    smtp = await startSmtpTestServer();
    t = await createTestApp(dialect, { SMTP_URL: smtp.url });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  it('delivers the invitation by SMTP and records sentAt in the outbox', async () => {
    const admin = await signUp(t.app);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/invitations', headers: authHeader(admin.accessToken), payload: { email: 'wire@example.com', role: 'viewer' } });
    expect(res.statusCode).toBe(200);
    const [received] = await smtp.waitFor(1);
    expect(received!.to).toEqual(['wire@example.com']);
    expect(received!.data).toMatch(/^Subject: You are invited to join /m);
    const outbox = await t.app.inject({ method: 'GET', url: '/api/v1/mail-outbox', headers: authHeader(admin.accessToken) });
    expect(outbox.json()[0]).toMatchObject({ to: 'wire@example.com', sentAt: expect.any(String), error: null });
  });
});

describe.each(testDialects())('first admin from SWITCHYARD_ADMIN_* on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { SWITCHYARD_ADMIN_EMAIL: 'boss@example.com', SWITCHYARD_ADMIN_PASSWORD: 'bootstrap-pw', SWITCHYARD_ADMIN_ORG: 'HQ', SWITCHYARD_SIGNUP: 'invite-only' });
  });
  afterAll(async () => t.close());

  it('exists after buildApp: signs in, administers "HQ" with its default project', async () => {
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'boss@example.com', password: 'bootstrap-pw' } });
    expect(login.statusCode).toBe(200);
    const token = login.json().data.accessToken as string;
    const orgs = await t.app.inject({ method: 'GET', url: '/api/v1/organizations', headers: authHeader(token) });
    expect(orgs.json()).toEqual([expect.objectContaining({ name: 'HQ', role: 'admin' })]);
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: authHeader(token) });
    expect(me.json().user.platformRole).toBe('admin');
    const projects = await t.database.handle.db.selectFrom('projects').select(['key', 'is_default']).execute();
    expect(projects).toEqual([{ key: 'default', is_default: 1 }]);
  });

  it('on an invite-only server, people join through invitations', async () => {
    const signup = await t.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email: 'walk-in@example.com', password: 'password123' } });
    expect(signup.statusCode).toBe(403);
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'boss@example.com', password: 'bootstrap-pw' } });
    const data = login.json().data as { accessToken: string; active_tenant_id: string };
    const joined = await inviteAndJoin(t.app, { accessToken: data.accessToken, organizationId: Number(data.active_tenant_id.slice(7)) }, 'developer');
    const orgs = await t.app.inject({ method: 'GET', url: '/api/v1/organizations', headers: authHeader(joined.accessToken) });
    expect(orgs.json()).toEqual([expect.objectContaining({ name: 'HQ', role: 'developer' })]);
  });
});
