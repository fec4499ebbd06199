import { UnauthorizedError } from '../../domain/errors.js';
import type { TokenService } from '../../features/identity/token-service.js';
import type { OAuthClientService } from '../../features/oauth-clients/oauth-client-service.js';
import { bearerToken, type Identifier } from './identify.js';

/**
 * Identifies our OAuth client-credentials tokens (`typ: client-at+jwt`), leaving every other
 * bearer token to the other identifiers. The actor is the client (kind `client`, its
 * organisation, exactly its token's scopes); `X-Tenant-ID` cannot move it to another organisation.
 */
export function clientTokenIdentifier(clients: OAuthClientService, tokens: TokenService): Identifier {
  return {
    name: 'client-token',
    async identify(request) {
      const token = bearerToken(request);
      if (!token || !tokens.isClientToken(token)) return null;
      try {
        return { actor: await clients.actorForToken(token) };
      } catch (err) {
        if (err instanceof UnauthorizedError) return { failure: { code: err.code, message: err.message } };
        throw err;
      }
    },
  };
}
