import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { serverVersion } from './version.js';

const tmp = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
const aFile = join(tmp, 'not-a-directory');
writeFileSync(aFile, 'x');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has working defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      dataDir: resolve('./data'),
      database: { dialect: 'sqlite', file: join(resolve('./data'), 'switchyard.db') },
      logLevel: 'info',
      signup: 'open',
      admin: null,
      superUserEmails: [],
      smtpUrl: null,
      publicUrl: 'http://localhost:8080',
      environment: 'production',
      version: serverVersion,
      buildNumber: '1',
      passwordHashCost: 15,
      rateLimitPerMinute: 600,
      shutdownTimeoutSeconds: 10,
      trustProxy: false,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: '9090',
      SWITCHYARD_DATA_DIR: tmp,
      DATABASE_URL: 'postgres://u@db.example:5432/flags',
      DATABASE_POOL_SIZE: '20',
      LOG_LEVEL: 'debug',
      SWITCHYARD_SIGNUP: 'invite-only',
      SWITCHYARD_ADMIN_EMAIL: 'admin@example.com',
      SWITCHYARD_ADMIN_PASSWORD: 'long enough',
      SWITCHYARD_ADMIN_ORG: 'Acme',
      ADMIN_SUPER_USER_EMAILS: 'A@example.com, b@example.com',
      SMTP_URL: 'smtp://mail.example:25',
      SMTP_FROM: 'Flags <flags@example.com>',
      SWITCHYARD_PUBLIC_URL: 'https://flags.example.com/',
      SWITCHYARD_ENVIRONMENT: 'staging',
      SWITCHYARD_VERSION: '1.2.3-rc.1',
      SWITCHYARD_BUILD_NUMBER: '77',
      SWITCHYARD_RATE_LIMIT_PER_MINUTE: '100',
      SWITCHYARD_SHUTDOWN_TIMEOUT_SECONDS: '30',
      SWITCHYARD_TRUST_PROXY: 'true',
    });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 9090,
      dataDir: tmp,
      database: { dialect: 'postgres', url: 'postgres://u@db.example:5432/flags', poolSize: 20 },
      logLevel: 'debug',
      signup: 'invite-only',
      admin: { email: 'admin@example.com', password: 'long enough', organization: 'Acme' },
      superUserEmails: ['a@example.com', 'b@example.com'],
      smtpUrl: 'smtp://mail.example:25',
      mailFrom: 'Flags <flags@example.com>',
      publicUrl: 'https://flags.example.com',
      environment: 'staging',
      version: '1.2.3-rc.1',
      buildNumber: '77',
      rateLimitPerMinute: 100,
      shutdownTimeoutSeconds: 30,
      trustProxy: true,
    });
  });

  it('accepts IPv6 and host names for HOST', () => {
    expect(loadConfig({ HOST: '::' }).host).toBe('::');
    expect(loadConfig({ HOST: '[::1]' }).host).toBe('::1');
    expect(loadConfig({ HOST: 'localhost' }).host).toBe('localhost');
    expect(loadConfig({ SWITCHYARD_TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(loadConfig({}).deletionGraceDays).toBe(14);
    expect(loadConfig({ SWITCHYARD_DELETION_GRACE_DAYS: '0' }).deletionGraceDays).toBe(0);
    expect(loadConfig({ SWITCHYARD_DELETION_GRACE_DAYS: '30' }).deletionGraceDays).toBe(30);
  });

  // One row per bad value: the variable that must be named, and the environment that is wrong.
  const bad: Array<[string, Record<string, string>]> = [
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '65536' }],
    ['PORT', { PORT: '-1' }],
    ['PORT', { PORT: '80.5' }],
    ['HOST', { HOST: 'not a host' }],
    ['HOST', { HOST: 'http://example.com' }],
    ['SWITCHYARD_DATA_DIR', { SWITCHYARD_DATA_DIR: aFile }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://localhost/db' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    ['DATABASE_POOL_SIZE', { DATABASE_URL: 'postgres://localhost/db', DATABASE_POOL_SIZE: '0' }],
    ['DATABASE_POOL_SIZE', { DATABASE_URL: 'postgres://localhost/db', DATABASE_POOL_SIZE: 'many' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['SWITCHYARD_SIGNUP', { SWITCHYARD_SIGNUP: 'closed' }],
    ['SWITCHYARD_PASSWORD_HASH_COST', { SWITCHYARD_PASSWORD_HASH_COST: '9' }],
    ['SWITCHYARD_PASSWORD_HASH_COST', { SWITCHYARD_PASSWORD_HASH_COST: '21' }],
    ['SWITCHYARD_ADMIN_PASSWORD', { SWITCHYARD_ADMIN_EMAIL: 'admin@example.com' }],
    ['SWITCHYARD_ADMIN_PASSWORD', { SWITCHYARD_ADMIN_EMAIL: 'admin@example.com', SWITCHYARD_ADMIN_PASSWORD: 'short' }],
    ['SWITCHYARD_ADMIN_EMAIL', { SWITCHYARD_ADMIN_PASSWORD: 'long enough' }],
    ['SWITCHYARD_ADMIN_EMAIL', { SWITCHYARD_ADMIN_EMAIL: 'admin', SWITCHYARD_ADMIN_PASSWORD: 'long enough' }],
    ['SWITCHYARD_ADMIN_ORG', { SWITCHYARD_ADMIN_ORG: 'x'.repeat(101) }],
    ['ADMIN_SUPER_USER_EMAILS', { ADMIN_SUPER_USER_EMAILS: 'a@example.com,nobody' }],
    ['SMTP_URL', { SMTP_URL: 'http://mail.example' }],
    ['SMTP_FROM', { SMTP_FROM: 'not an address' }],
    ['SWITCHYARD_PUBLIC_URL', { SWITCHYARD_PUBLIC_URL: 'ftp://flags.example' }],
    ['SWITCHYARD_PUBLIC_URL', { SWITCHYARD_PUBLIC_URL: 'flags.example' }],
    ['SWITCHYARD_ENVIRONMENT', { SWITCHYARD_ENVIRONMENT: 'prod env' }],
    ['SWITCHYARD_VERSION', { SWITCHYARD_VERSION: '1.0 beta' }],
    ['SWITCHYARD_BUILD_NUMBER', { SWITCHYARD_BUILD_NUMBER: 'x'.repeat(65) }],
    ['SWITCHYARD_RATE_LIMIT_PER_MINUTE', { SWITCHYARD_RATE_LIMIT_PER_MINUTE: '0' }],
    ['SWITCHYARD_RATE_LIMIT_PER_MINUTE', { SWITCHYARD_RATE_LIMIT_PER_MINUTE: 'lots' }],
    // "none" was once taken here and silently meant the 6,000 default.
    ['SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE', { SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE: 'none' }],
    ['SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE', { SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE: '0' }],
    ['SWITCHYARD_SHUTDOWN_TIMEOUT_SECONDS', { SWITCHYARD_SHUTDOWN_TIMEOUT_SECONDS: '0' }],
    ['SWITCHYARD_SHUTDOWN_TIMEOUT_SECONDS', { SWITCHYARD_SHUTDOWN_TIMEOUT_SECONDS: '10s' }],
    ['SWITCHYARD_TRUST_PROXY', { SWITCHYARD_TRUST_PROXY: 'maybe' }],
    ['SWITCHYARD_DELETION_GRACE_DAYS', { SWITCHYARD_DELETION_GRACE_DAYS: 'two weeks' }],
    ['SWITCHYARD_DELETION_GRACE_DAYS', { SWITCHYARD_DELETION_GRACE_DAYS: '-1' }],
    ['SWITCHYARD_DELETION_GRACE_DAYS', { SWITCHYARD_DELETION_GRACE_DAYS: '3651' }],
  ];

  it.each(bad)('names %s when it is bad (%j)', (variable, env) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).not.toContain('\n');
  });
});
