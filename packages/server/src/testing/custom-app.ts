import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { testConfigEnv } from './test-config.js';
import type { Dialect } from '../db/connect.js';
import type { TestApp } from './test-app.js';
import { createTestDatabase } from './test-database.js';

/** What a platform test adds to the real app before it is ready. */
export interface CustomAppOptions {
  /** Configuration overrides. */
  env?: Record<string, string>;
  /** Extra routes or hooks, added after the real ones and before `ready()`. */
  extend?: (app: FastifyInstance) => void | Promise<void>;
  /** Captures the log output (at `LOG_LEVEL`, default `info`). */
  logStream?: DestinationStream;
}

/**
 * Like `createTestApp`, but lets a test add routes (a slow one, one that throws, one with a body
 * schema) to exercise the platform's hooks, error contract and logging on the real app.
 */
export async function createCustomApp(dialect: Dialect, options: CustomAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase(dialect);
  const env = { LOG_LEVEL: options.logStream ? 'info' : 'silent', ...testConfigEnv, ...options.env };
  const config = { ...loadConfig(env), database: database.target };
  const app = await buildApp(config, {
    database: database.handle,
    ...(options.logStream ? { logStream: options.logStream } : { logger: false }),
  });
  await options.extend?.(app);
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
