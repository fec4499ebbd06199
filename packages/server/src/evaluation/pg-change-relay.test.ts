import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { openDatabase, type DatabaseHandle } from '../db/connect.js';
import { authHeader, signUp, type SignedUpUser } from '../testing/auth.js';
import { createApiKey, evaluateWith } from '../testing/evaluation-fixtures.js';
import { openSse, type SseConnection } from '../testing/sse-client.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/test-database.js';

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - started;
}

/**
 * Two instances — two apps with their own pools, relays and caches — on one PostgreSQL database,
 * as two server processes behind a load balancer would be (the stream benchmark runs two real
 * processes). Only PostgreSQL carries changes between instances.
 */
describe.skipIf(!testDialects().includes('postgres'))('several instances on one PostgreSQL database', () => {
  let database: TestDatabase;
  let second: DatabaseHandle;
  let a: FastifyInstance;
  let b: FastifyInstance;
  let baseB: string;
  let admin: SignedUpUser;
  let sdk: { id: string; key: string };
  const streams: SseConnection[] = [];

  const onA = async (method: 'POST' | 'DELETE', url: string, payload?: Record<string, unknown>) => {
    const res = await a.inject({ method, url, headers: authHeader(admin.accessToken), ...(payload ? { payload } : {}) });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res;
  };

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    // The safety-net check runs on demand below, not on a timer.
    const config = { ...loadConfig({ LOG_LEVEL: 'silent', SWITCHYARD_REVISION_CHECK_SECONDS: '0' }), database: database.target };
    a = await buildApp(config, { database: database.handle, logger: false });
    second = openDatabase(database.target);
    b = await buildApp(config, { database: second, logger: false });
    await a.listen({ host: '127.0.0.1', port: 0 });
    baseB = await b.listen({ host: '127.0.0.1', port: 0 });
    admin = await signUp(a);
    await onA('POST', '/api/v1/projects/default/flags', { key: 'checkout', type: 'boolean', defaultValue: false });
    sdk = await createApiKey(a, admin.accessToken, 'default', { environment: 'production', scope: 'sdk' });
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await b?.close();
    await second?.close();
    await a?.close();
    await database?.destroy();
  });

  it('a key and a flag created through A are served by B, with the same revision and digest', async () => {
    await until(async () => (await evaluateWith(b, sdk.key, { flagKey: 'checkout', context: {} })).statusCode === 200);
    const fromA = (await a.inject({ method: 'GET', url: '/api/v1/sdk/config', headers: { 'x-api-key': sdk.key } })).json();
    const fromB = (await b.inject({ method: 'GET', url: '/api/v1/sdk/config', headers: { 'x-api-key': sdk.key } })).json();
    expect(fromB).toEqual(fromA);
    expect(b.services.changeRelay!.received).toBeGreaterThan(0);
  });

  it('a flag change written through A reaches an SSE subscriber and an evaluation on B', async () => {
    const c = await openSse(`${baseB}/api/v1/stream`, { 'x-api-key': sdk.key });
    streams.push(c);
    const put = await c.next();
    expect(put.event).toBe('put');
    const started = performance.now();
    await onA('POST', '/api/v1/projects/default/flags/checkout/environments/production/enable');
    const patch = await c.next((e) => e.event === 'patch', 5000);
    const elapsed = performance.now() - started;
    expect(JSON.parse(patch.data)).toMatchObject({ kind: 'flag', key: 'checkout', flag: { environments: { production: { enabled: true } } } });
    expect(Number(patch.id)).toBe(Number(put.id) + 1);
    const evaluated = await evaluateWith(b, sdk.key, { flagKey: 'checkout', context: { targetingKey: 'u' } });
    expect(evaluated.json()).toMatchObject({ enabled: true });
    // Measured, not asserted tightly (the machine is shared): a notification, a rebuild, a write.
    console.info(`change through A seen by a stream on B after ${elapsed.toFixed(1)} ms`);
    expect(elapsed).toBeLessThan(2000);
  });

  it('reconnects a dropped LISTEN connection and catches up on what it missed', async () => {
    const relay = b.services.changeRelay!;
    expect(relay.listening).toBe(true);
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'switchyard-listen' and datname = current_database() and pid <> pg_backend_pid()`.execute(second.db);
    await until(() => !relay.listening, 3000);
    // Written while B cannot hear: caught by the revision check after reconnecting.
    await onA('POST', '/api/v1/projects/default/flags', { key: 'missed', type: 'boolean', defaultValue: true });
    await until(() => relay.listening, 10_000);
    await until(async () => (await evaluateWith(b, sdk.key, { flagKey: 'missed', context: {} })).statusCode === 200, 5000);
    // And live notifications flow again.
    await onA('POST', '/api/v1/projects/default/flags', { key: 'after', type: 'boolean', defaultValue: true });
    await until(async () => (await evaluateWith(b, sdk.key, { flagKey: 'after', context: {} })).statusCode === 200, 5000);
  });

  it('the periodic revision check rebuilds what a lost notification left behind', async () => {
    const relay = b.services.changeRelay!;
    // A change committed without any notification (as if the NOTIFY were lost).
    await a.services.changeRelay!.stop();
    await onA('POST', '/api/v1/projects/default/flags/checkout/environments/production/disable');
    await new Promise((r) => setTimeout(r, 200));
    expect((await evaluateWith(b, sdk.key, { flagKey: 'checkout', context: {} })).json()).toMatchObject({ enabled: true });
    const refreshed = await relay.checkRevisions();
    expect(refreshed.length).toBe(1);
    expect((await evaluateWith(b, sdk.key, { flagKey: 'checkout', context: {} })).json()).toMatchObject({ enabled: false });
    expect(await relay.checkRevisions()).toEqual([]);
  });

  it('a key revoked through A closes its streams on B at once', async () => {
    // A's relay was stopped above (a lost notification); A notifies again from here on.
    await a.services.changeRelay!.start(a.services.snapshots);
    const key = await createApiKey(a, admin.accessToken, 'default', { environment: 'production', scope: 'stream' });
    await until(async () => (await b.inject({ method: 'GET', url: '/api/v1/sdk/config', headers: { 'x-api-key': key.key } })).statusCode === 200);
    const c = await openSse(`${baseB}/api/v1/stream`, { 'x-api-key': key.key });
    streams.push(c);
    await c.next();
    await onA('POST', `/api/v1/projects/default/api-keys/${key.id}/revoke`);
    await c.closed(3000);
    expect((await b.inject({ method: 'GET', url: '/api/v1/sdk/config', headers: { 'x-api-key': key.key } })).statusCode).toBe(401);
  });
});
