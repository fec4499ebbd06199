import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { UnauthorizedError } from '../../domain/errors.js';
import { problems } from './access.schemas.js';
import { EvaluateBody, EvaluateResponse } from './evaluate.schemas.js';

const tags = ['evaluate'];

/** The evaluate endpoint's path (the app gives its requests a shared logger). */
export const evaluatePath = '/api/v1/evaluate';
const apiKey = [{ apiKeyAuth: [] }];

/**
 * `POST /api/v1/evaluate` with `X-API-Key` (server or sdk scope): evaluates from memory only.
 * The key is checked before the body is validated, so a caller without one learns nothing from a 422.
 */
export const evaluateRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { evaluation } = app.services;

  app.post(evaluatePath, {
    // The hot path: no per-request access log lines (two redacted pino lines cost more than the
    // evaluation); warnings and errors are still logged, and /metrics counts every request.
    logLevel: 'warn',
    // Every body this route sends is built field by field by the service or the problem renderer,
    // so the schemas only document it; the union's schema-driven serialiser would validate each
    // response against both branches first.
    serializerCompiler: () => (data) => JSON.stringify(data),
    schema: {
      operationId: 'evaluate',
      tags,
      summary: "Evaluate one flag (`flagKey`) or several (`flagKeys`, all when absent) in the key's environment",
      description:
        'A single unknown (or archived) flag is 404 `flag_not_found`; in a bulk request it is a result with `errorCode: FLAG_NOT_FOUND`. ' +
        'Keys of scope `stream` get 403 `api_key_scope`; a missing, unknown, revoked or expired key 401.',
      security: apiKey,
      body: EvaluateBody,
      response: { 200: EvaluateResponse, ...problems(401, 403, 404, 422) },
    },
    preValidation: (request, _reply, done) => {
      try {
        const failure = request.authFailure;
        // A key that was presented but refused says why (unknown, revoked, expired).
        if (request.actor === null && failure !== null) throw new UnauthorizedError(failure.message, failure.code);
        evaluation.target(request.actor, 'evaluate');
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    // Synchronous: evaluation reads only memory, so no promise per request.
  }, (request) => {
    const b = request.body;
    return evaluation.evaluateRequest(request.actor, { flagKey: b.flagKey, flagKeys: b.flagKeys, context: b.context });
  });
};
