import type { FastifyPluginAsync } from 'fastify';
import { requireUser } from '../plugins/identify.js';
import { accountRoutes } from './account.routes.js';
import { apiKeyRoutes } from './api-keys.routes.js';
import { auditLogRoutes } from './audit-log.routes.js';
import { flagRoutes } from './flags.routes.js';
import { flipswitchErrorHandler, flipswitchNotFoundHandler } from './problem.js';
import { projectRoutes } from './projects.routes.js';
import { ruleRoutes } from './rules.routes.js';
import { segmentRoutes } from './segments.routes.js';

/** Where the Flipswitch admin API lives. */
export const flipswitchPrefix = '/api/admin';

/**
 * The Flipswitch admin API (`/api/admin/...`): one encapsulated plugin with its own auth (a user
 * bearer token on every route, checked before the body is looked at), its own problem+json error
 * handler and its own not-found handling for every path under the prefix. Register it with
 * `{prefix: flipswitchPrefix}`.
 */
export const flipswitchPlugin: FastifyPluginAsync = async (app) => {
  app.setErrorHandler(flipswitchErrorHandler);
  app.setNotFoundHandler(flipswitchNotFoundHandler(app.routeIndex));
  app.addHook('preValidation', async (request) => {
    // Unknown paths answer 404/405 whoever asks; every route needs a signed-in user.
    if (request.routeOptions.url === undefined) return;
    requireUser(request);
  });
  await app.register(accountRoutes);
  await app.register(projectRoutes);
  await app.register(flagRoutes);
  await app.register(ruleRoutes);
  await app.register(segmentRoutes);
  await app.register(apiKeyRoutes);
  await app.register(auditLogRoutes);
};
