import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { EnvironmentConfigChanges } from '../../features/targeting/targeting-service.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import { ifMatchOf, setEtag, toFlagEnvironmentBody } from './targeting.mappers.js';
import { FlagEnvironmentParams, FlagEnvironmentSchema, IfMatchHeaders, UpdateFlagEnvironmentBody, withEtagHeader } from './targeting.schemas.js';

const tags = ['targeting'];
const path = '/api/v1/projects/:project_id/flags/:flag_key/environments/:environment';

/**
 * `/api/v1/projects/{project_id}/flags/{flag_key}/environments/{environment}`: how one environment
 * serves a flag (enabled, off variation, default serve, individual targets, prerequisites, and
 * its ordered rules), with one-call enable and disable.
 */
export const flagEnvironmentRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { targeting } = app.services;

  app.get(path, {
    schema: {
      operationId: 'getFlagEnvironment',
      tags,
      summary: "A flag's configuration in one environment, rules in priority order; ETag is its version (0 until first written: disabled, nothing configured)",
      security: bearer,
      params: FlagEnvironmentParams,
      response: { 200: withEtagHeader(FlagEnvironmentSchema), ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const { project_id, flag_key, environment } = request.params;
    const config = await targeting.getEnvironmentConfig(requireActor(request), project_id, flag_key, environment);
    setEtag(reply, config.version);
    return toFlagEnvironmentBody(config);
  });

  const update = (method: 'PUT' | 'PATCH') =>
    app.route({
      method,
      url: path,
      schema: {
        operationId: method === 'PUT' ? 'updateFlagEnvironment' : 'patchFlagEnvironment',
        tags,
        summary:
          "Change a flag's enabled, offVariation, defaultServe, targets and prerequisites in one environment (absent = unchanged, null = cleared). The engine validates the result: 422 names each offending field; If-Match → 412 when stale",
        security: bearer,
        params: FlagEnvironmentParams,
        headers: IfMatchHeaders,
        body: UpdateFlagEnvironmentBody,
        response: { 200: withEtagHeader(FlagEnvironmentSchema), ...problems(400, 401, 403, 404, 412, 422) },
      },
      handler: async (request, reply) => {
        const { project_id, flag_key, environment } = request.params;
        const config = await targeting.updateEnvironmentConfig(
          requireActor(request),
          project_id,
          flag_key,
          environment,
          request.body as EnvironmentConfigChanges,
          ifMatchOf(request.headers),
        );
        setEtag(reply, config.version);
        return toFlagEnvironmentBody(config);
      },
    });
  update('PUT');
  update('PATCH');

  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    app.post(`${path}/${action}`, {
      schema: {
        operationId: enabled ? 'enableFlagInEnvironment' : 'disableFlagInEnvironment',
        tags,
        summary: `${enabled ? 'Turn the flag on' : 'Turn the flag off'} in one environment (nothing changes when it already is); answers the configuration`,
        security: bearer,
        params: FlagEnvironmentParams,
        headers: IfMatchHeaders,
        response: { 200: withEtagHeader(FlagEnvironmentSchema), ...problems(400, 401, 403, 404, 412, 422) },
      },
    }, async (request, reply) => {
      const { project_id, flag_key, environment } = request.params;
      const config = await targeting.setEnabled(requireActor(request), project_id, flag_key, environment, enabled, ifMatchOf(request.headers));
      setEtag(reply, config.version);
      return toFlagEnvironmentBody(config);
    });
  }
};
