import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FlagView, NewFlag } from '../../features/flags/flag-service.js';
import type { FlagStatus } from '../../features/flags/flag-store.js';
import { ValidationError } from '../../domain/errors.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, DeletedSchema, PageQuerySchema, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import { expectedVersionOf, flagEtag, toAuditEntryBody, toFlagBody, toFlagHistoryBody, toVariationBody } from './catalog.mappers.js';
import {
  AuditLogQuery,
  AuditLogSchema,
  CreateFlagBody,
  CreateVariationBody,
  EnvironmentQuery,
  FlagHistorySchema,
  FlagListQuery,
  FlagListSchema,
  FlagParams,
  FlagReadHeaders,
  FlagSchema,
  FlagWriteHeaders,
  ProjectParams,
  UpdateFlagBody,
  UpdateVariationBody,
  VariationListSchema,
  VariationParams,
  VariationSchema,
} from './catalog.schemas.js';
import { formatId, parseId } from './ids.js';
import { pageFromQuery, totalCountHeader } from './paging.js';

const etagHeader = { ETag: { type: 'string', description: 'The flag version; send it back in If-Match' } } as const;

function withEtag(reply: FastifyReply, view: FlagView) {
  reply.header('ETag', flagEtag(view.flag.version));
  return toFlagBody(view);
}

/** The environment whose `enabled` a flag read shows: `?environment=`, else `X-Environment`. */
function environmentOf(query: { environment?: string }, headers: { 'x-environment'?: string }): { environment?: string } {
  const env = query.environment ?? headers['x-environment'];
  return env === undefined ? {} : { environment: env };
}

function writeOptions(query: { environment?: string }, headers: { 'x-environment'?: string; 'if-match'?: string }) {
  const expectedVersion = expectedVersionOf(headers['if-match']);
  return { ...environmentOf(query, headers), ...(expectedVersion !== undefined ? { expectedVersion } : {}) };
}

/** `/api/v1/projects/{project_id}/flags`, their variations and history, and the project's audit log. */
export const flagRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { flags, auditQuery } = app.services;
  const tags = ['flags'];

  app.get('/api/v1/projects/:project_id/flags', {
    schema: {
      operationId: 'listFlags',
      tags,
      summary: 'Flags of the project, oldest first, filtered by tag, status and search (key, name, description); total in X-Total-Count',
      security: bearer,
      params: ProjectParams,
      querystring: FlagListQuery,
      headers: FlagReadHeaders,
      response: { 200: FlagListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const q = request.query;
    const page = await flags.list(requireActor(request), request.params.project_id, {
      ...pageFromQuery(q),
      ...environmentOf(q, request.headers),
      ...(q.tag !== undefined ? { tag: q.tag } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.search !== undefined ? { search: q.search } : {}),
    });
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toFlagBody);
  });

  app.post('/api/v1/projects/:project_id/flags', {
    schema: {
      operationId: 'createFlag',
      tags,
      summary: 'Create a flag (boolean flags get on/off variations unless given); 409 flag_key_taken; values of the wrong type are 422 naming the field',
      security: bearer,
      params: ProjectParams,
      querystring: EnvironmentQuery,
      headers: FlagReadHeaders,
      body: CreateFlagBody,
      response: { 200: { ...FlagSchema, headers: etagHeader }, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const b = request.body;
    if (b.variations !== undefined && b.flag_variations !== undefined) {
      throw new ValidationError('Give variations or flag_variations, not both', { flag_variations: 'give variations or flag_variations, not both' });
    }
    const variations = b.variations ?? b.flag_variations;
    const input: NewFlag = {
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
    const view = await flags.create(requireActor(request), request.params.project_id, input, environmentOf(request.query, request.headers));
    return withEtag(reply, view);
  });

  app.get('/api/v1/projects/:project_id/flags/:flag_key', {
    schema: {
      operationId: 'getFlag',
      tags,
      summary: 'One flag with its variations; ETag is its version',
      security: bearer,
      params: FlagParams,
      querystring: EnvironmentQuery,
      headers: FlagReadHeaders,
      response: { 200: { ...FlagSchema, headers: etagHeader }, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const p = request.params;
    return withEtag(reply, await flags.get(requireActor(request), { projectRef: p.project_id, flagKey: p.flag_key }, environmentOf(request.query, request.headers)));
  });

  app.patch('/api/v1/projects/:project_id/flags/:flag_key', {
    schema: {
      operationId: 'updateFlag',
      tags,
      summary: 'Change name, description, defaultValue/defaultVariation, tags, status or metadata (absent = unchanged, null = cleared); If-Match → 412 when stale',
      security: bearer,
      params: FlagParams,
      querystring: EnvironmentQuery,
      headers: FlagWriteHeaders,
      body: UpdateFlagBody,
      response: { 200: { ...FlagSchema, headers: etagHeader }, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => {
    const p = request.params;
    const b = request.body;
    const patch = {
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...('defaultValue' in b ? { defaultValue: b.defaultValue } : {}),
      ...(b.defaultVariation !== undefined ? { defaultVariation: b.defaultVariation } : {}),
      ...(b.tags !== undefined ? { tags: b.tags } : {}),
      ...(b.status !== undefined ? { status: b.status as FlagStatus } : {}),
      ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
    };
    const view = await flags.update(requireActor(request), { projectRef: p.project_id, flagKey: p.flag_key }, patch, writeOptions(request.query, request.headers));
    return withEtag(reply, view);
  });

  app.delete('/api/v1/projects/:project_id/flags/:flag_key', {
    schema: {
      operationId: 'deleteFlag',
      tags,
      summary: "Delete a flag with its variations and configuration; refused while another flag has it as a prerequisite (409 flag_in_use); If-Match → 412 when stale",
      security: bearer,
      params: FlagParams,
      headers: FlagWriteHeaders,
      response: { 200: DeletedSchema, ...problems(401, 403, 404, 409, 412) },
    },
  }, async (request) => {
    const p = request.params;
    const expectedVersion = expectedVersionOf(request.headers['if-match']);
    const id = await flags.delete(requireActor(request), { projectRef: p.project_id, flagKey: p.flag_key }, expectedVersion !== undefined ? { expectedVersion } : {});
    return { success: true, id: formatId('flag', id) };
  });

  for (const [verb, op] of [['archive', 'archiveFlag'], ['restore', 'restoreFlag']] as const) {
    app.post(`/api/v1/projects/:project_id/flags/:flag_key/${verb}`, {
      schema: {
        operationId: op,
        tags,
        summary:
          verb === 'archive'
            ? 'Archive a flag: it disappears from evaluation and keeps its configuration (idempotent)'
            : 'Restore an archived flag as active (idempotent)',
        security: bearer,
        params: FlagParams,
        querystring: EnvironmentQuery,
        headers: FlagWriteHeaders,
        response: { 200: { ...FlagSchema, headers: etagHeader }, ...problems(401, 403, 404, 409, 412) },
      },
    }, async (request, reply) => {
      const p = request.params;
      const ref = { projectRef: p.project_id, flagKey: p.flag_key };
      const options = writeOptions(request.query, request.headers);
      const actor = requireActor(request);
      return withEtag(reply, verb === 'archive' ? await flags.archive(actor, ref, options) : await flags.restore(actor, ref, options));
    });
  }

  // Variations.

  app.get('/api/v1/projects/:project_id/flags/:flag_key/variations', {
    schema: {
      operationId: 'listVariations',
      tags: ['variations'],
      summary: "The flag's variations in order; total in X-Total-Count",
      security: bearer,
      params: FlagParams,
      querystring: PageQuerySchema,
      response: { 200: VariationListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const p = request.params;
    const page = await flags.listVariations(requireActor(request), { projectRef: p.project_id, flagKey: p.flag_key }, pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toVariationBody);
  });

  app.post('/api/v1/projects/:project_id/flags/:flag_key/variations', {
    schema: {
      operationId: 'addVariation',
      tags: ['variations'],
      summary: "Add a variation (value of the flag's type; key from the name when absent); bumps the flag's version (ETag)",
      security: bearer,
      params: FlagParams,
      headers: FlagWriteHeaders,
      body: CreateVariationBody,
      response: { 200: { ...VariationSchema, headers: etagHeader }, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => {
    const p = request.params;
    const b = request.body;
    const result = await flags.addVariation(
      requireActor(request),
      { projectRef: p.project_id, flagKey: p.flag_key },
      {
        value: b.value,
        ...(b.key !== undefined ? { key: b.key } : {}),
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.weight !== undefined ? { weight: b.weight } : {}),
      },
      writeOptions({}, request.headers),
    );
    reply.header('ETag', flagEtag(result.flag.flag.version));
    return toVariationBody(result.variation);
  });

  app.patch('/api/v1/projects/:project_id/flags/:flag_key/variations/:variation_id', {
    schema: {
      operationId: 'updateVariation',
      tags: ['variations'],
      summary: 'Change name, value, description or weight (absent = unchanged, null = cleared); the key never changes',
      security: bearer,
      params: VariationParams,
      headers: FlagWriteHeaders,
      body: UpdateVariationBody,
      response: { 200: { ...VariationSchema, headers: etagHeader }, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => {
    const p = request.params;
    const b = request.body;
    const result = await flags.updateVariation(
      requireActor(request),
      { projectRef: p.project_id, flagKey: p.flag_key },
      p.variation_id,
      {
        ...('value' in b ? { value: b.value } : {}),
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.weight !== undefined ? { weight: b.weight } : {}),
      },
      writeOptions({}, request.headers),
    );
    reply.header('ETag', flagEtag(result.flag.flag.version));
    return toVariationBody(result.variation);
  });

  app.delete('/api/v1/projects/:project_id/flags/:flag_key/variations/:variation_id', {
    schema: {
      operationId: 'deleteVariation',
      tags: ['variations'],
      summary: 'Delete a variation; refused (409 variation_in_use, each use named) while the default, an off variation, a default serve, a rule, a target or a prerequisite uses it',
      security: bearer,
      params: VariationParams,
      headers: FlagWriteHeaders,
      response: { 200: { ...DeletedSchema, headers: etagHeader }, ...problems(401, 403, 404, 409, 412) },
    },
  }, async (request, reply) => {
    const p = request.params;
    const result = await flags.deleteVariation(requireActor(request), { projectRef: p.project_id, flagKey: p.flag_key }, p.variation_id, writeOptions({}, request.headers));
    reply.header('ETag', flagEtag(result.flag.flag.version));
    return { success: true, id: formatId('variation', result.variationId) };
  });

  // History and audit log.

  app.get('/api/v1/projects/:project_id/flags/:flag_key/history', {
    schema: {
      operationId: 'getFlagHistory',
      tags: ['audit'],
      summary: "The flag's change history, newest first (IntelliToggle's shape); total in X-Total-Count",
      security: bearer,
      params: FlagParams,
      querystring: PageQuerySchema,
      response: { 200: FlagHistorySchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const p = request.params;
    const page = await auditQuery.flagHistory(requireActor(request), { projectRef: p.project_id, flagKey: p.flag_key }, pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toFlagHistoryBody);
  });

  app.get('/api/v1/projects/:project_id/audit-log', {
    schema: {
      operationId: 'getProjectAuditLog',
      tags: ['audit'],
      summary: "The project's audit events, newest first, filtered by flag, user, action and time range; total in X-Total-Count",
      security: bearer,
      params: ProjectParams,
      querystring: AuditLogQuery,
      response: { 200: AuditLogSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const q = request.query;
    const page = await auditQuery.projectLog(
      requireActor(request),
      request.params.project_id,
      {
        ...(q.flag !== undefined ? { flag: q.flag } : {}),
        ...(q.user !== undefined ? { userId: parseId('user', q.user)! } : {}),
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
      },
      pageFromQuery(q),
    );
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toAuditEntryBody);
  });
};
