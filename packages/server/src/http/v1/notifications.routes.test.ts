import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { startFcmTestServer, type FcmTestServer } from '../../testing/fcm-test-server.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/notifications on %s', (dialect) => {
  let fcm: FcmTestServer;
  let t: TestApp;
  let root: SignedUpUser;
  let alice: SignedUpUser;
  let bob: JoinedUser;
  let stranger: SignedUpUser;

  beforeAll(async () => {
    fcm = await startFcmTestServer('acme-push');
    t = await createTestApp(dialect, { ADMIN_SUPER_USER_EMAILS: 'root@example.test', FCM_SERVICE_ACCOUNT_JSON: fcm.serviceAccountJson, FCM_API_BASE_URL: fcm.url });
    root = await signUp(t.app, { email: 'root@example.test' });
    alice = await signUp(t.app, { organizationName: 'Acme' });
    bob = await inviteAndJoin(t.app, alice, 'viewer');
    stranger = await signUp(t.app);
  });
  afterAll(async () => {
    await t.close();
    await fcm.close();
  });

  const as = (u: { accessToken: string }) => authHeader(u.accessToken);
  const send = (by: { accessToken: string }, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/api/v1/notifications/send', headers: as(by), payload });
  const list = (u: { accessToken: string }, query = '') => t.app.inject({ method: 'GET', url: `/api/v1/notifications${query}`, headers: as(u) });
  const register = (u: { accessToken: string }, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/api/v1/notifications/device-tokens', headers: as(u), payload });
  const deliveriesOf = (id: string) => t.database.handle.db.selectFrom('notification_deliveries').selectAll().where('notification_id', '=', Number(id.replace('ntf_', ''))).execute();

  it('device tokens: register (201, again 200), list, delete (404 for one not yours); bad input 422', async () => {
    const token = `fcm-${'a'.repeat(150)}:APA91b`;
    const first = await register(alice, { deviceToken: token, deviceName: 'Chrome', deviceType: 'web' });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ deviceToken: token, deviceName: 'Chrome', deviceType: 'web', lastDeliveredAt: null });
    const again = await register(alice, { deviceToken: token, deviceName: 'Chrome 2', deviceType: 'web' });
    expect(again.statusCode).toBe(200);
    expect(again.json().deviceName).toBe('Chrome 2');
    const listed = await t.app.inject({ method: 'GET', url: '/api/v1/notifications/device-tokens', headers: as(alice) });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().map((d: { deviceToken: string }) => d.deviceToken)).toEqual([token]);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/notifications/device-tokens', headers: as(bob) })).json()).toEqual([]);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/notifications/device-tokens/${token}`, headers: as(bob) })).statusCode).toBe(404);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/notifications/device-tokens/${token}`, headers: as(alice) });
    expect(del.statusCode).toBe(204);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/notifications/device-tokens/${token}`, headers: as(alice) })).statusCode).toBe(404);
    expect((await register(alice, { deviceToken: 'x', deviceType: 'fridge' })).statusCode).toBe(422);
    expect((await register(alice, { deviceToken: 'has space', deviceType: 'web' })).statusCode).toBe(422);
    expect((await register(alice, { deviceType: 'web' })).json().errors).toHaveProperty('deviceToken');
  });

  it('send: platform admins only (401 anonymous, 403 others); pushed through FCM with an OAuth2 bearer; outcomes recorded', async () => {
    await register(alice, { deviceToken: 'alice-phone-1', deviceName: 'Pixel', deviceType: 'android' });
    await register(alice, { deviceToken: 'bad-uninstalled', deviceType: 'ios' });
    const payload = { userId: `usr_${alice.userId}`, title: 'Maintenance', body: 'Tonight at 22:00', type: 'system', icon: 'bell', actionType: 'link', referenceId: 'flag_123', data: { source: 'system' } };
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/notifications/send', payload })).statusCode).toBe(401);
    const forbidden = await send(alice, payload);
    expect(forbidden.statusCode).toBe(403);
    const sent = await send(root, payload);
    expect(sent.statusCode).toBe(201);
    expect(sent.json()).toMatchObject({ success: true, sentCount: 1, notificationIds: [expect.stringMatching(/^ntf_\d+$/)] });
    const id = sent.json().notificationIds[0] as string;
    await t.app.services.notifications.idle();

    const pushed = fcm.pushes.filter((p) => p.message.data?.notificationId === id);
    expect(pushed.map((p) => p.message.token).sort()).toEqual(['alice-phone-1', 'bad-uninstalled']);
    expect(pushed[0]).toMatchObject({ project: 'acme-push', message: { notification: { title: 'Maintenance', body: 'Tonight at 22:00' }, data: { source: 'system', type: 'system' } } });
    expect(fcm.tokenGrants).toBe(1);
    expect(fcm.refusedGrants).toBe(0);
    const deliveries = await deliveriesOf(id);
    const byStatus = Object.fromEntries(deliveries.map((d) => [d.status, d]));
    expect(Object.keys(byStatus).sort()).toEqual(['delivered', 'failed']);
    expect(byStatus.delivered).toMatchObject({ provider: 'fcm', provider_message_id: expect.stringMatching(/^projects\/acme-push\/messages\//) });
    expect(byStatus.failed!.error).toContain('UNREGISTERED');
    // FCM said the token is gone: it is forgotten.
    const tokens = (await t.app.inject({ method: 'GET', url: '/api/v1/notifications/device-tokens', headers: as(alice) })).json();
    expect(tokens.map((d: { deviceToken: string }) => d.deviceToken)).toEqual(['alice-phone-1']);
    expect(tokens[0].lastDeliveredAt).toEqual(expect.any(String));

    const mine = await list(alice);
    expect(mine.json().notifications[0]).toMatchObject({ id, userId: `usr_${alice.userId}`, tenantId: null, title: 'Maintenance', body: 'Tonight at 22:00', type: 'system', icon: 'bell', actionType: 'link', referenceId: 'flag_123', data: { source: 'system' }, read: false, readAt: null });
  });

  it('send to a tenant reaches every member; bad targets are 404/422', async () => {
    const sent = await send(root, { tenantId: `tenant_${alice.organizationId}`, title: 'Hello team' });
    expect(sent.json().sentCount).toBe(2);
    for (const u of [alice, bob]) expect((await list(u)).json().notifications.some((n: { title: string; tenantId: string }) => n.title === 'Hello team' && n.tenantId === `tenant_${alice.organizationId}`)).toBe(true);
    expect((await list(stranger)).json().notifications.some((n: { title: string }) => n.title === 'Hello team')).toBe(false);
    expect((await send(root, { tenantId: `tenant_${alice.organizationId}`, userId: `usr_${stranger.userId}`, title: 'x' })).statusCode).toBe(422);
    expect((await send(root, { tenantId: 'tenant_1', title: 'x' })).statusCode).toBe(404);
    expect((await send(root, { userId: 'usr_1', title: 'x' })).statusCode).toBe(404);
    expect((await send(root, { title: 'nobody' })).statusCode).toBe(422);
    expect((await send(root, { userId: `usr_${alice.userId}`, title: '' })).statusCode).toBe(422);
  });

  it('a flag change notifies everyone else with access to the project, not the one who made it', async () => {
    const projects = (await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: as(alice) })).json();
    const projectId = projects[0].id as string;
    const created = await t.app.inject({ method: 'POST', url: `/api/v1/projects/${projectId}/flags`, headers: as(alice), payload: { key: 'new-checkout', name: 'New checkout', type: 'boolean' } });
    expect(created.statusCode).toBeLessThan(300);
    await t.app.services.notifications.idle();
    const bobs = (await list(bob)).json().notifications.filter((n: { type: string }) => n.type === 'flag_change');
    expect(bobs).toHaveLength(1);
    expect(bobs[0]).toMatchObject({ tenantId: `tenant_${alice.organizationId}`, title: 'Flag "new-checkout" created', referenceId: expect.stringMatching(/^flag_\d+$/), data: { flagKey: 'new-checkout', action: 'created', projectId } });
    expect(bobs[0].body).toContain('by ');
    expect((await list(alice)).json().notifications.filter((n: { type: string }) => n.type === 'flag_change')).toHaveLength(0);
    expect((await list(stranger)).json().notifications).toHaveLength(0);
    // Targeting writes are flag changes too.
    const enabled = await t.app.inject({ method: 'POST', url: `/api/v1/projects/${projectId}/flags/new-checkout/environments/production/enable`, headers: as(alice) });
    expect(enabled.statusCode).toBe(200);
    await t.app.services.notifications.idle();
    expect((await list(bob)).json().notifications.filter((n: { type: string }) => n.type === 'flag_change')).toHaveLength(2);
    // Pushed to the devices of the people notified, recorded either way.
    const bobsNotification = bobs[0].id as string;
    expect(await deliveriesOf(bobsNotification)).toEqual([]);
  });

  it('list: limit/offset/unreadOnly, totals; get; mark read; read-all; clear', async () => {
    for (let i = 0; i < 3; i++) await send(root, { userId: `usr_${bob.userId}`, title: `Batch ${i}` });
    const all = (await list(bob)).json();
    expect(all.totalCount).toBe(all.notifications.length);
    expect(all.unreadCount).toBe(all.totalCount);
    const page = (await list(bob, '?limit=2&offset=1')).json();
    expect(page.notifications).toHaveLength(2);
    expect(page.notifications[0].id).toBe(all.notifications[1].id);
    expect(page.totalCount).toBe(all.totalCount);
    for (const q of ['?unreadOnly=yes', '?unreadOnly=1', '?limit=0', '?limit=101', '?offset=-1']) {
      const res = await list(bob, q);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().code).toBe('bad_request');
    }

    const first = all.notifications[0].id as string;
    const got = await t.app.inject({ method: 'GET', url: `/api/v1/notifications/${first}`, headers: as(bob) });
    expect(got.statusCode).toBe(200);
    expect(got.json().id).toBe(first);
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/notifications/${first}`, headers: as(alice) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'PATCH', url: `/api/v1/notifications/${first}/read`, headers: as(alice) })).statusCode).toBe(404);
    const read = await t.app.inject({ method: 'PATCH', url: `/api/v1/notifications/${first}/read`, headers: as(bob) });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ read: true, readAt: expect.any(String) });
    const unread = (await list(bob, '?unreadOnly=true')).json();
    expect(unread.totalCount).toBe(all.totalCount - 1);
    expect(unread.unreadCount).toBe(all.totalCount - 1);
    expect(unread.notifications.every((n: { read: boolean }) => !n.read)).toBe(true);

    const readAll = await t.app.inject({ method: 'PATCH', url: '/api/v1/notifications/read-all', headers: as(bob) });
    expect(readAll.json()).toEqual({ success: true, markedCount: all.totalCount - 1 });
    expect((await list(bob)).json().unreadCount).toBe(0);
    const aliceBefore = (await list(alice)).json().totalCount;
    const cleared = await t.app.inject({ method: 'DELETE', url: '/api/v1/notifications/clear', headers: as(bob) });
    expect(cleared.json()).toEqual({ success: true, clearedCount: all.totalCount });
    expect((await list(bob)).json()).toEqual({ notifications: [], totalCount: 0, unreadCount: 0 });
    expect((await list(alice)).json().totalCount).toBe(aliceBefore);
  });

  it('401 without a token on every route', async () => {
    for (const [method, url] of [['GET', '/api/v1/notifications'], ['GET', '/api/v1/notifications/ntf_1'], ['PATCH', '/api/v1/notifications/ntf_1/read'], ['PATCH', '/api/v1/notifications/read-all'], ['DELETE', '/api/v1/notifications/clear'], ['GET', '/api/v1/notifications/device-tokens'], ['POST', '/api/v1/notifications/device-tokens'], ['DELETE', '/api/v1/notifications/device-tokens/abc']] as const) {
      expect((await t.app.inject({ method, url, ...(method === 'POST' ? { payload: {} } : {}) })).statusCode, `${method} ${url}`).toBe(401);
    }
  });
});

describe.each(testDialects())('notifications without a push provider on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { ADMIN_SUPER_USER_EMAILS: 'root@example.test' });
  });
  afterAll(async () => t.close());

  it('records every push as undelivered', async () => {
    const root = await signUp(t.app, { email: 'root@example.test' });
    const alice = await signUp(t.app);
    await t.app.inject({ method: 'POST', url: '/api/v1/notifications/device-tokens', headers: authHeader(alice.accessToken), payload: { deviceToken: 'alice-web', deviceType: 'web' } });
    const sent = await t.app.inject({ method: 'POST', url: '/api/v1/notifications/send', headers: authHeader(root.accessToken), payload: { userId: `usr_${alice.userId}`, title: 'Hi' } });
    await t.app.services.notifications.idle();
    const id = Number((sent.json().notificationIds[0] as string).replace('ntf_', ''));
    const rows = await t.database.handle.db.selectFrom('notification_deliveries').selectAll().where('notification_id', '=', id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ provider: 'none', status: 'undelivered', provider_message_id: null });
  });
});
