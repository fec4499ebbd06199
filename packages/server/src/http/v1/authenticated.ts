import type { FastifyInstance } from 'fastify';
import { requireActor } from '../plugins/identify.js';

/**
 * Refuses requests without an accepted credential (401) before their body is validated, so an
 * anonymous caller learns nothing from a 422. Hook this into an encapsulated route plugin;
 * `except` lists route URLs that also serve anonymous callers.
 */
export function requireAuthentication(app: FastifyInstance, except: readonly string[] = []): void {
  app.addHook('preValidation', async (request) => {
    if (except.includes(request.routeOptions.url ?? '')) return;
    requireActor(request);
  });
}
