import { describe, expect, it } from 'vitest';
import { emailProblem, normalizeEmail } from './email.js';
import { hashPassword, needsRehash, passwordProblem, verifyPassword } from './password.js';

describe('password hashing', () => {
  it('stores scrypt parameters and a salt with the hash, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('verifies hashes made with other (stored) parameters and flags weaker ones for rehash', async () => {
    const weak = await hashPassword('s3cret-pass', { ln: 12, r: 8, p: 1 });
    expect(weak).toContain('$ln=12,');
    expect(await verifyPassword('s3cret-pass', weak)).toBe(true);
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(await hashPassword('s3cret-pass'))).toBe(false);
  });

  it('treats malformed or absurd stored hashes as a mismatch, not a crash', async () => {
    expect(await verifyPassword('x', 'plaintext')).toBe(false);
    expect(await verifyPassword('x', '$scrypt$ln=40,r=8,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAA')).toBe(false);
    expect(await verifyPassword('x', '$argon2id$v=19$m=65536,t=3,p=4$abc$def')).toBe(false);
  });

  it('requires 8 to 1024 characters', () => {
    expect(passwordProblem('1234567')).toBe('must be at least 8 characters');
    expect(passwordProblem('12345678')).toBeNull();
    expect(passwordProblem('x'.repeat(1025))).toBe('must be at most 1024 characters');
  });
});

describe('emails', () => {
  it('are trimmed and lower-cased', () => {
    expect(normalizeEmail('  Ada@Example.COM\n')).toBe('ada@example.com');
  });
  it('need one @ and no spaces', () => {
    expect(emailProblem('ada@example.com')).toBeNull();
    expect(emailProblem('admin@localhost')).toBeNull();
    expect(emailProblem('')).toBe('is required');
    expect(emailProblem('ada')).toBe('is not a valid email address');
    expect(emailProblem('a b@example.com')).toBe('is not a valid email address');
    expect(emailProblem('a@b@c')).toBe('is not a valid email address');
    expect(emailProblem(`${'a'.repeat(65)}@example.com`)).toBe('is not a valid email address');
  });
});
