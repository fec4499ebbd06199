import type { ApiKeyMap } from '../../evaluation/api-key-map.js';
import { looksLikeApiKey } from '../../features/api-keys/api-key-format.js';
import type { IncomingHttpHeaders } from 'node:http';
import { bearerToken, type AuthFailure, type IdentifyOutcome, type Identifier } from './identify.js';

const rejections: Record<'invalid' | 'revoked' | 'expired', { failure: AuthFailure }> = {
  invalid: { failure: { code: 'invalid_api_key', message: 'The API key is not valid' } },
  revoked: { failure: { code: 'api_key_revoked', message: 'The API key has been revoked' } },
  expired: { failure: { code: 'api_key_expired', message: 'The API key has expired' } },
};

/**
 * Identifies `X-API-Key: <key>` (and `Authorization: Bearer <key>` when the token has an API
 * key's shape, as OFREP clients send it) from the in-memory key map — a hash and a map lookup,
 * no database query. The actor is the key's shared `api_key` actor (credentialId = key id).
 * Each use is noted for `lastUsedAt`, written in batches.
 */
export function apiKeyIdentifier(keys: ApiKeyMap): Identifier {
  return { name: 'api-key', identify: (request) => identifyApiKey(keys, request.headers) };
}

/** What `apiKeyIdentifier` concludes from a request's headers (also used outside Fastify's hooks). */
export function identifyApiKey(keys: ApiKeyMap, headers: IncomingHttpHeaders): IdentifyOutcome {
  const header = headers['x-api-key'];
  let secret: string | null = null;
  if (typeof header === 'string') secret = header.trim();
  else if (Array.isArray(header)) return rejections.invalid;
  else {
    const bearer = bearerToken({ headers });
    if (bearer !== null && looksLikeApiKey(bearer)) secret = bearer;
  }
  if (secret === null) return null;
  if (secret.length === 0 || secret.length > 512) return rejections.invalid;
  const now = Date.now();
  const resolved = keys.resolve(secret, now);
  if (typeof resolved === 'string') return rejections[resolved];
  keys.markUsed(resolved, now);
  return { actor: resolved.actor };
}
