import { importPKCS8, SignJWT } from 'jose';
import type { FcmConfig } from '../../config.js';

/** What a push carries. FCM `data` values are strings. */
export interface PushMessage {
  title: string;
  body: string | null;
  data: Record<string, string>;
}

/** The outcome of one push to one device. */
export interface PushOutcome {
  status: 'delivered' | 'failed' | 'undelivered';
  providerMessageId?: string | null;
  error?: string | null;
  /** The provider says the token is no longer valid: forget it. */
  invalidToken?: boolean;
}

/** Sends pushes to device tokens. */
export interface PushSender {
  /** Recorded with every delivery: `fcm`, or `none`. */
  readonly provider: string;
  send(deviceToken: string, message: PushMessage): Promise<PushOutcome>;
}

/** No push provider configured: every push is recorded as undelivered. */
export class UndeliveredPushSender implements PushSender {
  readonly provider = 'none';
  async send(): Promise<PushOutcome> {
    return { status: 'undelivered', error: 'no push provider is configured (FCM_SERVICE_ACCOUNT_JSON)' };
  }
}

const fcmScope = 'https://www.googleapis.com/auth/firebase.messaging';
const requestTimeoutMs = 10_000;

/**
 * Firebase Cloud Messaging, HTTP v1 API: `POST {base}/v1/projects/{project}/messages:send` with an
 * OAuth2 bearer obtained from the service account (a signed JWT exchanged at its `token_uri`,
 * RFC 7523), cached until shortly before it expires and renewed once on a 401.
 */
export class FcmPushSender implements PushSender {
  readonly provider = 'fcm';
  private cached: { token: string; expiresAt: number } | null = null;
  private key: Awaited<ReturnType<typeof importPKCS8>> | null = null;

  constructor(
    private readonly config: FcmConfig,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async send(deviceToken: string, message: PushMessage): Promise<PushOutcome> {
    try {
      let res = await this.post(deviceToken, message, await this.accessToken());
      if (res.status === 401) {
        this.cached = null;
        res = await this.post(deviceToken, message, await this.accessToken());
      }
      const text = await res.text();
      if (res.ok) {
        const name = (JSON.parse(text) as { name?: unknown }).name;
        return { status: 'delivered', providerMessageId: typeof name === 'string' ? name : null };
      }
      const error = fcmError(text);
      const invalidToken = res.status === 404 || error === 'UNREGISTERED' || (res.status === 400 && error === 'INVALID_ARGUMENT');
      return { status: 'failed', error: `FCM answered ${res.status}${error ? ` ${error}` : ''}`, invalidToken };
    } catch (err) {
      return { status: 'failed', error: `FCM not reached: ${(err as Error).message}`.slice(0, 500) };
    }
  }

  private post(deviceToken: string, message: PushMessage, bearer: string): Promise<Response> {
    const url = `${this.config.apiBaseUrl}/v1/projects/${encodeURIComponent(this.config.projectId)}/messages:send`;
    const notification: Record<string, string> = { title: message.title };
    if (message.body !== null) notification.body = message.body;
    return this.fetchImpl(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: { token: deviceToken, notification, data: message.data } }),
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
  }

  private async accessToken(): Promise<string> {
    if (this.cached && this.cached.expiresAt > Date.now() + 60_000) return this.cached.token;
    this.key ??= await importPKCS8(this.config.privateKey, 'RS256');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ scope: fcmScope })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(this.config.clientEmail)
      .setSubject(this.config.clientEmail)
      .setAudience(this.config.tokenUri)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(this.key);
    const res = await this.fetchImpl(this.config.tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown };
    if (!res.ok || typeof body.access_token !== 'string') {
      throw new Error(`the token endpoint answered ${res.status}${typeof body.error === 'string' ? ` ${body.error}` : ''}`);
    }
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    this.cached = { token: body.access_token, expiresAt: Date.now() + expiresIn * 1000 };
    return body.access_token;
  }
}

/** FCM's error status (`UNREGISTERED`, `INVALID_ARGUMENT`, …) from its error body. */
function fcmError(text: string): string | null {
  try {
    const body = JSON.parse(text) as { error?: { status?: unknown; details?: Array<{ errorCode?: unknown }> } };
    const code = body.error?.details?.find((d) => typeof d.errorCode === 'string')?.errorCode;
    if (typeof code === 'string') return code;
    return typeof body.error?.status === 'string' ? body.error.status : null;
  } catch {
    return null;
  }
}
