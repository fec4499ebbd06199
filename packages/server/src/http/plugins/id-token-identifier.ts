import { DomainError, UnauthorizedError } from '../../domain/errors.js';
import type { ExternalSignInService } from '../../features/identity/external-sign-in-service.js';
import type { TokenService } from '../../features/identity/token-service.js';
import { bearerToken, type Identifier, type IdentifyOutcome } from './identify.js';

/**
 * Identifies external OIDC / Firebase ID tokens sent as `Authorization: Bearer <idToken>`: any
 * JWT that does not claim to be ours (`claimsToBeOurs`). The actor is the linked account, without
 * a Switchyard session. A token we cannot accept is refused with its reason (expired, wrong
 * audience, untrusted issuer, not linked, …); an issuer whose keys cannot be fetched too, as
 * `identity_provider_unavailable`.
 */
export function idTokenIdentifier(external: ExternalSignInService, tokens: TokenService): Identifier {
  const accepted = async (token: string, organizationId: number | null): Promise<IdentifyOutcome> => {
    try {
      return { actor: await external.actorForIdToken(token, organizationId) };
    } catch (err) {
      if (err instanceof UnauthorizedError) return { failure: { code: err.code, message: err.message } };
      // The request is not refused here (identifiers never reject); a route that needs a caller says why.
      if (err instanceof DomainError) return { failure: { code: err.code, message: err.message } };
      throw err;
    }
  };
  return {
    name: 'id-token',
    identify(request, context) {
      const token = bearerToken(request);
      if (!token || tokens.claimsToBeOurs(token) || !external.claims(token)) return null;
      return accepted(token, context.requestedOrganizationId);
    },
  };
}
