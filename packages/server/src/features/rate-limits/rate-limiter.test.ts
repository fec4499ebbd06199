import { describe, expect, it } from 'vitest';
import { InMemoryRateLimiter } from './rate-limiter.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('InMemoryRateLimiter', () => {
  it('counts down within a window and refuses past the limit', async () => {
    const c = clock();
    const limiter = new InMemoryRateLimiter({ now: c.now });
    const first = await limiter.hit('a', 3, 60);
    expect(first).toEqual({ limit: 3, remaining: 2, resetSeconds: 60, allowed: true });
    c.advance(10_500);
    expect(await limiter.hit('a', 3, 60)).toEqual({ limit: 3, remaining: 1, resetSeconds: 50, allowed: true });
    expect(await limiter.hit('a', 3, 60)).toMatchObject({ remaining: 0, allowed: true });
    expect(await limiter.hit('a', 3, 60)).toMatchObject({ remaining: 0, allowed: false, resetSeconds: 50 });
  });

  it('opens a fresh window once the old one has expired', async () => {
    const c = clock();
    const limiter = new InMemoryRateLimiter({ now: c.now });
    await limiter.hit('a', 1, 60);
    expect((await limiter.hit('a', 1, 60)).allowed).toBe(false);
    c.advance(60_000);
    expect(await limiter.hit('a', 1, 60)).toEqual({ limit: 1, remaining: 0, resetSeconds: 60, allowed: true });
  });

  it('keeps keys apart', async () => {
    const limiter = new InMemoryRateLimiter();
    await limiter.hit('a', 1, 60);
    expect((await limiter.hit('a', 1, 60)).allowed).toBe(false);
    expect((await limiter.hit('b', 1, 60)).allowed).toBe(true);
  });

  it('evicts expired windows so memory stays bounded', async () => {
    const c = clock();
    const limiter = new InMemoryRateLimiter({ now: c.now });
    for (let i = 0; i < 500; i++) await limiter.hit(`k${i}`, 10, 60);
    expect(limiter.size).toBe(500);
    c.advance(61_000);
    await limiter.hit('late', 10, 60);
    expect(limiter.size).toBe(1);
  });

  it('never holds more than maxKeys windows, even when none has expired', async () => {
    const limiter = new InMemoryRateLimiter({ maxKeys: 100 });
    for (let i = 0; i < 1000; i++) await limiter.hit(`k${i}`, 10, 60);
    expect(limiter.size).toBeLessThanOrEqual(100);
    // The newest caller is still counted.
    expect((await limiter.hit('k999', 10, 60)).remaining).toBe(8);
  });
});
