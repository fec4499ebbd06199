import { createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DatabaseTarget } from './db/connect.js';
import { serverVersion } from './version.js';
import { BillingConfigError, loadBillingSettings, type BillingSettings } from './features/billing/billing-config.js';

/** Everything the server reads from its environment, validated once at start. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  database: DatabaseTarget;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `open` lets anyone sign up; `invite-only` refuses signup without an invitation. */
  signup: 'open' | 'invite-only';
  /** scrypt cost for new password hashes: log2 of N (15 = 32 MiB, ~100 ms). */
  passwordHashCost: number;
  admin: { email: string; password: string; organization: string } | null;
  /** Emails that are platform super users. */
  superUserEmails: string[];
  smtpUrl: string | null;
  /** The `From` of mail sent through SMTP (`SMTP_FROM`). */
  mailFrom: string;
  /** Where people reach the server; used in links sent by mail. */
  publicUrl: string;
  /** `production`, `development`, … as reported by `/api/v1/version`. */
  environment: string;
  version: string;
  buildNumber: string;
  /** Requests per credential (or client IP) per minute on `/api/v1`. */
  rateLimitPerMinute: number;
  /** How long shutdown waits for in-flight requests before closing their connections. */
  shutdownTimeoutSeconds: number;
  /** Trust `X-Forwarded-For`/`-Proto` from a reverse proxy (client IP for rate limits and logs). */
  trustProxy: boolean;
  /** Days between asking for an account's or organisation's deletion and its erasure (`SWITCHYARD_DELETION_GRACE_DAYS`). */
  deletionGraceDays: number;
  /** Days a sandbox tenant lasts after it is created (`SWITCHYARD_SANDBOX_DAYS`). */
  sandboxDays: number;
  /** Firebase Cloud Messaging (HTTP v1) for push notifications; null: pushes are recorded as undelivered. */
  fcm: FcmConfig | null;
  /** External ID-token issuers trusted for sign-in and as bearer tokens (`SWITCHYARD_OIDC_*`, `FIREBASE_PROJECT_ID`). */
  externalIssuers: ExternalIssuer[];
  /** `REDIS_URL`: rate-limit counters shared through Redis; null counts in memory per instance. */
  redisUrl: string | null;
  /** Interval of the SDK stream's heartbeat comment (`SWITCHYARD_STREAM_HEARTBEAT_MS`, default 15000). */
  streamHeartbeatMs: number;
  /** With PostgreSQL, how often held revisions are compared with the stored ones (`SWITCHYARD_REVISION_CHECK_SECONDS`, default 30; 0 off). */
  revisionCheckSeconds: number;
  /** Plans, quotas and Stripe (issue 8): billing is on when `STRIPE_SECRET_KEY` is set. */
  billing: BillingSettings;
}

/** An OIDC issuer whose ID tokens (verified against its JWKS) sign people in. */
export interface ExternalIssuer {
  /** `oidc` (SWITCHYARD_OIDC_*) or `firebase` (the FIREBASE_PROJECT_ID preset). */
  kind: 'oidc' | 'firebase';
  /** The exact `iss` of its tokens. */
  issuer: string;
  /** The `aud` its tokens must carry (the client id, or the Firebase project id). */
  audience: string;
  jwksUrl: string;
}

/** A Firebase service account, as far as sending FCM HTTP v1 messages needs it. */
export interface FcmConfig {
  projectId: string;
  clientEmail: string;
  /** PKCS#8 PEM of the service account's RS256 key. */
  privateKey: string;
  /** Where the service-account JWT is exchanged for an OAuth2 access token. */
  tokenUri: string;
  /** FCM's base URL (`FCM_API_BASE_URL`, default https://fcm.googleapis.com). */
  apiBaseUrl: string;
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

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

/** A short label (version, build number, environment name): letters, digits and `._+-`. */
function label(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[\w.+-]{1,64}$/.test(raw)) throw new ConfigError(name, `must be 1-64 letters, digits or ._+- characters, got "${raw}"`);
  return raw;
}

function host(env: Env): string {
  const raw = env.HOST;
  if (raw === undefined || raw === '') return '0.0.0.0';
  // A hostname, an IPv4 address or an IPv6 address (optionally bracketed).
  if (!/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/.test(raw)) {
    throw new ConfigError('HOST', `must be a hostname or IP address, got "${raw}"`);
  }
  return raw.replace(/^\[(.*)\]$/, '$1');
}

function dataDirectory(env: Env): string {
  const dir = resolve(env.SWITCHYARD_DATA_DIR || './data');
  let isDirectory = true;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // Absent is fine: it is created on first start.
  }
  if (!isDirectory) throw new ConfigError('SWITCHYARD_DATA_DIR', `"${dir}" exists and is not a directory`);
  return dir;
}

/** `SMTP_FROM`: `address@host` or `Name <address@host>`. */
function mailFrom(env: Env): string {
  const raw = env.SMTP_FROM?.trim();
  if (!raw) return 'Switchyard <noreply@localhost>';
  if (!/^([^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(raw)) {
    throw new ConfigError('SMTP_FROM', 'must be an address (noreply@example.com) or Name <noreply@example.com>');
  }
  return raw;
}

/** Google's public keys for Firebase ID tokens (securetoken), as a JWKS. */
export const firebaseJwksUrl = 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com';

/**
 * `SWITCHYARD_OIDC_ISSUER`, `_AUDIENCE` and `_JWKS_URL` (all three or none) and the
 * `FIREBASE_PROJECT_ID` preset; either, both or neither.
 */
function externalIssuers(env: Env): ExternalIssuer[] {
  const out: ExternalIssuer[] = [];
  const names = ['SWITCHYARD_OIDC_ISSUER', 'SWITCHYARD_OIDC_AUDIENCE', 'SWITCHYARD_OIDC_JWKS_URL'] as const;
  const given = names.filter((n) => (env[n] ?? '').trim() !== '');
  if (given.length > 0) {
    const missing = names.find((n) => !given.includes(n));
    if (missing) throw new ConfigError(missing, `is required when ${given.join(' and ')} ${given.length === 1 ? 'is' : 'are'} set`);
    const issuer = url(env, 'SWITCHYARD_OIDC_ISSUER', ['https:', 'http:'])!;
    const audience = env.SWITCHYARD_OIDC_AUDIENCE!.trim();
    if (audience.length > 256 || /\s/.test(audience)) throw new ConfigError('SWITCHYARD_OIDC_AUDIENCE', 'must be 1-256 characters without spaces');
    const jwksUrl = url(env, 'SWITCHYARD_OIDC_JWKS_URL', ['https:', 'http:'])!;
    out.push({ kind: 'oidc', issuer, audience, jwksUrl });
  }
  const project = env.FIREBASE_PROJECT_ID?.trim();
  if (project) {
    // Google Cloud project ids: 6-30 lowercase letters, digits and hyphens, starting with a letter.
    if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(project)) {
      throw new ConfigError('FIREBASE_PROJECT_ID', `must be a Firebase project id (6-30 lowercase letters, digits or hyphens), got "${project}"`);
    }
    const issuer = `https://securetoken.google.com/${project}`;
    if (out.some((i) => i.issuer === issuer)) throw new ConfigError('SWITCHYARD_OIDC_ISSUER', 'is the FIREBASE_PROJECT_ID issuer already; set only one of them');
    out.push({ kind: 'firebase', issuer, audience: project, jwksUrl: firebaseJwksUrl });
  }
  return out;
}

/**
 * `FCM_SERVICE_ACCOUNT_JSON` (the JSON itself) or `FCM_SERVICE_ACCOUNT_JSON_FILE` (a path to it),
 * not both: a Google service-account key with `project_id`, `client_email`, a PEM `private_key`
 * and optionally `token_uri`.
 */
function fcm(env: Env): FcmConfig | null {
  // Validated even without an account, so a typo is not silently ignored.
  const apiBaseUrl = (url(env, 'FCM_API_BASE_URL', ['http:', 'https:']) ?? 'https://fcm.googleapis.com').replace(/\/+$/, '');
  const inline = env.FCM_SERVICE_ACCOUNT_JSON;
  const file = env.FCM_SERVICE_ACCOUNT_JSON_FILE;
  if (inline && file) throw new ConfigError('FCM_SERVICE_ACCOUNT_JSON_FILE', 'set either it or FCM_SERVICE_ACCOUNT_JSON, not both');
  const variable = file ? 'FCM_SERVICE_ACCOUNT_JSON_FILE' : 'FCM_SERVICE_ACCOUNT_JSON';
  let text = inline;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError(variable, `cannot read "${file}"`);
    }
  }
  if (!text) return null;
  let parsed: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    parsed = value as Record<string, unknown>;
  } catch {
    throw new ConfigError(variable, 'is not a JSON object (a Firebase service-account key)');
  }
  const field = (name: string): string => {
    const v = parsed[name];
    if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(variable, `the service account has no "${name}"`);
    return v;
  };
  const projectId = field('project_id');
  const clientEmail = field('client_email');
  const privateKey = field('private_key');
  try {
    createPrivateKey(privateKey);
  } catch {
    throw new ConfigError(variable, '"private_key" is not a PEM private key');
  }
  const tokenUri = parsed.token_uri === undefined ? 'https://oauth2.googleapis.com/token' : field('token_uri');
  if (!/^https?:\/\//.test(tokenUri) || !URL.canParse(tokenUri)) throw new ConfigError(variable, '"token_uri" must be an http(s) URL');
  if (!/^[a-z0-9-]{1,64}$/i.test(projectId)) throw new ConfigError(variable, '"project_id" must be letters, digits or dashes');
  return { projectId, clientEmail, privateKey, tokenUri, apiBaseUrl };
}

/** Reads and validates the configuration; throws `ConfigError` naming the first bad variable. */
function billingSettings(env: Env): BillingSettings {
  try {
    return loadBillingSettings(env);
  } catch (err) {
    if (err instanceof BillingConfigError) throw new ConfigError(err.variable, err.message.slice(err.variable.length + 2));
    throw err;
  }
}

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, 'PORT', 8080, 0, 65535);
  const dataDir = dataDirectory(env);
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
  const adminOrg = env.SWITCHYARD_ADMIN_ORG?.trim() || 'Default';
  if (adminOrg.length > 100) throw new ConfigError('SWITCHYARD_ADMIN_ORG', 'must be at most 100 characters');
  const superUserEmails = (env.ADMIN_SUPER_USER_EMAILS ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  const badSuperUser = superUserEmails.find((e) => !/^[^\s@]+@[^\s@]+$/.test(e));
  if (badSuperUser) throw new ConfigError('ADMIN_SUPER_USER_EMAILS', `"${badSuperUser}" is not an email address`);

  return {
    host: host(env),
    port,
    dataDir,
    database,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    signup: oneOf(env, 'SWITCHYARD_SIGNUP', ['open', 'invite-only'] as const, 'open'),
    passwordHashCost: int(env, 'SWITCHYARD_PASSWORD_HASH_COST', 15, 10, 20),
    admin: adminEmail && adminPassword
      ? { email: adminEmail, password: adminPassword, organization: adminOrg }
      : null,
    superUserEmails,
    smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: mailFrom(env),
    publicUrl: publicUrl.replace(/\/+$/, ''),
    environment: label(env, 'SWITCHYARD_ENVIRONMENT', 'production'),
    version: label(env, 'SWITCHYARD_VERSION', serverVersion),
    buildNumber: label(env, 'SWITCHYARD_BUILD_NUMBER', '1'),
    rateLimitPerMinute: int(env, 'SWITCHYARD_RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
    shutdownTimeoutSeconds: int(env, 'SWITCHYARD_SHUTDOWN_TIMEOUT_SECONDS', 10, 1, 3600),
    trustProxy: bool(env, 'SWITCHYARD_TRUST_PROXY', false),
    deletionGraceDays: int(env, 'SWITCHYARD_DELETION_GRACE_DAYS', 14, 0, 3650),
    sandboxDays: int(env, 'SWITCHYARD_SANDBOX_DAYS', 14, 1, 3650),
    fcm: fcm(env),
    externalIssuers: externalIssuers(env),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    streamHeartbeatMs: int(env, 'SWITCHYARD_STREAM_HEARTBEAT_MS', 15_000, 10, 3_600_000),
    revisionCheckSeconds: int(env, 'SWITCHYARD_REVISION_CHECK_SECONDS', 30, 0, 86_400),
    billing: billingSettings(env),
  };
}
