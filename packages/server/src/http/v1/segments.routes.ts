import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { NewSegment, SegmentChanges } from '../../features/targeting/segment-service.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, DeletedSchema, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import { formatId } from './ids.js';
import { pageFromQuery, PageQuery, totalCountHeader } from './paging.js';
import { ifMatchOf, setEtag, toSegmentBody } from './targeting.mappers.js';
import { CreateSegmentBody, IfMatchHeaders, ProjectParams, SegmentListSchema, SegmentParams, SegmentSchema, UpdateSegmentBody, withEtagHeader } from './targeting.schemas.js';
import { Type } from 'typebox';

const tags = ['segments'];

/**
 * `/api/v1/projects/{project_id}/segments`: reusable audiences (included and excluded targeting
 * keys, then conditions) that rules name in `segments` or with IN_SEGMENT conditions.
 */
export const segmentRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { segments } = app.services;

  app.get('/api/v1/projects/:project_id/segments', {
    schema: {
      operationId: 'listSegments',
      tags,
      summary: 'Segments by key; total in X-Total-Count',
      security: bearer,
      params: ProjectParams,
      querystring: Type.Object(PageQuery),
      response: { 200: SegmentListSchema, ...problems(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const page = await segments.list(requireActor(request), request.params.project_id, pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toSegmentBody);
  });

  app.post('/api/v1/projects/:project_id/segments', {
    schema: {
      operationId: 'createSegment',
      tags,
      summary: 'Create a segment; the engine validates its conditions (422 naming the field); 409 segment_exists for a taken key',
      security: bearer,
      params: ProjectParams,
      body: CreateSegmentBody,
      response: { 200: withEtagHeader(SegmentSchema), ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const segment = await segments.create(requireActor(request), request.params.project_id, request.body as NewSegment);
    setEtag(reply, segment.version);
    return toSegmentBody(segment);
  });

  app.get('/api/v1/projects/:project_id/segments/:segment', {
    schema: {
      operationId: 'getSegment',
      tags,
      summary: 'One segment, by id or key; ETag is its version',
      security: bearer,
      params: SegmentParams,
      response: { 200: withEtagHeader(SegmentSchema), ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const segment = await segments.get(requireActor(request), request.params.project_id, request.params.segment);
    setEtag(reply, segment.version);
    return toSegmentBody(segment);
  });

  app.patch('/api/v1/projects/:project_id/segments/:segment', {
    schema: {
      operationId: 'updateSegment',
      tags,
      summary: 'Change a segment (absent = unchanged, null = cleared; the key cannot change); If-Match → 412 when stale',
      security: bearer,
      params: SegmentParams,
      headers: IfMatchHeaders,
      body: UpdateSegmentBody,
      response: { 200: withEtagHeader(SegmentSchema), ...problems(400, 401, 403, 404, 412, 422) },
    },
  }, async (request, reply) => {
    const segment = await segments.update(requireActor(request), request.params.project_id, request.params.segment, request.body as SegmentChanges, ifMatchOf(request.headers));
    setEtag(reply, segment.version);
    return toSegmentBody(segment);
  });

  app.delete('/api/v1/projects/:project_id/segments/:segment', {
    schema: {
      operationId: 'deleteSegment',
      tags,
      summary: 'Delete a segment; refused with 409 segment_in_use while any rule uses it, the rules named in details.rules',
      security: bearer,
      params: SegmentParams,
      headers: IfMatchHeaders,
      response: { 200: DeletedSchema, ...problems(400, 401, 403, 404, 409, 412) },
    },
  }, async (request) => {
    const segment = await segments.delete(requireActor(request), request.params.project_id, request.params.segment, ifMatchOf(request.headers));
    return { success: true, id: formatId('segment', segment.id) };
  });
};
