import { join, resolve } from 'node:path';
import type { DatabaseTarget } from './db/connect.js';

/** Everything the server reads from its environment, validated once at start. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  database: DatabaseTarget;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `open` lets anyone sign up; `invite-only` refuses signup without an invitation. */
  signup: 'open' | 'invite-only';
  admin: { email: string; password: string; organization: string } | null;
  /** Emails that are platform super users. */
  superUserEmails: string[];
  smtpUrl: string | null;
  /** Where people reach the server; used in links sent by mail. */
  publicUrl: string;
  /** `production`, `development`, … as reported by `/api/v1/version`. */
  environment: string;
  version: string;
  buildNumber: string;
}

/** A configuration variable that is present but wrong; the message names it. */
export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

/** Reads and validates the configuration; throws `ConfigError` naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const port = int(env, 'PORT', 8080, 0, 65535);
  const dataDir = resolve(env.SWITCHYARD_DATA_DIR || './data');
  const dbUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const database: DatabaseTarget = dbUrl
    ? { dialect: 'postgres', url: dbUrl, poolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 1000) }
    : { dialect: 'sqlite', file: join(dataDir, 'switchyard.db') };

  const adminEmail = env.SWITCHYARD_ADMIN_EMAIL?.trim();
  const adminPassword = env.SWITCHYARD_ADMIN_PASSWORD;
  if (adminEmail && !adminPassword) throw new ConfigError('SWITCHYARD_ADMIN_PASSWORD', 'is required when SWITCHYARD_ADMIN_EMAIL is set');
  if (adminPassword && !adminEmail) throw new ConfigError('SWITCHYARD_ADMIN_EMAIL', 'is required when SWITCHYARD_ADMIN_PASSWORD is set');
  if (adminEmail && !/^[^\s@]+@[^\s@]+$/.test(adminEmail)) throw new ConfigError('SWITCHYARD_ADMIN_EMAIL', 'is not an email address');
  if (adminPassword && adminPassword.length < 8) throw new ConfigError('SWITCHYARD_ADMIN_PASSWORD', 'must be at least 8 characters');

  const publicUrl = url(env, 'SWITCHYARD_PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`;

  return {
    host: env.HOST || '0.0.0.0',
    port,
    dataDir,
    database,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    signup: oneOf(env, 'SWITCHYARD_SIGNUP', ['open', 'invite-only'] as const, 'open'),
    admin: adminEmail && adminPassword
      ? { email: adminEmail, password: adminPassword, organization: env.SWITCHYARD_ADMIN_ORG?.trim() || 'Default' }
      : null,
    superUserEmails: (env.ADMIN_SUPER_USER_EMAILS ?? '')
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter(Boolean),
    smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:']),
    publicUrl: publicUrl.replace(/\/+$/, ''),
    environment: env.SWITCHYARD_ENVIRONMENT || 'production',
    version: env.SWITCHYARD_VERSION || '0.1.0',
    buildNumber: env.SWITCHYARD_BUILD_NUMBER || '1',
  };
}
