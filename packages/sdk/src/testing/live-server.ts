/**
 * A real Switchyard server for SDK tests: the app `packages/server` builds, over a fresh database,
 * listening on an ephemeral port, with a signed-up administrator to configure it through the v1 API.
 */
import type { AddressInfo } from 'node:net';
import { authHeader, signUp, type SignedUpUser } from '../../../server/src/testing/auth.js';
import { createApiKey } from '../../../server/src/testing/evaluation-fixtures.js';
import { createTestApp, type TestApp } from '../../../server/src/testing/test-app.js';
import type { Dialect } from '../../../server/src/db/connect.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** A listening server and an administrator's handle on it. */
export interface LiveServer {
  readonly t: TestApp;
  readonly baseUrl: string;
  readonly admin: SignedUpUser;
  /** A v1 request as the administrator; throws on a status of 300 or more. */
  api(method: Method, url: string, payload?: unknown): Promise<{ statusCode: number; json<T = Record<string, unknown>>(): T }>;
  /** A new API key of the project and environment. */
  key(project: string, environment: string, scope?: 'server' | 'sdk' | 'stream'): Promise<string>;
  /** A new API key with its id (for revocation). */
  keyWithId(project: string, environment: string, scope?: 'server' | 'sdk' | 'stream'): Promise<{ id: string; key: string }>;
  /** Stops listening and closes the app (open streams are ended with a retry hint). */
  stop(): Promise<void>;
  /** Closes the app and its database (idempotent). */
  close(): Promise<void>;
}

/**
 * Starts the server.
 * @param dialect - the database
 * @param env - configuration overrides
 */
export async function startLiveServer(dialect: Dialect = 'sqlite', env: Record<string, string> = {}): Promise<LiveServer> {
  const t = await createTestApp(dialect, env);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  const admin = await signUp(t.app);
  let stopped = false;
  let closed = false;
  return {
    t,
    baseUrl: `http://127.0.0.1:${port}`,
    admin,
    async api(method, url, payload) {
      const res = await t.app.inject({
        method,
        url,
        headers: authHeader(admin.accessToken),
        ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
      });
      if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
      return { statusCode: res.statusCode, json: <T,>() => res.json() as T };
    },
    async key(project, environment, scope = 'sdk') {
      return (await createApiKey(t.app, admin.accessToken, project, { environment, scope })).key;
    },
    async keyWithId(project, environment, scope = 'sdk') {
      const { id, key } = await createApiKey(t.app, admin.accessToken, project, { environment, scope });
      return { id, key };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await t.app.close();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!stopped) await t.app.close();
      stopped = true;
      await t.database.destroy();
    },
  };
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the time it took. */
export async function waitFor(check: () => boolean, timeoutMs: number, what = 'condition'): Promise<number> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - start;
}
