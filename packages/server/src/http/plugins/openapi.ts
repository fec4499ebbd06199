import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

/** Where the Swagger UI lives; its own static routes sit under it and are not API operations. */
export const docsPrefix = '/docs';

/**
 * OpenAPI 3.1 generated from every route's schema (collected by `@fastify/swagger`'s `onRoute`
 * hook — so this must be installed before any route), served at `/api/v1/openapi.json`, and the
 * Swagger UI at `/docs`.
 */
export async function installOpenApi(app: FastifyInstance, options: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Switchyard API',
        version: options.version,
        description: 'Switchyard feature-flag platform: the v1 API (IntelliToggle and Togul dialects) and infrastructure endpoints.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKeyAuth: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          // OAuth client authentication at the token endpoint (RFC 6749 §2.3.1).
          basicAuth: { type: 'http', scheme: 'basic' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: docsPrefix });

  app.get('/api/v1/openapi.json', {
    schema: {
      operationId: 'getOpenApiDocument',
      tags: ['system'],
      summary: 'The OpenAPI 3.1 document of this server',
      response: { 200: Type.Object({}, { additionalProperties: true }) },
    },
  }, async () => app.swagger());
}
