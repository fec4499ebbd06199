import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { ValidationError } from '../../domain/errors.js';
import type { FlagEvaluation } from '../../evaluation/evaluation-service.js';
import type { FlagPatch, FlagRef, FlagView, NewFlag } from '../../features/flags/flag-service.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, PageQuerySchema, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import { expectedVersionOf, flagEtag, toFlagBody, toFlagHistoryBody, toVariationBody } from './catalog.mappers.js';
import {
  CreateFlagBody,
  CreateVariationBody,
  FlagHistorySchema,
  FlagListQuery,
  FlagListSchema,
  FlagSchema,
  UpdateFlagBody,
  UpdateVariationBody,
  VariationListSchema,
  VariationSchema,
} from './catalog.schemas.js';
import { pageFromQuery, totalCountHeader } from './paging.js';
import { requireTenantHeader } from './tenant-context.js';
import {
  CreateTenantFlagBody,
  EvaluateFlagBody,
  EvaluateFlagResponse,
  NoContentSchema,
  ProjectFlagParams,
  ProjectFlagsParams,
  SuccessSchema,
  TenantFlagHeaders,
  TenantFlagParams,
  TenantVariationParams,
} from './tenant-flags.schemas.js';

const tenantTags = ['tenant flags'];
const projectTags = ['tenant flags', 'project flags'];
const etagHeader = { ETag: { type: 'string', description: 'The flag version; send it back in If-Match' } } as const;

const base = '/api/v1/flags';
const projectBase = '/api/v1/flags/projects/:projectId/flags';

type Headers = Static<typeof TenantFlagHeaders>;

function withEtag(reply: FastifyReply, view: FlagView) {
  reply.header('ETag', flagEtag(view.flag.version));
  return toFlagBody(view);
}

/** `X-Environment` (or `?environment=`), as the flag service reads it. */
function readOptions(headers: Headers, query: { environment?: string } = {}): { environment?: string } {
  const env = query.environment ?? headers['x-environment'];
  return env === undefined ? {} : { environment: env };
}

function writeOptions(headers: Headers) {
  const expectedVersion = expectedVersionOf(headers['if-match']);
  return { ...readOptions(headers), ...(expectedVersion !== undefined ? { expectedVersion } : {}) };
}

/** IntelliToggle's create body → the flag service's (`flag_variations` is its name for `variations`). */
function newFlagOf(b: Static<typeof CreateFlagBody>): NewFlag {
  if (b.variations !== undefined && b.flag_variations !== undefined) {
    throw new ValidationError('Give variations or flag_variations, not both', { flag_variations: 'give variations or flag_variations, not both' });
  }
  const variations = b.variations ?? b.flag_variations;
  return {
    key: b.key,
    type: b.type,
    ...(b.name !== undefined ? { name: b.name } : {}),
    ...('defaultValue' in b ? { defaultValue: b.defaultValue } : {}),
    ...(b.defaultVariation !== undefined ? { defaultVariation: b.defaultVariation } : {}),
    ...(b.description !== undefined ? { description: b.description } : {}),
    ...(b.tags !== undefined ? { tags: b.tags } : {}),
    ...(variations !== undefined ? { variations } : {}),
    ...(b.status !== undefined ? { status: b.status } : {}),
    ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
  };
}

function patchOf(b: Static<typeof UpdateFlagBody>): FlagPatch {
  return {
    ...(b.name !== undefined ? { name: b.name } : {}),
    ...(b.description !== undefined ? { description: b.description } : {}),
    ...('defaultValue' in b ? { defaultValue: b.defaultValue } : {}),
    ...(b.defaultVariation !== undefined ? { defaultVariation: b.defaultVariation } : {}),
    ...(b.tags !== undefined ? { tags: b.tags } : {}),
    ...(b.status !== undefined ? { status: b.status } : {}),
    ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
  };
}

const reasons = new Set(['RULE_MATCH', 'TARGET_MATCH', 'FALLTHROUGH', 'OFF', 'PREREQUISITE_FAILED', 'ERROR']);

/** The engine's `kind` is IntelliToggle's reason; anything else would be an engine change, shown as ERROR. */
function toEvaluateBody(e: FlagEvaluation, environment: string) {
  return {
    enabled: e.enabled,
    value: e.value,
    reason: (reasons.has(e.kind) ? e.kind : 'ERROR') as 'RULE_MATCH' | 'TARGET_MATCH' | 'FALLTHROUGH' | 'OFF' | 'PREREQUISITE_FAILED' | 'ERROR',
    flagKey: e.flagKey,
    variation: e.variation,
    environment,
    ...(e.ruleId !== undefined ? { ruleId: e.ruleId } : {}),
    ...(e.errorCode !== undefined ? { errorCode: e.errorCode, errorMessage: e.errorMessage ?? '' } : {}),
  };
}

/**
 * IntelliToggle's flag routes: `/api/v1/flags…` by key in the tenant (`X-Tenant-ID` required) and
 * `/api/v1/flags/projects/{projectId}/flags…` in a named project (`X-Tenant-ID` optional, checked
 * when given). Creates answer 201, deletes 204, enable/disable `{success: true}`.
 */
export const tenantFlagRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const projectUrls = [projectBase, `${projectBase}/:flagKey`, `${projectBase}/:flagKey/enable`, `${projectBase}/:flagKey/disable`];
  requireTenantHeader(app, { optional: projectUrls });
  const { flags, targeting, auditQuery, organizationEvaluation } = app.services;
  const byKey = (flagKey: string): FlagRef => ({ organizationFlagKey: flagKey });

  app.get(base, {
    schema: {
      operationId: 'listTenantFlags',
      tags: tenantTags,
      summary: "Flags of every project of the tenant you can read, oldest first; `enabled` is each flag's state in X-Environment (default production); total in X-Total-Count",
      security: bearer,
      headers: TenantFlagHeaders,
      querystring: FlagListQuery,
      response: { 200: FlagListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const q = request.query;
    const page = await flags.listInOrganization(requireActor(request), {
      ...pageFromQuery(q),
      ...readOptions(request.headers, q),
      ...(q.tag !== undefined ? { tag: q.tag } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.search !== undefined ? { search: q.search } : {}),
    });
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toFlagBody);
  });

  app.post(base, {
    schema: {
      operationId: 'createTenantFlag',
      tags: tenantTags,
      summary: "Create a flag in `projectId`, or in the tenant's default project; 409 flag_key_taken when that project has the key",
      security: bearer,
      headers: TenantFlagHeaders,
      body: CreateTenantFlagBody,
      response: { 201: { ...FlagSchema, headers: etagHeader }, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const { projectId, ...rest } = request.body;
    const view = await flags.createInOrganization(requireActor(request), newFlagOf(rest), { ...readOptions(request.headers), ...(projectId !== undefined ? { projectRef: projectId } : {}) });
    reply.code(201);
    return withEtag(reply, view);
  });

  app.get(`${base}/:flagKey`, {
    schema: {
      operationId: 'getTenantFlag',
      tags: tenantTags,
      summary: 'One flag by key; 409 flag_key_ambiguous (naming the projects) when several of your projects have the key',
      security: bearer,
      headers: TenantFlagHeaders,
      params: TenantFlagParams,
      response: { 200: { ...FlagSchema, headers: etagHeader }, ...problems(401, 403, 404, 409) },
    },
  }, async (request, reply) => withEtag(reply, await flags.get(requireActor(request), byKey(request.params.flagKey), readOptions(request.headers))));

  app.patch(`${base}/:flagKey`, {
    schema: {
      operationId: 'updateTenantFlag',
      tags: tenantTags,
      summary: 'Change name, description, defaultValue, tags, status, metadata (absent = unchanged, null = cleared); If-Match → 412 when stale',
      security: bearer,
      headers: TenantFlagHeaders,
      params: TenantFlagParams,
      body: UpdateFlagBody,
      response: { 200: { ...FlagSchema, headers: etagHeader }, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => withEtag(reply, await flags.update(requireActor(request), byKey(request.params.flagKey), patchOf(request.body), writeOptions(request.headers))));

  app.delete(`${base}/:flagKey`, {
    schema: {
      operationId: 'deleteTenantFlag',
      tags: tenantTags,
      summary: 'Delete a flag with its variations and configuration (204); 409 flag_in_use while another flag has it as a prerequisite',
      security: bearer,
      headers: TenantFlagHeaders,
      params: TenantFlagParams,
      response: { 204: NoContentSchema, ...problems(401, 403, 404, 409, 412) },
    },
  }, async (request, reply) => {
    const expectedVersion = expectedVersionOf(request.headers['if-match']);
    await flags.delete(requireActor(request), byKey(request.params.flagKey), expectedVersion !== undefined ? { expectedVersion } : {});
    return reply.code(204).send(null);
  });

  for (const [verb, enabled] of [['enable', true], ['disable', false]] as const) {
    app.post(`${base}/:flagKey/${verb}`, {
      schema: {
        operationId: `${verb}TenantFlag`,
        tags: tenantTags,
        summary: `${verb === 'enable' ? 'Switch the flag on' : 'Switch the flag off'} in X-Environment (default production)`,
        security: bearer,
        headers: TenantFlagHeaders,
        params: TenantFlagParams,
        response: { 200: SuccessSchema, ...problems(401, 403, 404, 409) },
      },
    }, async (request) => {
      const actor = requireActor(request);
      // The tenant-level key names a project's flag; the switch itself is the targeting service's.
      const { project, flag } = await flags.requireFlag(actor, byKey(request.params.flagKey), 'flags:read');
      await targeting.setEnabled(actor, project.id, flag.key, request.headers['x-environment'] ?? 'production', enabled);
      return { success: true };
    });
  }

  app.post(`${base}/:flagKey/evaluate`, {
    schema: {
      operationId: 'evaluateTenantFlag',
      tags: ['evaluate', ...tenantTags],
      summary: 'Evaluate a flag for a context in memory (user token, or an OAuth token with flags:evaluate): {enabled, value, reason}',
      description: 'reason is the engine step that decided: RULE_MATCH, TARGET_MATCH, FALLTHROUGH, OFF, PREREQUISITE_FAILED or ERROR. An unknown or archived flag is 404 flag_not_found.',
      security: bearer,
      headers: TenantFlagHeaders,
      params: TenantFlagParams,
      body: EvaluateFlagBody,
      response: { 200: EvaluateFlagResponse, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request) => {
    const b = request.body;
    const header = request.headers['x-environment'];
    if (b.environment !== undefined && header !== undefined && b.environment !== header) {
      throw new ValidationError('environment and X-Environment name different environments', { environment: 'must match X-Environment' });
    }
    const environment = b.environment ?? header ?? 'production';
    const context: Record<string, unknown> = { ...(b.attributes ?? {}), ...(b.targetingKey !== undefined ? { targetingKey: b.targetingKey } : {}) };
    const result = await organizationEvaluation.evaluate(requireActor(request), { flagKey: request.params.flagKey, environment, context });
    return toEvaluateBody(result, environment);
  });

  app.get(`${base}/:flagKey/history`, {
    schema: {
      operationId: 'getTenantFlagHistory',
      tags: tenantTags,
      summary: "The flag's change history, newest first: [{id, action, changes, userId, userName, timestamp}]; total in X-Total-Count",
      security: bearer,
      headers: TenantFlagHeaders,
      params: TenantFlagParams,
      querystring: PageQuerySchema,
      response: { 200: FlagHistorySchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    const page = await auditQuery.flagHistory(requireActor(request), byKey(request.params.flagKey), pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toFlagHistoryBody);
  });

  app.get(`${base}/:flagKey/variations`, {
    schema: {
      operationId: 'listTenantFlagVariations',
      tags: tenantTags,
      summary: "The flag's variations in order: [{id, name, value, description, weight}]; total in X-Total-Count",
      security: bearer,
      headers: TenantFlagHeaders,
      params: TenantFlagParams,
      querystring: PageQuerySchema,
      response: { 200: VariationListSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    const page = await flags.listVariations(requireActor(request), byKey(request.params.flagKey), pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toVariationBody);
  });

  app.post(`${base}/:flagKey/variations`, {
    schema: {
      operationId: 'addTenantFlagVariation',
      tags: tenantTags,
      summary: "Add a variation (value of the flag's type); 201; ETag is the flag's new version",
      security: bearer,
      headers: TenantFlagHeaders,
      params: TenantFlagParams,
      body: CreateVariationBody,
      response: { 201: { ...VariationSchema, headers: etagHeader }, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const result = await flags.addVariation(
      requireActor(request),
      byKey(request.params.flagKey),
      {
        value: b.value,
        ...(b.key !== undefined ? { key: b.key } : {}),
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.weight !== undefined ? { weight: b.weight } : {}),
      },
      writeOptions(request.headers),
    );
    reply.code(201).header('ETag', flagEtag(result.flag.flag.version));
    return toVariationBody(result.variation);
  });

  app.patch(`${base}/:flagKey/variations/:variationId`, {
    schema: {
      operationId: 'updateTenantFlagVariation',
      tags: tenantTags,
      summary: 'Change name, value, description or weight of a variation (var_…); absent = unchanged, null = cleared',
      security: bearer,
      headers: TenantFlagHeaders,
      params: TenantVariationParams,
      body: UpdateVariationBody,
      response: { 200: { ...VariationSchema, headers: etagHeader }, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const result = await flags.updateVariation(
      requireActor(request),
      byKey(request.params.flagKey),
      request.params.variationId,
      {
        ...('value' in b ? { value: b.value } : {}),
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.weight !== undefined ? { weight: b.weight } : {}),
      },
      writeOptions(request.headers),
    );
    reply.header('ETag', flagEtag(result.flag.flag.version));
    return toVariationBody(result.variation);
  });

  app.delete(`${base}/:flagKey/variations/:variationId`, {
    schema: {
      operationId: 'deleteTenantFlagVariation',
      tags: tenantTags,
      summary: 'Delete a variation (204); 409 variation_in_use naming each use, last_variation for the last one',
      security: bearer,
      headers: TenantFlagHeaders,
      params: TenantVariationParams,
      response: { 204: NoContentSchema, ...problems(401, 403, 404, 409, 412) },
    },
  }, async (request, reply) => {
    await flags.deleteVariation(requireActor(request), byKey(request.params.flagKey), request.params.variationId, writeOptions(request.headers));
    return reply.code(204).send(null);
  });

  // Project flags.

  app.get(projectBase, {
    schema: {
      operationId: 'listProjectFlagsOfTenant',
      tags: projectTags,
      summary: 'Flags of the project, oldest first, filtered by tag, status and search; total in X-Total-Count',
      security: bearer,
      headers: TenantFlagHeaders,
      params: ProjectFlagsParams,
      querystring: FlagListQuery,
      response: { 200: FlagListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const q = request.query;
    const page = await flags.list(requireActor(request), request.params.projectId, {
      ...pageFromQuery(q),
      ...readOptions(request.headers, q),
      ...(q.tag !== undefined ? { tag: q.tag } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.search !== undefined ? { search: q.search } : {}),
    });
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toFlagBody);
  });

  app.post(projectBase, {
    schema: {
      operationId: 'createProjectFlagOfTenant',
      tags: projectTags,
      summary: 'Create a flag in the project (`flag_variations` = variations); 201; 409 flag_key_taken',
      security: bearer,
      headers: TenantFlagHeaders,
      params: ProjectFlagsParams,
      body: CreateFlagBody,
      response: { 201: { ...FlagSchema, headers: etagHeader }, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const view = await flags.create(requireActor(request), request.params.projectId, newFlagOf(request.body), readOptions(request.headers));
    reply.code(201);
    return withEtag(reply, view);
  });

  app.get(`${projectBase}/:flagKey`, {
    schema: {
      operationId: 'getProjectFlagOfTenant',
      tags: projectTags,
      summary: 'One flag of the project',
      security: bearer,
      headers: TenantFlagHeaders,
      params: ProjectFlagParams,
      response: { 200: { ...FlagSchema, headers: etagHeader }, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const p = request.params;
    return withEtag(reply, await flags.get(requireActor(request), { projectRef: p.projectId, flagKey: p.flagKey }, readOptions(request.headers)));
  });

  app.patch(`${projectBase}/:flagKey`, {
    schema: {
      operationId: 'updateProjectFlagOfTenant',
      tags: projectTags,
      summary: '`status` active | inactive | archived (archived archives, active/inactive restores), name, description, …; If-Match → 412 when stale',
      security: bearer,
      headers: TenantFlagHeaders,
      params: ProjectFlagParams,
      body: UpdateFlagBody,
      response: { 200: { ...FlagSchema, headers: etagHeader }, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => {
    const p = request.params;
    return withEtag(reply, await flags.update(requireActor(request), { projectRef: p.projectId, flagKey: p.flagKey }, patchOf(request.body), writeOptions(request.headers)));
  });

  app.delete(`${projectBase}/:flagKey`, {
    schema: {
      operationId: 'deleteProjectFlagOfTenant',
      tags: projectTags,
      summary: 'Delete the flag (204); 409 flag_in_use while another flag has it as a prerequisite',
      security: bearer,
      headers: TenantFlagHeaders,
      params: ProjectFlagParams,
      response: { 204: NoContentSchema, ...problems(401, 403, 404, 409, 412) },
    },
  }, async (request, reply) => {
    const p = request.params;
    const expectedVersion = expectedVersionOf(request.headers['if-match']);
    await flags.delete(requireActor(request), { projectRef: p.projectId, flagKey: p.flagKey }, expectedVersion !== undefined ? { expectedVersion } : {});
    return reply.code(204).send(null);
  });

  for (const [verb, enabled] of [['enable', true], ['disable', false]] as const) {
    app.post(`${projectBase}/:flagKey/${verb}`, {
      schema: {
        operationId: `${verb}ProjectFlagOfTenant`,
        tags: projectTags,
        summary: `${verb === 'enable' ? 'Switch the flag on' : 'Switch the flag off'} in X-Environment (default production)`,
        security: bearer,
        headers: TenantFlagHeaders,
        params: ProjectFlagParams,
        response: { 200: SuccessSchema, ...problems(401, 403, 404) },
      },
    }, async (request) => {
      const p = request.params;
      await targeting.setEnabled(requireActor(request), p.projectId, p.flagKey, request.headers['x-environment'] ?? 'production', enabled);
      return { success: true };
    });
  }
};
