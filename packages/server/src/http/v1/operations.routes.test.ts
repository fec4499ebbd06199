import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomApp } from '../../testing/custom-app.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';
import { serverVersion } from '../../version.js';

describe.each(testDialects())('operations routes on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  it('GET / names the server and its version', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'Switchyard', version: serverVersion });
    expect(serverVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('GET /healthz answers ok', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 when the database answers and every check passes', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ready', checks: { database: 'ok' } });
  });

  it('GET /readyz is a 503 problem while a registered check fails, and 200 once it passes', async () => {
    let loaded = false;
    const off = t.app.services.readiness.register('snapshots', () => (loaded ? true : 'loading snapshots'));
    try {
      const res = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({
        status: 503,
        code: 'not_ready',
        details: { checks: { database: 'ok', snapshots: 'loading snapshots' } },
      });
      expect(res.json().detail).toContain('snapshots: loading snapshots');
      loaded = true;
      expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      off();
    }
  });

  it('GET /metrics counts requests by route pattern and status, never the raw URL', async () => {
    await t.app.inject({ method: 'GET', url: '/healthz' });
    await t.app.inject({ method: 'GET', url: '/api/v1/no-such-thing/usr_12345' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/healthz",status_code="200"\} [1-9]/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="unmatched",status_code="404"\} [1-9]/);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/healthz",status_code="200"\}/);
    expect(text).not.toContain('usr_12345');
    // Default process metrics.
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_heap_size_used_bytes');
  });

  it('a route with parameters is labelled with its pattern', async () => {
    const c = await createCustomApp(dialect, {
      extend: (app) => {
        app.get('/api/v1/__test/things/:id', async () => ({}));
      },
    });
    try {
      await c.app.inject({ method: 'GET', url: '/api/v1/__test/things/123456789' });
      const text = (await c.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toMatch(/http_requests_total\{method="GET",route="\/api\/v1\/__test\/things\/:id",status_code="200"\} 1\n/);
      expect(text).not.toContain('123456789');
    } finally {
      await c.close();
    }
  });

  it('each app has its own registry, so two apps in one process do not collide', async () => {
    const other = await createTestApp(dialect);
    try {
      await other.app.inject({ method: 'GET', url: '/healthz' });
      expect(other.app.services.metrics.registry).not.toBe(t.app.services.metrics.registry);
      const text = (await other.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toMatch(/http_requests_total\{method="GET",route="\/healthz",status_code="200"\} 1\n/);
    } finally {
      await other.close();
    }
  });
});

describe.each(testDialects())('readiness of a closed database on %s', (dialect) => {
  it('GET /readyz is 503 once the database no longer answers', async () => {
    const t = await createTestApp(dialect);
    try {
      await t.database.handle.close();
      const res = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json().details.checks.database).not.toBe('ok');
    } finally {
      await t.close();
    }
  });
});
