import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from '@switchyard/contracts';

/** The JSON body of an operation's 200/201 answer. */
export type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: { content: { 'application/json': infer B } } } ? B
  : R extends { 201: { content: { 'application/json': infer B } } } ? B : never
  : never;

export type Project = Ok<'/api/v1/projects/{project_id}', 'get'>;
export type Environment = Ok<'/api/v1/projects/{project_id}/environments/{environment_id}', 'get'>;
export type Flag = Ok<'/api/v1/projects/{project_id}/flags/{flag_key}', 'get'>;
export type FlagEnvironment = Ok<'/api/v1/projects/{project_id}/flags/{flag_key}/environments/{environment}', 'get'>;
export type Rule = FlagEnvironment['rules'][number];
export type SignedIn = Ok<'/api/v1/auth/login', 'post'>;

/** The API's problem+json body: `errors` maps a field to its message. */
export interface Problem { status: number; code?: string; message?: string; detail?: string; errors?: Record<string, string> }

export class ApiError extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(problem.message ?? problem.detail ?? `Request failed (${status})`);
  }
  get fieldErrors(): Record<string, string> { return this.problem.errors ?? {}; }
}

/**
 * Tokens: the server speaks bearer tokens only (no cookies), so the access token lives in memory
 * and the refresh token in sessionStorage — per tab, gone when the tab closes, never sent
 * automatically (no CSRF surface). A reload exchanges the refresh token for new ones.
 */
const refreshKey = 'switchyard.refresh';
let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<() => void>();

export function setSession(s: SignedIn | null): void {
  accessToken = s?.data.accessToken ?? null;
  if (s) sessionStorage.setItem(refreshKey, s.data.refreshToken);
  else sessionStorage.removeItem(refreshKey);
  listeners.forEach((l) => l());
}
export const getAccessToken = () => accessToken;
export const onSessionChange = (l: () => void) => { listeners.add(l); return () => { listeners.delete(l); }; };

/** One refresh at a time: concurrent 401s wait for the same exchange. */
export function refreshSession(): Promise<boolean> {
  const token = sessionStorage.getItem(refreshKey);
  if (!token) return Promise.resolve(false);
  refreshing ??= fetch('/api/v1/auth/refresh-token', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: token }),
  }).then(async (r) => {
    if (!r.ok) { setSession(null); return false; }
    setSession(await r.json() as SignedIn);
    return true;
  }).catch(() => false).finally(() => { refreshing = null; });
  return refreshing;
}

const auth: Middleware = {
  onRequest({ request }) {
    if (accessToken) request.headers.set('Authorization', `Bearer ${accessToken}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: '' });
api.use(auth);

/** Unwraps an openapi-fetch answer; an expired access token is refreshed once and the call retried. */
export async function call<T>(run: () => Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result = await run();
  if (result.response.status === 401 && accessToken && await refreshSession()) result = await run();
  if (result.error !== undefined || !result.response.ok) {
    const problem = (result.error ?? {}) as Problem;
    throw new ApiError(result.response.status, { ...problem, status: result.response.status });
  }
  return result.data as T;
}
