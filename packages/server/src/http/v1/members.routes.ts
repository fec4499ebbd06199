import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../domain/errors.js';
import { requireAuthentication } from './authenticated.js';
import { requireActor } from '../plugins/identify.js';
import { toMemberBody } from './access.mappers.js';
import { bearer, ChangeRoleBody, DeletedSchema, MemberListSchema, MemberParams, MemberSchema, PageQuerySchema, problems } from './access.schemas.js';
import { formatId, parseId } from './ids.js';
import { pageFromQuery, totalCountHeader } from './paging.js';

const tags = ['members'];

function userIdOf(raw: string): number {
  const id = parseId('user', raw);
  if (id === null) throw new NotFoundError('Member');
  return id;
}

/** `/api/v1/members`: the members of the organisation the request acts in (token or `X-Tenant-ID`). */
export const memberRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { members } = app.services;

  app.get('/api/v1/members', {
    schema: {
      operationId: 'listMembers',
      tags,
      summary: 'Members with email, name, role and when they joined (oldest first); total in X-Total-Count',
      security: bearer,
      querystring: PageQuerySchema,
      response: { 200: MemberListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const actor = requireActor(request);
    const page = await members.list(actor, actor.organizationId, pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toMemberBody);
  });

  app.get('/api/v1/members/:userId', {
    schema: {
      operationId: 'getMember',
      tags,
      summary: 'One member',
      security: bearer,
      params: MemberParams,
      response: { 200: MemberSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return toMemberBody(await members.get(actor, actor.organizationId, userIdOf(request.params.userId)));
  });

  app.patch('/api/v1/members/:userId', {
    schema: {
      operationId: 'changeMemberRole',
      tags,
      summary: 'Give a member another role; never demotes the last admin (409 last_admin)',
      security: bearer,
      params: MemberParams,
      body: ChangeRoleBody,
      response: { 200: MemberSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return toMemberBody(await members.changeRole(actor, actor.organizationId, userIdOf(request.params.userId), request.body.role));
  });

  app.delete('/api/v1/members/:userId', {
    schema: {
      operationId: 'removeMember',
      tags,
      summary: 'Remove a member, or leave (your own id); never the last admin (409 last_admin)',
      security: bearer,
      params: MemberParams,
      response: { 200: DeletedSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    const userId = userIdOf(request.params.userId);
    await members.remove(actor, actor.organizationId, userId);
    return { success: true, id: formatId('user', userId) };
  });
};
