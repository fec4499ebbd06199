import { createServer, type IncomingMessage, type Server } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, exportJWK, importSPKI, jwtVerify } from 'jose';

/** A message the fake FCM received. */
export interface ReceivedPush {
  project: string;
  bearer: string | null;
  message: { token: string; notification?: { title?: string; body?: string }; data?: Record<string, string> };
}

/**
 * A local HTTP receiver on 127.0.0.1 playing both Google's OAuth2 token endpoint (`POST /token`,
 * verifying the service-account JWT it is sent) and FCM's HTTP v1 send endpoint. Tokens starting
 * with `bad-` are answered 404 UNREGISTERED, as FCM does for an uninstalled app.
 */
export interface FcmTestServer {
  /** Base URL (`FCM_API_BASE_URL`). */
  url: string;
  /** A service-account JSON whose `token_uri` is this server (`FCM_SERVICE_ACCOUNT_JSON`). */
  serviceAccountJson: string;
  pushes: ReceivedPush[];
  /** Token grants that were accepted, and assertions that were refused. */
  tokenGrants: number;
  refusedGrants: number;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the receiver for project `project`. */
export async function startFcmTestServer(project = 'switchyard-test'): Promise<FcmTestServer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const spki = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(await importSPKI(spki, 'RS256'))), alg: 'RS256' }] });
  const clientEmail = `push@${project}.iam.gserviceaccount.com`;
  const issued = new Set<string>();
  const state = { pushes: [] as ReceivedPush[], tokenGrants: 0, refusedGrants: 0 };
  let tokenUri = '';

  const server: Server = createServer((req, res) => {
    void (async () => {
      const text = await body(req);
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST' && req.url === '/token') {
        const form = new URLSearchParams(text);
        try {
          if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') throw new Error('grant');
          const { payload } = await jwtVerify(form.get('assertion') ?? '', jwks, { issuer: clientEmail, audience: tokenUri });
          if (payload.scope !== 'https://www.googleapis.com/auth/firebase.messaging') throw new Error('scope');
        } catch {
          state.refusedGrants++;
          return json(400, { error: 'invalid_grant' });
        }
        state.tokenGrants++;
        const token = `ya29.${randomBytes(12).toString('hex')}`;
        issued.add(token);
        return json(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
      }
      const m = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.url ?? '');
      if (req.method === 'POST' && m) {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? null;
        if (!bearer || !issued.has(bearer)) return json(401, { error: { code: 401, status: 'UNAUTHENTICATED' } });
        const parsed = JSON.parse(text) as { message: ReceivedPush['message'] };
        state.pushes.push({ project: decodeURIComponent(m[1]!), bearer, message: parsed.message });
        if (parsed.message.token.startsWith('bad-')) {
          return json(404, { error: { code: 404, status: 'NOT_FOUND', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }] } });
        }
        return json(200, { name: `projects/${m[1]}/messages/${randomBytes(6).toString('hex')}` });
      }
      json(404, { error: 'not found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tokenUri = `${url}/token`;
  const serviceAccountJson = JSON.stringify({ type: 'service_account', project_id: project, private_key_id: 'k1', private_key: pem, client_email: clientEmail, token_uri: tokenUri });
  return {
    url,
    serviceAccountJson,
    get pushes() {
      return state.pushes;
    },
    get tokenGrants() {
      return state.tokenGrants;
    },
    get refusedGrants() {
      return state.refusedGrants;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
