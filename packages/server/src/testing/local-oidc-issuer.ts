import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';

/** A signing key of the local issuer (or a stray one, to sign tokens it would not vouch for). */
export interface TestSigningKey {
  kid: string;
  privateKey: CryptoKey;
}

/** What `sign` puts in a token besides the claims. */
export interface SignOptions {
  /** Sign with this key instead of the published one (its `kid` goes in the header). */
  key?: TestSigningKey;
  /** Overrides the `kid` header (e.g. one the JWKS does not list). */
  kid?: string;
  /** Seconds from now; negative for a token that has already expired. Default 3600. */
  expiresIn?: number;
}

/**
 * An OIDC issuer for tests: an HTTP server on 127.0.0.1 that serves a JWKS of RSA keys the test
 * generated, and signs ID tokens with them. Point `SWITCHYARD_OIDC_*` at it.
 */
export interface LocalOidcIssuer {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** The published key. */
  key: TestSigningKey;
  /** How often the JWKS was fetched. */
  jwksFetches(): number;
  /** Makes the JWKS endpoint answer 500 (or serve again). */
  failJwks(fail: boolean): void;
  /** A fresh RSA key that is not published. */
  strayKey(): Promise<TestSigningKey>;
  /** Signs an ID token; `claims` override the defaults (iss, aud, sub, email, email_verified, iat, exp). */
  sign(claims?: JWTPayload, options?: SignOptions): Promise<string>;
  /** `sign` with a random subject and email for one new person. */
  person(overrides?: JWTPayload): { sub: string; email: string; email_verified: boolean };
  env(): Record<string, string>;
  close(): Promise<void>;
}

async function newKey(): Promise<TestSigningKey & { publicJwk: Record<string, unknown> }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `test-${randomUUID()}`;
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** Starts a local issuer; `close()` it in `afterAll`. */
export async function startLocalOidcIssuer(options: { issuer?: string; audience?: string } = {}): Promise<LocalOidcIssuer> {
  const key = await newKey();
  let fetches = 0;
  let failing = false;
  const server: Server = createServer((req, res) => {
    if (req.url === '/jwks.json') {
      fetches++;
      if (failing) {
        res.writeHead(500).end('down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.publicJwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = options.issuer ?? `http://127.0.0.1:${port}`;
  const audience = options.audience ?? 'switchyard-test-app';
  const jwksUrl = `http://127.0.0.1:${port}/jwks.json`;
  return {
    issuer,
    audience,
    jwksUrl,
    key,
    jwksFetches: () => fetches,
    failJwks: (fail) => {
      failing = fail;
    },
    strayKey: async () => {
      const k = await newKey();
      return { kid: k.kid, privateKey: k.privateKey };
    },
    person: (overrides = {}) => {
      const id = randomUUID();
      return { sub: `uid-${id}`, email: `person-${id.slice(0, 8)}@idp.example`, email_verified: true, ...overrides } as { sub: string; email: string; email_verified: boolean };
    },
    async sign(claims = {}, signOptions = {}) {
      const signer = signOptions.key ?? key;
      const now = Math.floor(Date.now() / 1000);
      const exp = now + (signOptions.expiresIn ?? 3600);
      return new SignJWT({ iss: issuer, aud: audience, iat: signOptions.expiresIn !== undefined && signOptions.expiresIn < 0 ? exp - 3600 : now, exp, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: signOptions.kid ?? signer.kid, typ: 'JWT' })
        .sign(signer.privateKey);
    },
    env: () => ({ SWITCHYARD_OIDC_ISSUER: issuer, SWITCHYARD_OIDC_AUDIENCE: audience, SWITCHYARD_OIDC_JWKS_URL: jwksUrl }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // fetch keeps connections alive; they would hold the close open.
        server.closeAllConnections();
      }),
  };
}
