import { describe, expect, it } from 'vitest';
import { monotonicNowIso } from './audit-store.js';

describe('monotonicNowIso', () => {
  it('orders events written within one millisecond', () => {
    const times = Array.from({ length: 50 }, () => monotonicNowIso());
    for (let i = 1; i < times.length; i++) expect(times[i]! > times[i - 1]!).toBe(true);
  });
});
