import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ValidationError } from '../../domain/errors.js';
import type { NewRule, RuleChanges } from '../../features/targeting/targeting-service.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, DeletedSchema, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import { formatId, parseId } from './ids.js';
import { pageFromQuery, totalCountHeader } from './paging.js';
import { ifMatchOf, ruleIdOf, setEtag, toRuleBody } from './targeting.mappers.js';
import { CreateRuleBody, IfMatchHeaders, ProjectParams, ReorderRulesBody, RuleListQuery, RuleListSchema, RuleParams, RuleSchema, UpdateRuleBody, withEtagHeader } from './targeting.schemas.js';

const tags = ['rules'];

/**
 * `/api/v1/projects/{project_id}/rules`: the ordered targeting rules of the project's flags, per
 * environment. Every write is validated by the engine with the change applied (422 naming the
 * field); the ETag of a rule is the version of its flag's configuration in its environment.
 */
export const ruleRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { targeting } = app.services;

  app.get('/api/v1/projects/:project_id/rules', {
    schema: {
      operationId: 'listRules',
      tags,
      summary: 'Rules by flag key, environment and priority (filter by `flag` and `environment`); total in X-Total-Count',
      security: bearer,
      params: ProjectParams,
      querystring: RuleListQuery,
      response: { 200: RuleListSchema, ...problems(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const { flag, environment } = request.query;
    const page = await targeting.listRules(
      requireActor(request),
      request.params.project_id,
      { ...(flag !== undefined ? { flag } : {}), ...(environment !== undefined ? { environment } : {}) },
      pageFromQuery(request.query),
    );
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toRuleBody);
  });

  app.post('/api/v1/projects/:project_id/rules', {
    schema: {
      operationId: 'createRule',
      tags,
      summary: 'Add a rule to a flag in an environment, at `priority` (1-based; default last). 422 names each field the engine refuses (operator, pattern, variation, weights, segment…)',
      security: bearer,
      params: ProjectParams,
      headers: IfMatchHeaders,
      body: CreateRuleBody,
      response: { 200: withEtagHeader(RuleSchema), ...problems(400, 401, 403, 404, 412, 422) },
    },
  }, async (request, reply) => {
    const { flag, ...rest } = request.body;
    const input = { ...rest, flagKey: flag } as NewRule;
    const { rule, version } = await targeting.createRule(requireActor(request), request.params.project_id, input, ifMatchOf(request.headers));
    setEtag(reply, version);
    return toRuleBody(rule);
  });

  app.put('/api/v1/projects/:project_id/rules/order', {
    schema: {
      operationId: 'reorderRules',
      tags,
      summary: "Put a flag's rules in one environment in a new order in one call; `ruleIds` must list every one of them exactly once (422 otherwise)",
      security: bearer,
      params: ProjectParams,
      headers: IfMatchHeaders,
      body: ReorderRulesBody,
      response: { 200: withEtagHeader(RuleListSchema), ...problems(400, 401, 403, 404, 412, 422) },
    },
  }, async (request, reply) => {
    const { flag, environment, ruleIds } = request.body;
    const ids = ruleIds.map((raw) => {
      const id = parseId('rule', raw);
      if (id === null) throw new ValidationError('ruleIds must be rule ids', { ruleIds: `"${raw}" is not a rule id (rule_…)` });
      return id;
    });
    const config = await targeting.reorderRules(requireActor(request), request.params.project_id, { flagKey: flag, environment, ruleIds: ids }, ifMatchOf(request.headers));
    setEtag(reply, config.version);
    return config.rules.map(toRuleBody);
  });

  app.get('/api/v1/projects/:project_id/rules/:rule_id', {
    schema: {
      operationId: 'getRule',
      tags,
      summary: 'One rule; ETag is the version of its flag in its environment',
      security: bearer,
      params: RuleParams,
      response: { 200: withEtagHeader(RuleSchema), ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const { rule, version } = await targeting.getRule(requireActor(request), request.params.project_id, ruleIdOf(request.params.rule_id));
    setEtag(reply, version);
    return toRuleBody(rule);
  });

  app.patch('/api/v1/projects/:project_id/rules/:rule_id', {
    schema: {
      operationId: 'updateRule',
      tags,
      summary: 'Change a rule (absent = unchanged; description null clears); `priority` moves it. 422 names each field the engine refuses; If-Match → 412 when stale',
      security: bearer,
      params: RuleParams,
      headers: IfMatchHeaders,
      body: UpdateRuleBody,
      response: { 200: withEtagHeader(RuleSchema), ...problems(400, 401, 403, 404, 412, 422) },
    },
  }, async (request, reply) => {
    const { rule, version } = await targeting.updateRule(
      requireActor(request),
      request.params.project_id,
      ruleIdOf(request.params.rule_id),
      request.body as RuleChanges,
      ifMatchOf(request.headers),
    );
    setEtag(reply, version);
    return toRuleBody(rule);
  });

  app.delete('/api/v1/projects/:project_id/rules/:rule_id', {
    schema: {
      operationId: 'deleteRule',
      tags,
      summary: 'Delete a rule; the rules after it move up',
      security: bearer,
      params: RuleParams,
      headers: IfMatchHeaders,
      response: { 200: DeletedSchema, ...problems(400, 401, 403, 404, 412) },
    },
  }, async (request) => {
    const id = ruleIdOf(request.params.rule_id);
    await targeting.deleteRule(requireActor(request), request.params.project_id, id, ifMatchOf(request.headers));
    return { success: true, id: formatId('rule', id) };
  });
};
