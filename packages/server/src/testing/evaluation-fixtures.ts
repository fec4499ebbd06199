import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { testConfigEnv } from './test-config.js';
import type { Dialect } from '../db/connect.js';
import { QueryCounter } from './query-counter.js';
import { createTestDatabase } from './test-database.js';
import type { TestApp } from './test-app.js';

/** A test app whose every database query passes through `queries`. */
export interface CountingTestApp extends TestApp {
  queries: QueryCounter;
}

/** Like `createTestApp`, with a `QueryCounter` on the database the whole app uses. */
export async function createCountingTestApp(dialect: Dialect, env: Record<string, string> = {}): Promise<CountingTestApp> {
  const database = await createTestDatabase(dialect);
  const queries = new QueryCounter();
  database.handle.db = database.handle.db.withPlugin(queries);
  const config = { ...loadConfig({ LOG_LEVEL: 'silent', ...testConfigEnv, ...env }), database: database.target };
  const app = await buildApp(config, { database: database.handle, logger: false });
  await app.ready();
  return {
    app,
    database,
    config,
    queries,
    close: async () => {
      await app.close();
      await database.destroy();
    },
  };
}

/** Creates an API key through the API and answers its id and secret; throws unless 200. */
export async function createApiKey(
  app: FastifyInstance,
  accessToken: string,
  project: string,
  body: { name?: string; environment: string; scope: 'server' | 'sdk' | 'stream'; expiresAt?: string | null; format?: 'switchyard' | 'togglesmartly' },
): Promise<{ id: string; key: string; prefix: string }> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/projects/${project}/api-keys`,
    headers: { authorization: `Bearer ${accessToken}` },
    payload: { name: body.name ?? `${body.scope} key`, ...body },
  });
  if (res.statusCode !== 200) throw new Error(`createApiKey failed: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; key: string; prefix: string };
}

/** `POST /api/v1/evaluate` with `X-API-Key`. */
export function evaluateWith(app: FastifyInstance, key: string | null, payload: unknown) {
  return app.inject({ method: 'POST', url: '/api/v1/evaluate', headers: key === null ? {} : { 'x-api-key': key }, payload: payload as Record<string, unknown> });
}
