import { describe, expect, it } from 'vitest';
import { formatId, parseId } from './ids.js';

describe('v1 ids', () => {
  it('round-trip with and without the prefix', () => {
    expect(formatId('organization', 42)).toBe('tenant_42');
    expect(parseId('organization', 'tenant_42')).toBe(42);
    expect(parseId('organization', '42')).toBe(42);
  });
  it('refuse a foreign prefix, non-integers and unsafe integers', () => {
    expect(parseId('organization', 'usr_42')).toBeNull();
    expect(parseId('organization', '4.2')).toBeNull();
    expect(parseId('organization', '007')).toBeNull();
    expect(parseId('organization', String(2 ** 53 + 2))).toBeNull();
    expect(parseId('organization', '')).toBeNull();
  });
});
