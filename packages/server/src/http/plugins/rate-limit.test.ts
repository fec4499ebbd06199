import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../domain/actor.js';
import { createCustomApp } from '../../testing/custom-app.js';
import type { TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

const limit = 5;

function actorFor(userId: number): Actor {
  return { kind: 'user', userId, credentialId: null, organizationId: null, role: null, platformRole: null, scopes: null, sessionId: null };
}

describe.each(testDialects())('rate limits on /api/v1 on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createCustomApp(dialect, {
      env: { SWITCHYARD_RATE_LIMIT_PER_MINUTE: String(limit) },
      extend: (app) => {
        // Stands in for a credential the identity hook recognised: an onRequest hook, like `identify`.
        app.addHook('onRequest', async (request) => {
          const user = request.headers['x-test-user'];
          if (typeof user === 'string') (request as unknown as { actor: Actor }).actor = actorFor(Number(user));
        });
        app.get('/api/v1/__test/ping', { schema: { response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } }, async () => ({ ok: true }));
      },
    });
  });
  afterAll(async () => t.close());

  const ping = (remoteAddress: string, user?: number) =>
    t.app.inject({ method: 'GET', url: '/api/v1/__test/ping', remoteAddress, headers: user === undefined ? {} : { 'x-test-user': String(user) } });

  it('sends RateLimit headers on every response and counts down', async () => {
    const first = await ping('10.0.0.1');
    expect(first.statusCode).toBe(200);
    expect(first.headers['ratelimit-limit']).toBe(String(limit));
    expect(first.headers['ratelimit-remaining']).toBe(String(limit - 1));
    const reset = Number(first.headers['ratelimit-reset']);
    expect(reset).toBeGreaterThan(0);
    expect(reset).toBeLessThanOrEqual(60);
    const second = await ping('10.0.0.1');
    expect(second.headers['ratelimit-remaining']).toBe(String(limit - 2));
  });

  it('answers 429 past the limit, with Retry-After, as a problem', async () => {
    for (let i = 0; i < limit; i++) expect((await ping('10.0.0.2')).statusCode).toBe(200);
    const res = await ping('10.0.0.2');
    expect(res.statusCode).toBe(429);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 429, title: 'Too Many Requests', code: 'rate_limited', detail: 'Rate limit exceeded. Try again later.' });
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.headers['ratelimit-remaining']).toBe('0');
    expect(res.headers['ratelimit-reset']).toBe(String(retryAfter));
  });

  it('counts two client IPs separately', async () => {
    for (let i = 0; i < limit; i++) await ping('10.0.0.3');
    expect((await ping('10.0.0.3')).statusCode).toBe(429);
    const other = await ping('10.0.0.4');
    expect(other.statusCode).toBe(200);
    expect(other.headers['ratelimit-remaining']).toBe(String(limit - 1));
  });

  it('counts per credential, not per IP, once the caller is identified', async () => {
    for (let i = 0; i < limit; i++) await ping('10.0.0.5', 1);
    expect((await ping('10.0.0.5', 1)).statusCode).toBe(429);
    // Another credential from the same address has its own budget, and so does the anonymous IP.
    const otherUser = await ping('10.0.0.5', 2);
    expect(otherUser.statusCode).toBe(200);
    expect(otherUser.headers['ratelimit-remaining']).toBe(String(limit - 1));
    expect((await ping('10.0.0.5')).headers['ratelimit-remaining']).toBe(String(limit - 1));
    // The same credential from elsewhere is still limited.
    expect((await ping('10.0.0.6', 1)).statusCode).toBe(429);
  });

  it('limits unknown /api/v1 paths too, and leaves infrastructure endpoints alone', async () => {
    const missing = await t.app.inject({ method: 'GET', url: '/api/v1/nope', remoteAddress: '10.0.0.7' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['ratelimit-remaining']).toBe(String(limit - 1));
    for (const url of ['/healthz', '/health', '/metrics', '/']) {
      const res = await t.app.inject({ method: 'GET', url, remoteAddress: '10.0.0.7' });
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
  });
});

describe.each(testDialects())('rate limits keyed by real credentials on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createCustomApp(dialect, { env: { SWITCHYARD_RATE_LIMIT_PER_MINUTE: '4' } });
  });
  afterAll(async () => t.close());

  it('two signed-in users from one address have separate budgets', async () => {
    const remoteAddress = '10.1.0.1';
    const signUp = async (n: number) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/signup',
        remoteAddress,
        payload: { email: `rl-${n}-${Date.now()}@example.test`, password: 'correct horse battery', name: `RL ${n}` },
      });
      expect(res.statusCode).toBe(201);
      return res.json().data.accessToken as string;
    };
    const a = await signUp(1);
    const b = await signUp(2);
    const me = (token: string) =>
      t.app.inject({ method: 'GET', url: '/api/v1/auth/me', remoteAddress, headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 4; i++) expect((await me(a)).statusCode).toBe(200);
    expect((await me(a)).statusCode).toBe(429);
    const other = await me(b);
    expect(other.statusCode).toBe(200);
    expect(other.headers['ratelimit-remaining']).toBe('3');
  });
});

describe.each(testDialects())('rate limits behind a proxy on %s', (dialect) => {
  it('keys by X-Forwarded-For only when SWITCHYARD_TRUST_PROXY is set', async () => {
    for (const [trust, separate] of [['true', true], ['false', false]] as const) {
      const t = await createCustomApp(dialect, { env: { SWITCHYARD_RATE_LIMIT_PER_MINUTE: '1', SWITCHYARD_TRUST_PROXY: trust } });
      try {
        const via = (client: string) =>
          t.app.inject({ method: 'GET', url: '/api/v1/version', remoteAddress: '10.2.0.1', headers: { 'x-forwarded-for': client } });
        expect((await via('203.0.113.1')).statusCode).toBe(200);
        expect((await via('203.0.113.2')).statusCode).toBe(separate ? 200 : 429);
      } finally {
        await t.close();
      }
    }
  });
});
