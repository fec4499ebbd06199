import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { ConfigError, firebaseJwksUrl, loadConfig } from '../../config.js';
import { UnauthorizedError, UnavailableError } from '../../domain/errors.js';
import { startLocalOidcIssuer, type LocalOidcIssuer } from '../../testing/local-oidc-issuer.js';
import { IdTokenVerifier } from './id-token-verifier.js';

// Pure verification (no database): the HTTP tests cover sign-in on both dialects.
describe('IdTokenVerifier', () => {
  let idp: LocalOidcIssuer;
  beforeAll(async () => {
    idp = await startLocalOidcIssuer();
  });
  afterAll(async () => idp?.close());
  const verifier = () => new IdTokenVerifier([{ kind: 'oidc', issuer: idp.issuer, audience: idp.audience, jwksUrl: idp.jwksUrl }], 1000);

  it('verifies a good token and fetches the JWKS once for many tokens', async () => {
    const v = verifier();
    const before = idp.jwksFetches();
    const person = idp.person({ name: ' Grace ' });
    const out = await v.verify(await idp.sign(person));
    expect(out).toEqual({ issuer: idp.issuer, issuerKind: 'oidc', subject: person.sub, email: person.email, name: 'Grace', signInProvider: null });
    await v.verify(await idp.sign(idp.person()));
    expect(idp.jwksFetches() - before).toBe(1);
  });

  it('reads Firebase’s sign-in provider and accepts email_verified given as the string "true"', async () => {
    const out = await verifier().verify(await idp.sign(idp.person({ email_verified: 'true', firebase: { sign_in_provider: 'google.com' } })));
    expect(out.signInProvider).toBe('google.com');
  });

  it('refuses a token signed with a shared secret (HS256) under the published kid', async () => {
    const forged = await new SignJWT({ ...idp.person(), iss: idp.issuer, aud: idp.audience })
      .setProtectedHeader({ alg: 'HS256', kid: idp.key.kid })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a-secret-anyone-could-pick-000000'));
    await expect(verifier().verify(forged)).rejects.toMatchObject({ code: 'id_token_invalid_signature' });
  });

  it('refuses a token issued in the future (nbf) and a subject-less one', async () => {
    await expect(verifier().verify(await idp.sign({ ...idp.person(), nbf: Math.floor(Date.now() / 1000) + 600 }))).rejects.toMatchObject({ code: 'id_token_invalid' });
    await expect(verifier().verify(await idp.sign({ ...idp.person(), sub: '' }))).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('answers 503-worthy UnavailableError when the issuer’s keys cannot be fetched', async () => {
    idp.failJwks(true);
    try {
      await expect(verifier().verify(await idp.sign(idp.person()))).rejects.toSatisfy((e) => e instanceof UnavailableError && (e as UnavailableError).code === 'identity_provider_unavailable');
    } finally {
      idp.failJwks(false);
    }
    const unreachable = new IdTokenVerifier([{ kind: 'oidc', issuer: idp.issuer, audience: idp.audience, jwksUrl: 'http://127.0.0.1:9/jwks.json' }], 1000);
    await expect(unreachable.verify(await idp.sign(idp.person()))).rejects.toBeInstanceOf(UnavailableError);
  });

  it('with no issuer configured, refuses every ID token as untrusted', async () => {
    const none = new IdTokenVerifier([]);
    expect(none.enabled).toBe(false);
    await expect(none.verify(await idp.sign(idp.person()))).rejects.toMatchObject({ code: 'id_token_untrusted_issuer' });
  });
});

describe('external issuer configuration', () => {
  it('SWITCHYARD_OIDC_* gives one issuer; FIREBASE_PROJECT_ID the Firebase preset; both may be set', () => {
    const cfg = loadConfig({ SWITCHYARD_OIDC_ISSUER: 'https://login.example.com/', SWITCHYARD_OIDC_AUDIENCE: 'my-app', SWITCHYARD_OIDC_JWKS_URL: 'https://login.example.com/keys', FIREBASE_PROJECT_ID: 'my-project-123' });
    expect(cfg.externalIssuers).toEqual([
      { kind: 'oidc', issuer: 'https://login.example.com/', audience: 'my-app', jwksUrl: 'https://login.example.com/keys' },
      { kind: 'firebase', issuer: 'https://securetoken.google.com/my-project-123', audience: 'my-project-123', jwksUrl: firebaseJwksUrl },
    ]);
    expect(firebaseJwksUrl).toBe('https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com');
    expect(loadConfig({}).externalIssuers).toEqual([]);
  });

  it('names the variable that is missing or wrong', () => {
    const bad = (env: Record<string, string>, variable: string) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).variable).toBe(variable);
        return;
      }
      throw new Error(`no ConfigError for ${JSON.stringify(env)}`);
    };
    bad({ SWITCHYARD_OIDC_ISSUER: 'https://login.example.com' }, 'SWITCHYARD_OIDC_AUDIENCE');
    bad({ SWITCHYARD_OIDC_ISSUER: 'https://login.example.com', SWITCHYARD_OIDC_AUDIENCE: 'a' }, 'SWITCHYARD_OIDC_JWKS_URL');
    bad({ SWITCHYARD_OIDC_AUDIENCE: 'a', SWITCHYARD_OIDC_JWKS_URL: 'https://x/keys' }, 'SWITCHYARD_OIDC_ISSUER');
    bad({ SWITCHYARD_OIDC_ISSUER: 'login.example.com', SWITCHYARD_OIDC_AUDIENCE: 'a', SWITCHYARD_OIDC_JWKS_URL: 'https://x/keys' }, 'SWITCHYARD_OIDC_ISSUER');
    bad({ SWITCHYARD_OIDC_ISSUER: 'https://x', SWITCHYARD_OIDC_AUDIENCE: 'a b', SWITCHYARD_OIDC_JWKS_URL: 'https://x/keys' }, 'SWITCHYARD_OIDC_AUDIENCE');
    bad({ SWITCHYARD_OIDC_ISSUER: 'https://x', SWITCHYARD_OIDC_AUDIENCE: 'a', SWITCHYARD_OIDC_JWKS_URL: 'ftp://x/keys' }, 'SWITCHYARD_OIDC_JWKS_URL');
    bad({ FIREBASE_PROJECT_ID: 'Not A Project' }, 'FIREBASE_PROJECT_ID');
  });
});
