import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AuditLogFilter } from '../../features/audit/audit-query-service.js';
import { requireUser } from '../plugins/identify.js';
import { pathId } from './ids.js';
import { toAuditEntryBody } from './mappers.js';
import { listPage, totalCountHeader } from './paging.js';
import { problems } from './problem.js';
import { AuditLogQuery, AuditLogSchema, bearer, ProjectParams } from './schemas.js';

/** A project's audit log. */
export const auditLogRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { auditQuery } = app.services;

  app.get('/projects/:projectId/audit-log', {
    schema: {
      operationId: 'flipswitchGetAuditLog',
      tags: ['flipswitch-audit'],
      summary: 'The project’s audit log, newest first; limit (default 50), offset, flagId, userId; project member',
      security: bearer,
      params: ProjectParams,
      querystring: AuditLogQuery,
      response: { 200: AuditLogSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const q = request.query;
    const filter: AuditLogFilter = {};
    // A flag id names the flag's events even after it was deleted. Ids past 2^53 (the schema lets
    // 16 digits through) stay past it when read as numbers, so they match nothing, as they should.
    if (q.flagId !== undefined) filter.flag = `flag_${q.flagId}`;
    if (q.userId !== undefined) filter.userId = Number(q.userId.replace(/^user-/, ''));
    const page = await auditQuery.projectLog(requireUser(request), pathId(request.params.projectId, 'Project'), filter, listPage(q, 50));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toAuditEntryBody);
  });
};
