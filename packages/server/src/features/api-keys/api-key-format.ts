import { hash, randomBytes, randomUUID } from 'node:crypto';

/** What an API key may be used for: `server` and `sdk` keys evaluate, `sdk` and `stream` keys stream. */
export type ApiKeyScope = 'server' | 'sdk' | 'stream';

/** Every scope, in the order they are documented. */
export const apiKeyScopes: readonly ApiKeyScope[] = ['server', 'sdk', 'stream'];

/**
 * How the secret looks. `switchyard` keys are `sy_<scope>_<43 base64url chars>` (256 random bits),
 * recognisable in logs and by secret scanners; `togglesmartly` keys follow ToggleSmartly's
 * documented `akey-<uuid>-<12 alphanumerics>` shape for that surface's clients.
 */
export type ApiKeyFormat = 'switchyard' | 'togglesmartly';

/** A freshly generated key: the secret (shown once), what is stored, and what lists show. */
export interface GeneratedApiKey {
  secret: string;
  hash: string;
  prefix: string;
}

const alphanumerics = 'abcdefghijklmnopqrstuvwxyz0123456789';

function alphanumeric(length: number): string {
  // 252 is the largest multiple of 36 below 256: rejecting above it keeps every character equally likely.
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 252 && out.length < length) out += alphanumerics[b % 36];
    }
  }
  return out;
}

/** SHA-256 (hex) of a presented key: what is stored and what lookups use. */
export function hashApiKey(secret: string): string {
  // The one-shot form: no Hash object per request on the evaluate path.
  return hash('sha256', secret, 'hex');
}

/** Generates a new key of `scope` in `format`. */
export function generateApiKey(scope: ApiKeyScope, format: ApiKeyFormat = 'switchyard'): GeneratedApiKey {
  if (format === 'togglesmartly') {
    const secret = `akey-${randomUUID()}-${alphanumeric(12)}`;
    return { secret, hash: hashApiKey(secret), prefix: secret.slice(0, 13) };
  }
  const secret = `sy_${scope}_${randomBytes(32).toString('base64url')}`;
  // Scope plus six random characters: enough to tell keys apart in a list, useless to an attacker.
  return { secret, hash: hashApiKey(secret), prefix: secret.slice(0, scope.length + 4 + 6) };
}

/**
 * True when a bearer token has the shape of one of our API keys (so a bearer identifier can leave
 * it to the API-key identifier); JWTs and opaque tokens of other kinds never match.
 */
export function looksLikeApiKey(token: string): boolean {
  return /^sy_(server|sdk|stream)_[A-Za-z0-9_-]{20,}$/.test(token) || /^akey-[0-9a-f-]{36}-[a-z0-9]{12}$/.test(token);
}
