import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('system routes on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { SWITCHYARD_VERSION: '9.9.9', SWITCHYARD_BUILD_NUMBER: '42' });
  });
  afterAll(async () => t.close());

  it('GET /health answers healthy with a timestamp', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('healthy');
    expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false);
  });

  it('GET /api/v1/version reports the configured version', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/version' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: '9.9.9', build_number: '42', status: 'healthy', environment: 'production' });
  });

  it('an unknown route answers a problem+json 404 with the request id as instance', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/nope', headers: { 'x-request-id': 'req_test1' } });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, title: 'Not Found', code: 'not_found', instance: 'req_test1' });
  });
});
