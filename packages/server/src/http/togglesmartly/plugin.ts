import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RateLimitedError } from '../../domain/errors.js';
import type { RateLimiter } from '../../features/rate-limits/rate-limiter.js';
import { toggleSmartlyError, toggleSmartlyErrorHandler, toggleSmartlyMessages } from './errors.js';
import { GetValuesBody, ToggleSmartlyErrorSchema, ValuesResponseSchema } from './values.schemas.js';

/** Where the surface lives: ToggleSmartly's base URL is `…/api`, its one endpoint `/v1/feature-flags/get-values`. */
export const toggleSmartlyPrefix = '/api/v1/feature-flags';

/** The documented limits. */
export interface ToggleSmartlyOptions {
  /** Requests per API key per minute (documented: 100). */
  perKeyPerMinute?: number;
  /** Requests per client IP per minute (documented: 1,000). */
  perIpPerMinute?: number;
}

const tags = ['togglesmartly'];
const errors = Object.fromEntries([400, 401, 404, 405, 429, 500, 503].map((s) => [s, ToggleSmartlyErrorSchema]));

async function count(limiter: RateLimiter, reply: FastifyReply, bucket: string, limit: number): Promise<void> {
  const result = await limiter.hit(bucket, limit, 60);
  reply.header('RateLimit-Limit', String(result.limit));
  reply.header('RateLimit-Remaining', String(result.remaining));
  reply.header('RateLimit-Reset', String(result.resetSeconds));
  if (!result.allowed) throw new RateLimitedError(result.resetSeconds);
}

/**
 * ToggleSmartly's values API as one encapsulated plugin (register it with `prefix:
 * toggleSmartlyPrefix`): the API key travels in the JSON body, and every response — success,
 * validation failure, unknown path, wrong method, rate limit, server error — is
 * `{status, message, data}` with the documented messages. The app-wide `/api/v1` limit skips this
 * prefix; the documented ones apply instead: per client IP before the body is read, per key once
 * the body has named it.
 */
export const toggleSmartlyPlugin: FastifyPluginAsync<ToggleSmartlyOptions> = async (root, options) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { flagValues, rateLimiter } = app.services;
  const perKey = options.perKeyPerMinute ?? 100;
  const perIp = options.perIpPerMinute ?? 1000;
  const routes = app.routeIndex;

  app.setErrorHandler(toggleSmartlyErrorHandler);
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const allowed = routes.allowedMethods(request.url);
    if (allowed.length > 0) {
      reply.header('Allow', allowed.join(', '));
      return reply.status(405).type('application/json; charset=utf-8').send(toggleSmartlyError(405));
    }
    return reply.status(404).type('application/json; charset=utf-8').send(toggleSmartlyError(404));
  });
  // Answers written before this surface's handlers run (the shutdown gate's 503, a limit reached
  // elsewhere) arrive as v1 problems; they leave in this surface's shape all the same.
  app.addHook('onSend', async (_request, reply, payload) => {
    const type = String(reply.getHeader('content-type') ?? '');
    if (!type.startsWith('application/problem+json')) return payload;
    reply.type('application/json; charset=utf-8');
    return JSON.stringify(toggleSmartlyError(toggleSmartlyMessages[reply.statusCode] !== undefined ? reply.statusCode : 500));
  });
  app.addHook('preParsing', async (request, reply) => {
    await count(rateLimiter, reply, `togglesmartly-ip:${request.ip}`, perIp);
  });

  app.post('/get-values', {
    schema: {
      operationId: 'toggleSmartlyGetValues',
      tags,
      summary: "ToggleSmartly: the values of active flags in the API key's environment (api_key in the body)",
      body: GetValuesBody,
      response: { 200: ValuesResponseSchema, ...errors },
    },
    preHandler: async (request, reply) => {
      const identity = flagValues.authenticate(request.body.api_key);
      request.actor = identity.actor;
      await count(rateLimiter, reply, `togglesmartly-key:${identity.keyId}`, perKey);
    },
  }, async (request) => {
    const b = request.body;
    const values = flagValues.values(request.actor, { flagKeys: b.feature_flag_keys, environments: b.env });
    return {
      status: 200 as const,
      message: toggleSmartlyMessages[200]!,
      data: values.map((v) => ({ featureFlagKey: v.flagKey, env: v.environmentKey, value: v.value })),
    };
  });
};
