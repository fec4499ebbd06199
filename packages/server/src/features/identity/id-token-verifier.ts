import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { ExternalIssuer } from '../../config.js';
import { UnauthorizedError, UnavailableError } from '../../domain/errors.js';

/** What a verified external ID token says about its holder. */
export interface VerifiedIdToken {
  /** The issuer's `iss`, exactly. */
  issuer: string;
  /** `oidc` or `firebase`: which configured issuer vouched for it. */
  issuerKind: ExternalIssuer['kind'];
  /** The holder's stable id at the issuer (`sub`; Firebase's uid). */
  subject: string;
  /** Normalised (trimmed, lower-cased); always present and verified by the issuer. */
  email: string;
  name: string | null;
  /** Firebase's `firebase.sign_in_provider` (`google.com`, `password`, …), when given. */
  signInProvider: string | null;
}

/** Asymmetric signatures only: an issuer's JWKS never holds a shared secret we could check. */
const algorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

const refused = (code: string, message: string) => new UnauthorizedError(message, code);

/**
 * Verifies external OIDC ID tokens (any configured issuer; Firebase is a preset of one) against the
 * issuer's JWKS with jose: signature, `iss`, `aud`, `exp`/`nbf`/`iat`, a `sub`, and an email the
 * issuer says is verified. The JWKS is fetched on first use and cached (jose refetches on an
 * unknown `kid`, at most every 30 s). Every refusal is an `UnauthorizedError` whose code says why.
 */
export class IdTokenVerifier {
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(
    private readonly issuers: readonly ExternalIssuer[],
    /** How long a JWKS fetch may take before the token is answered 503. */
    private readonly fetchTimeoutMs = 5000,
  ) {}

  /** Whether any issuer is configured (otherwise every ID token is refused). */
  get enabled(): boolean {
    return this.issuers.length > 0;
  }

  /** Whether `token` is a JWT naming a configured issuer. Does not verify it. */
  trusts(token: string): boolean {
    return this.issuerOf(token) !== null;
  }

  /** Whether `token` decodes as a JWT at all (so it is an ID token to judge, not some other credential). */
  looksLikeJwt(token: string): boolean {
    try {
      decodeJwt(token);
      return true;
    } catch {
      return false;
    }
  }

  private issuerOf(token: string): ExternalIssuer | null {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      return null;
    }
    return this.issuers.find((i) => i.issuer === iss) ?? null;
  }

  private keySet(issuer: ExternalIssuer): ReturnType<typeof createRemoteJWKSet> {
    let set = this.keySets.get(issuer.issuer);
    if (!set) {
      set = createRemoteJWKSet(new URL(issuer.jwksUrl), { timeoutDuration: this.fetchTimeoutMs });
      this.keySets.set(issuer.issuer, set);
    }
    return set;
  }

  /** Verifies an ID token; throws `UnauthorizedError` (code names the reason) or `UnavailableError`. */
  async verify(token: string): Promise<VerifiedIdToken> {
    if (!this.looksLikeJwt(token)) throw refused('id_token_malformed', 'The ID token is not a JWT');
    const issuer = this.issuerOf(token);
    if (!issuer) {
      throw refused(
        'id_token_untrusted_issuer',
        this.enabled ? 'The ID token was issued by an issuer this server does not trust' : 'This server is not configured to accept external ID tokens',
      );
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySet(issuer), {
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms,
        requiredClaims: ['sub', 'exp', 'iat'],
        clockTolerance: 5,
      }));
    } catch (err) {
      throw this.translate(err);
    }
    const subject = payload.sub ?? '';
    if (subject.length === 0 || subject.length > 255) throw refused('id_token_invalid', 'The ID token has no usable subject (sub)');
    if (typeof payload.auth_time === 'number' && payload.auth_time > Date.now() / 1000 + 5) {
      throw refused('id_token_invalid', 'The ID token says its holder authenticated in the future');
    }
    const email = typeof payload.email === 'string' ? payload.email.trim().toLowerCase() : '';
    if (email.length === 0) throw refused('id_token_email_missing', 'The ID token carries no email address');
    const verified = payload.email_verified === true || payload.email_verified === 'true';
    if (!verified) throw refused('email_not_verified', 'The ID token’s email is not verified by its issuer; verify it there first');
    const firebase = payload.firebase as { sign_in_provider?: unknown } | undefined;
    return {
      issuer: issuer.issuer,
      issuerKind: issuer.kind,
      subject,
      email,
      name: typeof payload.name === 'string' && payload.name.trim() !== '' ? payload.name.trim().slice(0, 200) : null,
      signInProvider: typeof firebase?.sign_in_provider === 'string' ? firebase.sign_in_provider : null,
    };
  }

  private translate(err: unknown): Error {
    if (err instanceof joseErrors.JWTExpired) return refused('id_token_expired', 'The ID token has expired; get a fresh one from the identity provider');
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      if (err.claim === 'aud') return refused('id_token_wrong_audience', 'The ID token was issued for another audience (aud)');
      if (err.claim === 'iss') return refused('id_token_untrusted_issuer', 'The ID token was issued by an issuer this server does not trust');
      if (err.claim === 'nbf' || err.claim === 'iat') return refused('id_token_invalid', 'The ID token is not valid yet');
      return refused('id_token_invalid', `The ID token is invalid (${err.claim})`);
    }
    if (err instanceof joseErrors.JWKSNoMatchingKey) return refused('id_token_unknown_key', 'The ID token is signed with a key its issuer does not publish (unknown kid)');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return refused('id_token_invalid_signature', 'The ID token’s signature does not verify');
    if (err instanceof joseErrors.JOSEAlgNotAllowed) return refused('id_token_invalid_signature', 'The ID token is signed with an algorithm that is not accepted');
    if (err instanceof joseErrors.JWKSTimeout) return new UnavailableError('The identity provider’s keys could not be fetched in time; try again', 'identity_provider_unavailable');
    if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JOSENotSupported) {
      return refused('id_token_malformed', 'The ID token is malformed');
    }
    // jose's plain JOSEError (ERR_JOSE_GENERIC) is what a non-200 JWKS answer raises.
    if (err instanceof joseErrors.JWKSInvalid || !(err instanceof joseErrors.JOSEError) || err.code === 'ERR_JOSE_GENERIC') {
      // The JWKS endpoint is down, answers non-200 or no JSON: not the token's fault.
      return new UnavailableError('The identity provider’s keys could not be fetched; try again', 'identity_provider_unavailable');
    }
    return refused('id_token_invalid', 'The ID token is invalid');
  }
}
