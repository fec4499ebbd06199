import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import type { EnvironmentSnapshot } from '../../evaluation/snapshot-cache.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { EnvironmentEvaluateBody, EnvironmentEvaluateParams, EnvironmentEvaluateResponse } from './playground.schemas.js';

const path = '/api/v1/projects/:project_id/environments/:environment_key/evaluate';

/** The snapshot each request's access check resolved, for the handler. */
const resolved = new WeakMap<FastifyRequest, EnvironmentSnapshot>();

/**
 * `POST /api/v1/projects/{project_id}/environments/{environment_key}/evaluate`: the dashboard's
 * playground, with the user's own sign-in instead of an API key.
 */
export const playgroundRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { organizationEvaluation } = app.services;

  app.post(path, {
    schema: {
      operationId: 'evaluateEnvironment',
      tags: ['evaluate'],
      summary: 'Evaluate every flag (or flagKeys) of one environment for a context with a bearer token, explaining one flag; not counted in usage',
      description:
        'Needs `flags:evaluate` in the project: the access model (ADR 0003) gives each operation one permission, and evaluation has its own, ' +
        'held by every built-in role and grantable to OAuth clients apart from reading configuration; the explanation names only rule ids and ' +
        'condition indexes, whose definitions stay behind `flags:read`. Reads the in-memory snapshot that /api/v1/evaluate serves, so results ' +
        'are the same as with an API key of that environment; playground runs are not traffic and are not counted. ' +
        'Context deeper than 10 levels, more than 1,000 flagKeys, or bad keys are 422 naming the field; `explain` must name a flag of the ' +
        'environment (and of flagKeys when given), else 422. An unknown project or environment, or another organisation’s project, is 404.',
      security: bearer,
      params: EnvironmentEvaluateParams,
      body: EnvironmentEvaluateBody,
      response: { 200: EnvironmentEvaluateResponse, ...problems(401, 403, 404, 422) },
    },
    // Access before body validation, so a caller without access to the project learns nothing from a 422.
    preValidation: async (request) => {
      const params = request.params as { project_id: string; environment_key: string };
      resolved.set(request, await organizationEvaluation.requireEnvironment(requireActor(request), params.project_id, params.environment_key));
    },
  }, (request) => {
    const environment = resolved.get(request)!;
    const b = request.body;
    const results = organizationEvaluation.evaluateIn(environment, { context: b.context, flagKeys: b.flagKeys, explain: b.explain });
    // The engine hands out its steps as readonly arrays; the response only reads them.
    return { environment: environment.environmentKey, results: results as Static<typeof EnvironmentEvaluateResponse>['results'] };
  });
};
