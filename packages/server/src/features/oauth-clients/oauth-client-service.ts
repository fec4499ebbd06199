import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { NotFoundError, UnauthorizedError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import { scopePermissions, type AccessService } from '../access/access-service.js';
import type { AuditStore } from '../audit/audit-store.js';
import { hashSecret, type TokenService } from '../identity/token-service.js';
import type { OAuthClient, OAuthClientStore } from './oauth-client-store.js';

/** The scopes an OAuth client can be granted (IntelliToggle's "Available Scopes"), in display order. */
export const oauthScopes = ['flags:read', 'flags:write', 'flags:evaluate', 'projects:read', 'projects:write'] as const;

/** One grantable scope. */
export type OAuthScope = (typeof oauthScopes)[number];

const known = new Set<string>(oauthScopes);

/** What creating a client takes. */
export interface CreateOAuthClientInput {
  name: string;
  scopes: readonly string[];
}

/** A token issued by the client-credentials grant. */
export interface IssuedClientToken {
  accessToken: string;
  expiresIn: number;
  /** The scopes granted to this token, in display order. */
  scopes: string[];
}

/** The credentials and request of a client-credentials grant, as the token endpoint read them. */
export interface ClientCredentialsRequest {
  /** The client's id (null when what was sent is not a client id at all). */
  clientId: number | null;
  clientSecret: string;
  /** The space-separated `scope` parameter; null or empty asks for every scope of the client. */
  scope: string | null;
}

/** A new client secret (prefixed so secret scanners can spot a leaked one): 256 random bits. */
function newClientSecret(): string {
  return `sycs_${randomBytes(32).toString('base64url')}`;
}

function ordered(scopes: Iterable<string>): OAuthScope[] {
  const set = new Set(scopes);
  return oauthScopes.filter((s) => set.has(s));
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

const invalidClient = () => new UnauthorizedError('Client authentication failed: unknown client, wrong secret or revoked client', 'invalid_client');

/**
 * OAuth2 clients of an organisation (the client-credentials grant): created with the secret shown
 * once (only its SHA-256 is stored), listed without it, revoked. Creating and revoking need
 * `api_keys:write` and listing `api_keys:read` in the organisation; a creator can only grant
 * scopes whose permissions they hold themselves. The token endpoint exchanges a client's
 * credentials for a machine token carrying its scopes; every request with such a token checks
 * the client is not revoked, so revocation takes effect at once.
 */
export class OAuthClientService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly store: OAuthClientStore,
    private readonly tokens: TokenService,
    private readonly audit: AuditStore,
  ) {}

  /** Creates a client in `organizationId`; the returned `secret` is the only time anyone sees it. */
  async create(actor: Actor, organizationId: number | null, input: CreateOAuthClientInput): Promise<{ client: OAuthClient; secret: string }> {
    const fields: Record<string, string> = {};
    const name = input.name.trim();
    if (name.length === 0 || name.length > 200) fields.name = 'must be 1 to 200 characters';
    const unknown = [...new Set(input.scopes.filter((s) => !known.has(s)))];
    if (unknown.length > 0) {
      fields.scopes = `unknown scope${unknown.length > 1 ? 's' : ''} ${unknown.map((s) => `"${s}"`).join(', ')}; allowed: ${oauthScopes.join(', ')}`;
    } else if (input.scopes.length === 0) {
      fields.scopes = `must name at least one of ${oauthScopes.join(', ')}`;
    }
    const scopes = ordered(input.scopes);
    return this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'api_keys:write', trx);
      if (Object.keys(fields).length > 0) throw new ValidationError('The OAuth client is not valid', fields);
      // A scope `x:write` also lets the token read `x`: the creator must hold all of it.
      this.access.assertCanGrant(grant, scopes.flatMap(scopePermissions));
      const secret = newClientSecret();
      const client: OAuthClient = {
        id: newId(),
        organizationId: grant.organizationId,
        name,
        scopes,
        secretHash: hashSecret(secret),
        createdBy: actor.userId,
        createdAt: nowIso(),
        lastUsedAt: null,
        revokedAt: null,
      };
      await this.store.insert(trx, client);
      await this.audit.record(trx, actor, {
        organizationId: client.organizationId,
        action: 'oauth_client.created',
        resourceType: 'oauth_client',
        resourceId: client.id,
        after: { name, scopes },
      });
      return { client, secret };
    });
  }

  /** A page of the organisation's clients (revoked ones too, newest first) and the total. */
  async list(actor: Actor, organizationId: number | null, page: { limit?: number; offset?: number } = {}): Promise<{ items: OAuthClient[]; total: number }> {
    const grant = await this.access.require(actor, organizationId, 'api_keys:read');
    return this.store.listInOrganization(this.db, grant.organizationId, { limit: page.limit ?? 100, offset: page.offset ?? 0 });
  }

  /**
   * Revokes a client: no new tokens, and its tokens are refused from the moment this returns.
   * Revoking a revoked client changes nothing and answers it as it is.
   */
  async revoke(actor: Actor, organizationId: number | null, clientId: number | null): Promise<OAuthClient> {
    return this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'api_keys:write', trx);
      const found = clientId === null ? null : await this.store.findInOrganization(trx, grant.organizationId, clientId);
      if (!found) throw new NotFoundError('OAuth client');
      if (found.revokedAt !== null) return found;
      const at = nowIso();
      if (await this.store.revoke(trx, found.id, at)) {
        await this.audit.record(trx, actor, {
          organizationId: found.organizationId,
          action: 'oauth_client.revoked',
          resourceType: 'oauth_client',
          resourceId: found.id,
          before: { revokedAt: null },
          after: { revokedAt: at, name: found.name },
        });
      }
      return (await this.store.findById(trx, found.id)) ?? found;
    });
  }

  /**
   * The client-credentials grant (RFC 6749 §4.4). An unknown client, a wrong secret and a revoked
   * client are all `UnauthorizedError('invalid_client')`; a scope the client was not granted is
   * `ValidationError` with code `invalid_scope`.
   */
  async issueToken(request: ClientCredentialsRequest): Promise<IssuedClientToken> {
    // Hash first, whatever the client id, so unknown clients cost the same as wrong secrets.
    const given = hashSecret(request.clientSecret);
    const client = request.clientId === null ? null : await this.store.findById(this.db, request.clientId);
    if (!client || !sameHash(given, client.secretHash) || client.revokedAt !== null) throw invalidClient();
    const requested = (request.scope ?? '').split(' ').filter(Boolean);
    let scopes: string[] = client.scopes;
    if (requested.length > 0) {
      const refused = [...new Set(requested.filter((s) => !client.scopes.includes(s)))];
      if (refused.length > 0) {
        throw new ValidationError(`The client was not granted ${refused.map((s) => `"${s}"`).join(', ')}; it may ask for: ${client.scopes.join(' ')}`, {}, 'invalid_scope');
      }
      scopes = ordered(requested);
    }
    const issued = await this.tokens.issueClientToken({ clientId: client.id, organizationId: client.organizationId, scopes });
    await this.store.touchLastUsed(this.db, client.id, nowIso());
    return { accessToken: issued.token, expiresIn: issued.expiresIn, scopes };
  }

  /**
   * Turns one of our machine tokens into the request's actor (kind `client`, holding exactly the
   * token's scopes in the client's organisation): verifies it, then reads the client's state —
   * one primary-key read — so a revoked client (or one whose organisation is gone) is refused at
   * once. Throws `UnauthorizedError('invalid_token')`.
   */
  async actorForToken(token: string): Promise<Actor> {
    const claims = await this.tokens.verifyClientToken(token);
    const state = await this.store.findState(this.db, claims.clientId);
    if (!state || state.organizationId !== claims.organizationId) throw new UnauthorizedError('The OAuth client no longer exists', 'invalid_token');
    if (state.revokedAt !== null) throw new UnauthorizedError('The OAuth client has been revoked', 'invalid_token');
    const scopes = claims.scopes.filter((s) => state.scopes.includes(s));
    return {
      kind: 'client',
      userId: null,
      credentialId: claims.clientId,
      organizationId: claims.organizationId,
      role: null,
      platformRole: null,
      scopes,
      sessionId: null,
    };
  }
}
