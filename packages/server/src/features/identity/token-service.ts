import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import {
  SignJWT,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { Database } from '../../db/schema.js';
import type { Dialect } from '../../db/connect.js';
import { systemActor } from '../../domain/actor.js';
import { UnauthorizedError } from '../../domain/errors.js';
import { nowIso } from '../../domain/ids.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { SigningKey, SigningKeyStore } from './signing-key-store.js';

/** Access tokens live one hour. */
export const accessTokenTtlSeconds = 3600;
/** Refresh tokens live 30 days; every use replaces the token with a new one. */
export const refreshTokenTtlSeconds = 30 * 24 * 3600;

const algorithm = 'ES256';
const tokenType = 'at+jwt';
// OAuth client-credentials tokens have a `typ` of their own, so that neither kind can ever be
// verified as the other, whatever claims it carries.
const clientTokenType = 'client-at+jwt';
// Any stable 64-bit number: the PostgreSQL advisory lock that serialises first-start key creation.
const keyCreationLock = 7_301_946_118_205n;
// An unknown `kid` makes us re-read the keys from the database (another instance may have just
// created one), but at most this often, so forged kids cannot turn into a query per request.
const reloadIntervalMs = 5_000;

/** What an access token says, once verified. */
export interface AccessTokenClaims {
  userId: number;
  sessionId: number;
  organizationId: number | null;
  expiresAt: Date;
}

/** What a machine (OAuth client-credentials) token says, once verified. */
export interface ClientTokenClaims {
  clientId: number;
  organizationId: number;
  scopes: string[];
  expiresAt: Date;
}

/** A freshly issued access token. */
export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
}

/** The public half of every usable signing key, as `/.well-known/jwks.json` serves it. */
export interface JwksDocument {
  keys: Array<{ kty: string; crv?: string; x?: string; y?: string; kid: string; alg: string; use: 'sig' }>;
}

interface LoadedKey {
  id: string;
  createdAt: string;
  retired: boolean;
  publicJwk: JWK;
  verifyKey: CryptoKey;
  signKey: CryptoKey | null;
}

/** A new opaque refresh token (prefixed so secret scanners can spot a leaked one). */
export function newRefreshToken(): string {
  return `syrt_${randomBytes(32).toString('base64url')}`;
}

/** How refresh tokens (and other opaque secrets) are stored: hex SHA-256. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function positiveInt(raw: unknown): number | null {
  if (typeof raw !== 'string' || !/^[1-9]\d{0,15}$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * Signs and verifies the server's own access tokens (ES256 JWTs) with keys kept in
 * `signing_keys`. Keys are created on first start; every instance over the same database signs
 * with the oldest usable key and verifies with any of them, so instances agree.
 */
export class TokenService {
  private keys = new Map<string, LoadedKey>();
  private signing: LoadedKey | null = null;
  private starting: Promise<void> | null = null;
  private lastReload = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly store: SigningKeyStore,
    private readonly audit: AuditStore,
    /** `iss` of our tokens: the server's public URL. */
    readonly issuer: string,
    /** `aud` of our tokens. */
    readonly audience = 'switchyard',
  ) {}

  /** Loads the signing keys, creating the first one if there is none. Idempotent. */
  ready(): Promise<void> {
    this.starting ??= this.ensureKey().catch((err: unknown) => {
      this.starting = null;
      throw err;
    });
    return this.starting;
  }

  private async ensureKey(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.transaction().execute(async (trx) => {
          // Concurrent first starts on PostgreSQL: the lock makes the second wait and then see
          // the first's key, instead of both creating one.
          if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${keyCreationLock})`.execute(trx);
          const usable = await this.store.listUsable(trx, nowIso());
          if (usable.some((k) => k.retiredAt === null)) return;
          const { publicKey, privateKey } = await generateKeyPair(algorithm, { extractable: true });
          const id = `sk_${randomUUID().replace(/-/g, '')}`;
          const publicJwk = { ...(await exportJWK(publicKey)), kid: id, alg: algorithm, use: 'sig' };
          const privateJwk = { ...(await exportJWK(privateKey)), kid: id, alg: algorithm };
          await this.store.insert(trx, {
            id,
            algorithm,
            publicJwk: JSON.stringify(publicJwk),
            privateJwk: JSON.stringify(privateJwk),
            createdAt: nowIso(),
            retiredAt: null,
          });
          await this.audit.record(trx, systemActor, {
            organizationId: null,
            action: 'signing_key.created',
            resourceType: 'signing_key',
            resourceId: id,
            after: { algorithm },
          });
        });
        break;
      } catch (err) {
        // SQLite across processes: a deferred transaction that lost the race to write gets
        // SQLITE_BUSY; the next attempt sees the winner's key.
        if (attempt >= 3) throw err;
      }
    }
    await this.reload();
  }

  private async reload(): Promise<void> {
    this.lastReload = Date.now();
    const cutoff = new Date(Date.now() - accessTokenTtlSeconds * 1000 - 60_000).toISOString();
    const rows = await this.store.listUsable(this.db, cutoff);
    const next = new Map<string, LoadedKey>();
    for (const row of rows) next.set(row.id, this.keys.get(row.id) ?? (await this.load(row)));
    this.keys = next;
    this.signing = [...next.values()].find((k) => !k.retired && k.signKey) ?? null;
  }

  private async load(row: SigningKey): Promise<LoadedKey> {
    const publicJwk = JSON.parse(row.publicJwk) as JWK;
    const verifyKey = (await importJWK(publicJwk, row.algorithm)) as CryptoKey;
    const signKey = (await importJWK(JSON.parse(row.privateJwk) as JWK, row.algorithm)) as CryptoKey;
    return { id: row.id, createdAt: row.createdAt, retired: row.retiredAt !== null, publicJwk, verifyKey, signKey };
  }

  /** Issues an access token for a user's session, acting in `organizationId`. */
  async issueAccessToken(claims: { userId: number; sessionId: number; organizationId: number | null }): Promise<IssuedAccessToken> {
    await this.ready();
    const key = this.signing;
    if (!key?.signKey) throw new Error('no signing key loaded');
    const token = await new SignJWT({ sid: String(claims.sessionId), org: claims.organizationId === null ? null : String(claims.organizationId) })
      .setProtectedHeader({ alg: algorithm, kid: key.id, typ: tokenType })
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setSubject(String(claims.userId))
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${accessTokenTtlSeconds}s`)
      .sign(key.signKey);
    return { token, expiresIn: accessTokenTtlSeconds };
  }

  /**
   * Whether a bearer token is meant for us (our issuer, or one of our key ids) — so that other
   * verifiers (external OIDC issuers) can take the tokens that are not. Does not verify it.
   */
  claimsToBeOurs(token: string): boolean {
    try {
      const header = decodeProtectedHeader(token);
      if (typeof header.kid === 'string' && this.keys.has(header.kid)) return true;
      return decodeJwt(token).iss === this.issuer;
    } catch {
      return false;
    }
  }

  /**
   * Issues a machine token for an OAuth client (RFC 9068 claims: `sub` and `client_id` are the
   * client, `scope` space-separated), acting in its organisation.
   */
  async issueClientToken(claims: { clientId: number; organizationId: number; scopes: readonly string[] }): Promise<IssuedAccessToken> {
    await this.ready();
    const key = this.signing;
    if (!key?.signKey) throw new Error('no signing key loaded');
    const client = `client_${claims.clientId}`;
    const token = await new SignJWT({ client_id: client, org: String(claims.organizationId), scope: claims.scopes.join(' ') })
      .setProtectedHeader({ alg: algorithm, kid: key.id, typ: clientTokenType })
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setSubject(client)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${accessTokenTtlSeconds}s`)
      .sign(key.signKey);
    return { token, expiresIn: accessTokenTtlSeconds };
  }

  /** Whether a token says it is one of our machine tokens (by its `typ`). Does not verify it. */
  isClientToken(token: string): boolean {
    try {
      return decodeProtectedHeader(token).typ === clientTokenType;
    } catch {
      return false;
    }
  }

  /** Verifies one of our machine tokens; throws `UnauthorizedError('…', 'invalid_token')` otherwise. */
  async verifyClientToken(token: string): Promise<ClientTokenClaims> {
    await this.ready();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header) => this.verifyKeyFor(header.kid), {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: [algorithm],
        typ: clientTokenType,
        requiredClaims: ['sub', 'client_id', 'org', 'exp', 'iat'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new UnauthorizedError('The access token has expired', 'invalid_token');
      throw new UnauthorizedError('The access token is invalid', 'invalid_token');
    }
    const clientId = typeof payload.client_id === 'string' && payload.client_id === payload.sub ? positiveInt(payload.client_id.replace(/^client_/, '')) : null;
    const organizationId = positiveInt(payload.org);
    const scope = typeof payload.scope === 'string' ? payload.scope : '';
    if (clientId === null || organizationId === null) throw new UnauthorizedError('The access token is invalid', 'invalid_token');
    return { clientId, organizationId, scopes: scope.split(' ').filter(Boolean), expiresAt: new Date((payload.exp ?? 0) * 1000) };
  }

  /** Verifies one of our access tokens; throws `UnauthorizedError('…', 'invalid_token')` otherwise. */
  async verifyAccessToken(token: string): Promise<AccessTokenClaims> {
    await this.ready();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header) => this.verifyKeyFor(header.kid), {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: [algorithm],
        typ: tokenType,
        requiredClaims: ['sub', 'sid', 'exp', 'iat'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new UnauthorizedError('The access token has expired', 'invalid_token');
      throw new UnauthorizedError('The access token is invalid', 'invalid_token');
    }
    const userId = positiveInt(payload.sub);
    const sessionId = positiveInt(payload.sid);
    const organizationId = payload.org === null || payload.org === undefined ? null : positiveInt(payload.org);
    if (userId === null || sessionId === null || (payload.org != null && organizationId === null)) {
      throw new UnauthorizedError('The access token is invalid', 'invalid_token');
    }
    return { userId, sessionId, organizationId, expiresAt: new Date((payload.exp ?? 0) * 1000) };
  }

  private async verifyKeyFor(kid: string | undefined): Promise<CryptoKey> {
    if (typeof kid !== 'string') throw new joseErrors.JWKSNoMatchingKey();
    let key = this.keys.get(kid);
    if (!key && Date.now() - this.lastReload > reloadIntervalMs) {
      await this.reload();
      key = this.keys.get(kid);
    }
    if (!key) throw new joseErrors.JWKSNoMatchingKey();
    return key.verifyKey;
  }

  /** The JWKS document: public keys only. */
  async jwks(): Promise<JwksDocument> {
    await this.ready();
    return {
      keys: [...this.keys.values()].map((k) => {
        const { kty = 'EC', crv, x, y } = k.publicJwk;
        return { kty, crv, x, y, kid: k.id, alg: algorithm, use: 'sig' as const };
      }),
    };
  }
}
