import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { parseId } from '../http/v1/ids.js';

/** A signed-up user as tests need it: tokens, ids (numeric) and the credentials used. */
export interface SignedUpUser {
  accessToken: string;
  refreshToken: string;
  userId: number;
  /** The organisation sign-up created, whose admin the user is. */
  organizationId: number;
  email: string;
  password: string;
}

/** What `signUp` sends; anything left out gets a unique default. */
export interface SignUpOverrides {
  email?: string;
  password?: string;
  name?: string;
  organizationName?: string;
}

/**
 * Signs a new user up through `POST /api/v1/auth/signup`, exactly as a client would, and
 * returns the tokens and ids. Throws with the response body when sign-up does not answer 201.
 */
export async function signUp(app: FastifyInstance, overrides: SignUpOverrides = {}): Promise<SignedUpUser> {
  const suffix = randomBytes(6).toString('hex');
  const email = overrides.email ?? `user-${suffix}@example.test`;
  const password = overrides.password ?? `pw-${suffix}-secret`;
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/signup',
    payload: {
      email,
      password,
      name: overrides.name ?? `User ${suffix}`,
      ...(overrides.organizationName !== undefined ? { organizationName: overrides.organizationName } : {}),
    },
  });
  if (res.statusCode !== 201) throw new Error(`signUp failed: ${res.statusCode} ${res.body}`);
  const data = res.json().data as { user: { uid: string }; active_tenant_id: string; accessToken: string; refreshToken: string };
  const userId = parseId('user', data.user.uid);
  const organizationId = parseId('organization', data.active_tenant_id);
  if (userId === null || organizationId === null) throw new Error(`signUp: unexpected ids in ${res.body}`);
  return { accessToken: data.accessToken, refreshToken: data.refreshToken, userId, organizationId, email: email.trim().toLowerCase(), password };
}

/** Headers for an authenticated request; `tenantId` (numeric or `tenant_…`) becomes `X-Tenant-ID`. */
export function authHeader(token: string, tenantId?: number | string): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (tenantId !== undefined) headers['x-tenant-id'] = String(tenantId);
  return headers;
}
