import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireUser } from '../plugins/identify.js';
import { pathId } from './ids.js';
import { toFlagRulesBody, toRuleSetInput, toWireRuleError } from './mappers.js';
import { problems } from './problem.js';
import { bearer, FlagEnvironmentParams, FlagRulesSchema, PutFlagRulesBody } from './schemas.js';

/** A flag's rules in one environment, read and replaced whole. */
export const ruleRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { targeting } = app.services;
  const url = '/projects/:projectId/flags/:flagId/environments/:envId/rules';

  app.get(url, {
    schema: {
      operationId: 'flipswitchGetFlagRules',
      tags: ['flipswitch-rules'],
      summary: 'enabled, defaultVariant, ordered rules and percentageRollout of the flag in the environment; member',
      security: bearer,
      params: FlagEnvironmentParams,
      response: { 200: FlagRulesSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const p = request.params;
    const config = await targeting.getEnvironmentConfigById(requireUser(request), pathId(p.flagId, 'Flag'), pathId(p.envId, 'Environment'), { projectRef: pathId(p.projectId, 'Project') });
    return toFlagRulesBody(config);
  });

  app.put(url, {
    schema: {
      operationId: 'flipswitchReplaceFlagRules',
      tags: ['flipswitch-rules'],
      summary: 'Replace enabled, defaultVariant, the rules and percentageRollout at once (nothing changes when any part is refused); admin',
      security: bearer,
      params: FlagEnvironmentParams,
      body: PutFlagRulesBody,
      response: { 200: FlagRulesSchema, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request) => {
    const p = request.params;
    const actor = requireUser(request);
    const flagId = pathId(p.flagId, 'Flag');
    const environmentId = pathId(p.envId, 'Environment');
    const { input, order } = toRuleSetInput(request.body);
    try {
      return toFlagRulesBody(await targeting.replaceRuleSet(actor, flagId, environmentId, input, { projectRef: pathId(p.projectId, 'Project') }));
    } catch (err) {
      throw toWireRuleError(err, order);
    }
  });
};
