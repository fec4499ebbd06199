import type { TokenService } from '../../features/identity/token-service.js';
import type { OAuthClientService } from '../../features/oauth-clients/oauth-client-service.js';
import { bearerToken, failureOf, type Identifier } from './identify.js';

/**
 * Identifies our OAuth client-credentials tokens (`typ: client-at+jwt`), leaving every other
 * bearer token to the other identifiers. The actor is the client (kind `client`, its
 * organisation, exactly its token's scopes); `X-Tenant-ID` cannot move it to another organisation.
 */
export function clientTokenIdentifier(clients: OAuthClientService, tokens: TokenService): Identifier {
  return {
    name: 'client-token',
    identify(request) {
      const token = bearerToken(request);
      if (!token || !tokens.isClientToken(token)) return null;
      return clients.actorForToken(token).then((actor) => ({ actor }), failureOf);
    },
  };
}
