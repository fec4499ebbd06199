import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import type { Config } from './config.js';
import { openDatabase, type DatabaseHandle } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { createServices, type Services } from './composition.js';
import { v1ErrorHandler, problem, sendProblem } from './http/v1/problem.js';
import { systemRoutes } from './http/v1/system.routes.js';
import { authRoutes } from './http/v1/auth.routes.js';
import { registerIdentify, sessionTokenIdentifier } from './http/plugins/identify.js';

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

export interface AppOptions {
  /** An already open database (tests pass theirs); otherwise the config's is opened and owned. */
  database?: DatabaseHandle;
  /** Pino logger options; `false` silences it. Defaults to the config's log level. */
  logger?: boolean | Record<string, unknown>;
}

/** Builds the whole server: database (migrated), services and every HTTP surface. Does not listen. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const owned = !options.database;
  const database = options.database ?? openDatabase(config.database);
  await migrateToLatest(database.db);

  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    bodyLimit: 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : `req_${randomUUID().replace(/-/g, '')}`;
    },
    requestIdHeader: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('services', createServices(config, database));
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });
  // Signing keys exist (created on first start) before the first request is served.
  await app.services.tokens.ready();
  // Who is calling: sets request.actor for everything after it (rate limits key on it).
  // Further credential kinds (OIDC ID tokens, OAuth client tokens, API keys) are added to this list.
  registerIdentify(app, [sessionTokenIdentifier(app.services.accounts, app.services.tokens)]);
  if (owned) app.addHook('onClose', async () => database.close());

  app.setErrorHandler(v1ErrorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(request, 404, 'not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );

  await app.register(systemRoutes);
  await app.register(authRoutes);
  return app;
}
