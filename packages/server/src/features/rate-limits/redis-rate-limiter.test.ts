import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.js';
import { createTestApp } from '../../testing/test-app.js';
import { InMemoryRateLimiter } from './rate-limiter.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** A port nothing listens on. */
const closedUrl = 'redis://127.0.0.1:1';

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('RedisRateLimiter', () => {
  const opened: RedisRateLimiter[] = [];
  const limiter = (url: string, prefix: string) => {
    const l = new RedisRateLimiter({ url, prefix, fallback: new InMemoryRateLimiter() });
    opened.push(l);
    return l;
  };
  afterAll(async () => {
    for (const l of opened) await l.close();
  });

  it('shares one window between instances: counts add up, the limit holds across them', async () => {
    const prefix = `switchyard-test:${randomBytes(6).toString('hex')}:`;
    const a = limiter(redisUrl, prefix);
    const b = limiter(redisUrl, prefix);
    await until(() => !a.usingFallback && !b.usingFallback);
    const results = [await a.hit('user:1', 3, 60), await b.hit('user:1', 3, 60), await a.hit('user:1', 3, 60), await b.hit('user:1', 3, 60)];
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    for (const r of results) expect(r.resetSeconds).toBeGreaterThanOrEqual(59);
    // Another key, and the same key under another prefix, are counted apart.
    expect((await b.hit('user:2', 3, 60)).remaining).toBe(2);
    const other = limiter(redisUrl, `${prefix}other:`);
    await until(() => !other.usingFallback);
    expect((await other.hit('user:1', 3, 60)).allowed).toBe(true);
  });

  it('windows expire in Redis', async () => {
    const l = limiter(redisUrl, `switchyard-test:${randomBytes(6).toString('hex')}:`);
    await until(() => !l.usingFallback);
    expect((await l.hit('k', 1, 1)).allowed).toBe(true);
    expect((await l.hit('k', 1, 1)).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await l.hit('k', 1, 1)).allowed).toBe(true);
  });

  it('counts in memory — never refusing everything — when Redis cannot be reached', async () => {
    const l = limiter(closedUrl, 'switchyard-test:closed:');
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await l.hit('user:1', 3, 60));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(l.usingFallback).toBe(true);
  });

  it('falls back mid-use when the connection goes away', async () => {
    const l = limiter(redisUrl, `switchyard-test:${randomBytes(6).toString('hex')}:`);
    await until(() => !l.usingFallback);
    expect((await l.hit('user:1', 100, 60)).remaining).toBe(99);
    await l.close();
    const after = await l.hit('user:1', 100, 60);
    expect(after.allowed).toBe(true);
    expect(l.usingFallback).toBe(true);
  });
});

describe('REDIS_URL', () => {
  it('is validated: redis:// or rediss:// only', () => {
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBe('redis://127.0.0.1:6379');
    expect(loadConfig({}).redisUrl).toBeNull();
    expect(() => loadConfig({ REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_URL: 'not a url' })).toThrow(/REDIS_URL/);
  });

  it('makes the app count through Redis, and an unreachable Redis still serves requests', async () => {
    for (const url of [redisUrl, closedUrl]) {
      const t = await createTestApp('sqlite', { REDIS_URL: url });
      try {
        expect(t.app.services.rateLimiter).toBeInstanceOf(RedisRateLimiter);
        const res = await t.app.inject({ method: 'GET', url: '/api/v1/version' });
        expect(res.statusCode).toBe(200);
        expect(res.headers['ratelimit-limit']).toBe('600');
      } finally {
        await t.close();
      }
    }
  });
});
