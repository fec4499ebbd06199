import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';

/** `GET /health` and `GET /api/v1/version`: who we are and that we are up. */
export const systemRoutes: FastifyPluginAsync = async (app) => {
  const { config } = app.services;

  app.get('/health', {
    schema: {
      operationId: 'getHealth',
      tags: ['system'],
      response: { 200: Type.Object({ status: Type.String(), timestamp: Type.String({ format: 'date-time' }) }) },
    },
  }, async () => ({ status: 'healthy', timestamp: new Date().toISOString() }));

  app.get('/api/v1/version', {
    schema: {
      operationId: 'getVersion',
      tags: ['system'],
      response: {
        200: Type.Object({
          version: Type.String(),
          build_number: Type.String(),
          status: Type.String(),
          timestamp: Type.String({ format: 'date-time' }),
          environment: Type.String(),
        }),
      },
    },
  }, async () => ({
    version: config.version,
    build_number: config.buildNumber,
    status: 'healthy',
    timestamp: new Date().toISOString(),
    environment: config.environment,
  }));
};
