/**
 * Configuration every in-process test app starts with (a test's own settings override it).
 * Password hashing at the lowest allowed scrypt cost: tests sign up hundreds of accounts, and the
 * cost is a parameter stored with each hash, not a different code path.
 */
export const testConfigEnv: Readonly<Record<string, string>> = {
  SWITCHYARD_PASSWORD_HASH_COST: '10',
};
