import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import { testConfigEnv } from './test-config.js';
import type { Dialect } from '../db/connect.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** A real app over a fresh database of the given dialect. */
export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  config: Config;
  close(): Promise<void>;
}

/** Builds the app as production does, over its own fresh database; `env` overrides configuration. */
export async function createTestApp(dialect: Dialect, env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase(dialect);
  const config = { ...loadConfig({ LOG_LEVEL: 'silent', ...testConfigEnv, ...env }), database: database.target };
  const app = await buildApp(config, { database: database.handle, logger: false });
  await app.ready();
  return {
    app,
    database,
    config,
    close: async () => {
      await app.close();
      await database.destroy();
    },
  };
}
