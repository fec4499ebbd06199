import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createApiKey, createCountingTestApp, type CountingTestApp } from '../../testing/evaluation-fixtures.js';
import { testDialects } from '../../testing/test-database.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request over a real socket, with exactly these headers and body bytes. */
function overSocket(port: number, headers: Record<string, string>, body: string, method = 'POST', path = '/api/v1/evaluate'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Headers whose values differ per request or per transport by nature.
const perRequest = new Set(['date', 'connection', 'keep-alive', 'x-request-id', 'ratelimit-remaining', 'ratelimit-reset', 'transfer-encoding']);

function comparable(a: Answer): { status: number; headers: Record<string, unknown>; headerNames: string[]; body: unknown } {
  const headers: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a.headers)) if (!perRequest.has(k)) headers[k] = v;
  let body: unknown = a.body;
  try {
    const parsed = JSON.parse(a.body) as Record<string, unknown>;
    // A problem's `instance` is the request id.
    if (parsed && typeof parsed === 'object' && 'instance' in parsed) parsed.instance = '<request id>';
    body = parsed;
  } catch {
    // not JSON: compared as text
  }
  const headerNames = Object.keys(a.headers).filter((k) => !['connection', 'keep-alive', 'transfer-encoding'].includes(k)).sort();
  return { status: a.status, headers, headerNames, body };
}

describe.each(testDialects())('the evaluate lane on %s', (dialect) => {
  let t: CountingTestApp;
  let admin: SignedUpUser;
  let port: number;
  let serverKey: string;
  let streamKey: string;
  let revokedKey: string;

  beforeAll(async () => {
    t = await createCountingTestApp(dialect, { SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE: '1000' });
    admin = await signUp(t.app);
    const as = authHeader(admin.accessToken);
    const ok = async (url: string, payload?: Record<string, unknown>) => {
      const res = await t.app.inject({ method: 'POST', url, headers: as, ...(payload ? { payload } : {}) });
      if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      return res.json() as { id: string };
    };
    await ok('/api/v1/projects/default/flags', { key: 'checkout', type: 'boolean', defaultValue: false });
    await ok('/api/v1/projects/default/flags/checkout/environments/production/enable');
    await ok('/api/v1/projects/default/rules', { flag: 'checkout', environment: 'production', conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'pro' }], serve: 'on' });
    serverKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
    streamKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'stream' })).key;
    const revoked = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' });
    revokedKey = revoked.key;
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/projects/default/api-keys/${revoked.id}`, headers: as });
    expect(del.statusCode).toBeLessThan(300);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => t?.close());

  const json = (key: string) => ({ 'content-type': 'application/json', 'x-api-key': key });

  /** The same request over a socket (the lane, or Fastify when it declines) and through `inject` (always the Fastify route). */
  async function both(headers: Record<string, string>, body: string) {
    const before = t.app.evaluateLane.served;
    const socket = await overSocket(port, headers, body);
    const byLane = t.app.evaluateLane.served - before;
    const injected = await t.app.inject({ method: 'POST', url: '/api/v1/evaluate', headers, payload: body });
    const reference: Answer = { status: injected.statusCode, headers: injected.headers as IncomingHttpHeaders, body: injected.body };
    return { socket, reference, byLane };
  }

  const laneCases: Array<[string, string]> = [
    ['a rule match', JSON.stringify({ flagKey: 'checkout', context: { targetingKey: 'u1', plan: 'pro' } })],
    ['the fallthrough', JSON.stringify({ flagKey: 'checkout', context: { targetingKey: 'u2' } })],
    ['every flag', JSON.stringify({ context: { targetingKey: 'u1' } })],
    ['named flags with an unknown one in place', JSON.stringify({ flagKeys: ['nope', 'checkout'], context: { targetingKey: 'u1' } })],
    ['an unknown flag (404)', JSON.stringify({ flagKey: 'nope', context: {} })],
    ['an unknown property (422)', JSON.stringify({ flagKey: 'checkout', contxt: {} })],
    ['a bad flag key and a bad targeting key (422, both named)', JSON.stringify({ flagKey: 'no spaces', context: { targetingKey: 5 } })],
    ['flagKey and flagKeys together (422)', JSON.stringify({ flagKey: 'checkout', flagKeys: ['checkout'] })],
    ['a context nested too deep (422)', JSON.stringify({ flagKey: 'checkout', context: { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: { k: 1 } } } } } } } } } } } })],
    ['malformed JSON (400)', '{"flagKey": "checkout",'],
    ['a prototype-poisoning body (400)', '{"flagKey":"checkout","__proto__":{"admin":true}}'],
    ['a body that is not an object (422)', '"checkout"'],
    ['null (422)', 'null'],
  ];

  it.each(laneCases)('answers %s exactly as the Fastify route does', async (_name, body) => {
    const { socket, reference, byLane } = await both(json(serverKey), body);
    expect(byLane).toBe(1);
    expect(comparable(socket)).toEqual(comparable(reference));
    expect(socket.headers['x-request-id']).toMatch(/^req_[0-9a-f]{32}$/);
    expect(socket.headers['ratelimit-limit']).toBe('1000');
    expect(Number(socket.headers['ratelimit-remaining'])).toBeGreaterThan(0);
  });

  it('keeps a sane X-Request-Id the caller sent, with a charset in the content type too', async () => {
    const headers = { ...json(serverKey), 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'trace-42' };
    const { socket, reference, byLane } = await both(headers, JSON.stringify({ flagKey: 'checkout', context: { targetingKey: 'u1' } }));
    expect(byLane).toBe(1);
    expect(socket.headers['x-request-id']).toBe('trace-42');
    expect(reference.headers['x-request-id']).toBe('trace-42');
    expect(comparable(socket)).toEqual(comparable(reference));
  });

  const declined: Array<[string, Record<string, string>, string, number]> = [
    ['no key', { 'content-type': 'application/json' }, '{"flagKey":"checkout"}', 401],
    ['an unknown key', { 'content-type': 'application/json', 'x-api-key': 'sy_server_nope' }, '{"flagKey":"checkout"}', 401],
    ['a revoked key', {}, '{"flagKey":"checkout"}', 401],
    ['a stream key', {}, '{"flagKey":"checkout"}', 403],
    ['a form body', { 'content-type': 'application/x-www-form-urlencoded' }, 'flagKey=checkout', 415],
    ['an empty body', { 'content-type': 'application/json' }, '', 400],
    // Identification tries bearer tokens first; one that is not ours leaves the API key to answer.
    ['a bearer token beside the key', { 'content-type': 'application/json', authorization: 'Bearer nonsense' }, '{"flagKey":"checkout"}', 200],
  ];

  it.each(declined)('leaves %s to the Fastify route, with the same answer', async (name, extra, body, status) => {
    const key = name.startsWith('a revoked') ? revokedKey : name.startsWith('a stream') ? streamKey : serverKey;
    const headers = { 'x-api-key': key, 'content-type': 'application/json', ...extra };
    if (name.startsWith('no key')) delete (headers as Record<string, string>)['x-api-key'];
    const { socket, reference, byLane } = await both(headers, body);
    expect(byLane).toBe(0);
    expect(socket.status).toBe(status);
    expect(comparable(socket)).toEqual(comparable(reference));
  });

  it('leaves other methods and paths alone', async () => {
    const before = t.app.evaluateLane.served;
    const get = await overSocket(port, { 'x-api-key': serverKey }, '', 'GET');
    expect(get.status).toBe(405);
    const query = await overSocket(port, json(serverKey), '{"flagKey":"checkout"}', 'POST', '/api/v1/evaluate?x=1');
    expect(query.status).toBe(200);
    expect(t.app.evaluateLane.served).toBe(before);
  });

  it('reads no database and counts every request in /metrics under the route', async () => {
    t.queries.reset();
    for (let i = 0; i < 5; i++) {
      const res = await overSocket(port, json(serverKey), JSON.stringify({ flagKey: 'checkout', context: { targetingKey: `q${i}` } }));
      expect(res.status).toBe(200);
    }
    expect(t.queries.seen).toEqual([]);
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    const served = /http_requests_total\{method="POST",route="\/api\/v1\/evaluate",status_code="200"\} (\d+)/.exec(metrics.body);
    expect(Number(served?.[1])).toBeGreaterThanOrEqual(5);
    expect(metrics.body).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/evaluate",status_code="200"\} \d+/);
  });

  it('sees a change on the next request after the write returns', async () => {
    const ask = () => overSocket(port, json(serverKey), JSON.stringify({ flagKey: 'checkout', context: { targetingKey: 'u9' } }));
    expect(JSON.parse((await ask()).body).value).toBe(false);
    const off = await t.app.inject({ method: 'POST', url: '/api/v1/projects/default/flags/checkout/environments/production/disable', headers: authHeader(admin.accessToken) });
    expect(off.statusCode).toBeLessThan(300);
    expect(JSON.parse((await ask()).body)).toMatchObject({ value: false, reason: 'DISABLED', enabled: false });
    await t.app.inject({ method: 'POST', url: '/api/v1/projects/default/flags/checkout/environments/production/enable', headers: authHeader(admin.accessToken) });
    expect(JSON.parse((await ask()).body)).toMatchObject({ enabled: true });
  });
});

describe('the evaluate lane at the rate limit', () => {
  it('answers 429 with Retry-After and the RateLimit headers, as the route does', async () => {
    const t = await createCountingTestApp('sqlite', { SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE: '2' });
    try {
      const admin = await signUp(t.app);
      await t.app.inject({ method: 'POST', url: '/api/v1/projects/default/flags', headers: authHeader(admin.accessToken), payload: { key: 'checkout', type: 'boolean', defaultValue: false } });
      const key = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (t.app.server.address() as AddressInfo).port;
      const body = JSON.stringify({ flagKey: 'checkout' });
      const headers = { 'content-type': 'application/json', 'x-api-key': key };
      expect((await overSocket(port, headers, body)).status).toBe(200);
      expect((await overSocket(port, headers, body)).status).toBe(200);
      const limited = await overSocket(port, headers, body);
      const injected = await t.app.inject({ method: 'POST', url: '/api/v1/evaluate', headers, payload: body });
      expect(t.app.evaluateLane.served).toBe(3);
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toMatch(/^\d+$/);
      expect(limited.headers['ratelimit-remaining']).toBe('0');
      expect(comparable(limited)).toEqual(comparable({ status: injected.statusCode, headers: injected.headers as IncomingHttpHeaders, body: injected.body }));
    } finally {
      await t.close();
    }
  });

  it("counts each key in its own evaluation bucket, apart from the key's management budget", async () => {
    const t = await createCountingTestApp('sqlite', { SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE: '2', SWITCHYARD_RATE_LIMIT_PER_MINUTE: '5' });
    try {
      const admin = await signUp(t.app);
      await t.app.inject({ method: 'POST', url: '/api/v1/projects/default/flags', headers: authHeader(admin.accessToken), payload: { key: 'checkout', type: 'boolean', defaultValue: false } });
      const first = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
      const second = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (t.app.server.address() as AddressInfo).port;
      const body = JSON.stringify({ flagKey: 'checkout' });
      const evaluate = (key: string) => overSocket(port, { 'content-type': 'application/json', 'x-api-key': key }, body);
      const remaining = async (key: string) => {
        const a = await evaluate(key);
        return `${a.status} ${a.headers['ratelimit-remaining']}`;
      };
      expect([await remaining(first), await remaining(first), await remaining(first)]).toEqual(['200 1', '200 0', '429 0']);
      // The second key has its whole budget, however often the first one was refused.
      expect([await remaining(second), await remaining(first), await remaining(second)]).toEqual(['200 1', '429 0', '200 0']);
      expect(t.app.evaluateLane.served).toBe(6);
      // The first key's management budget (limit 5) is untouched by its evaluations.
      const flags = await overSocket(port, { 'x-api-key': first }, '', 'GET', '/api/v1/projects/default/flags');
      expect(flags.headers['ratelimit-limit']).toBe('5');
      expect(flags.headers['ratelimit-remaining']).toBe('4');
    } finally {
      await t.close();
    }
  });
});
