import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../domain/errors.js';
import { requireAuthentication } from './authenticated.js';
import { requireActor } from '../plugins/identify.js';
import { toAcceptedInvitationBody, toInvitationBody } from './access.mappers.js';
import {
  AcceptedInvitationSchema,
  AcceptInvitationBody,
  bearer,
  CreateInvitationBody,
  InvitationListQuery,
  InvitationListSchema,
  InvitationParams,
  InvitationSchema,
  problems,
} from './access.schemas.js';
import { parseId } from './ids.js';
import { pageFromQuery, totalCountHeader } from './paging.js';

const tags = ['invitations'];

function invitationIdOf(raw: string): number {
  const id = parseId('invitation', raw);
  if (id === null) throw new NotFoundError('Invitation');
  return id;
}

/** `/api/v1/invitations`: invite by email and role, list, revoke, resend; accept with the mailed token. */
export const invitationRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app, ['/api/v1/invitations/accept']);
  const { invitations } = app.services;

  // Accept answers tokens (RFC 6749 §5.1: never cache them).
  app.addHook('onSend', async (request, reply) => {
    if (request.routeOptions.url === '/api/v1/invitations/accept' && !reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store');
  });

  app.get('/api/v1/invitations', {
    schema: {
      operationId: 'listInvitations',
      tags,
      summary: 'Invitations of the organisation, newest first (filter by status); total in X-Total-Count',
      security: bearer,
      querystring: InvitationListQuery,
      response: { 200: InvitationListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const actor = requireActor(request);
    const { status, ...paging } = request.query;
    const page = await invitations.list(actor, actor.organizationId, { ...pageFromQuery(paging), ...(status ? { status } : {}) });
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toInvitationBody);
  });

  app.post('/api/v1/invitations', {
    schema: {
      operationId: 'createInvitation',
      tags,
      summary: 'Invite an email as a role; mails a single-use link valid for 7 days',
      security: bearer,
      body: CreateInvitationBody,
      response: { 200: InvitationSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return toInvitationBody(await invitations.create(actor, actor.organizationId, request.body));
  });

  app.post('/api/v1/invitations/accept', {
    schema: {
      operationId: 'acceptInvitation',
      tags,
      summary: 'Accept an invitation: signed in as the invited email, or creating the account (password required). Answers the login body',
      description:
        'Works without a bearer token for a new account. Unknown or revoked tokens: 404 `invitation_not_found`; expired: 404 `invitation_expired`; used: 404 `invitation_used`; signed in as another email: 403 `invitation_email_mismatch`; the email already has an account but no token was sent: 401 `login_required`.',
      security: [{}, { bearerAuth: [] }],
      body: AcceptInvitationBody,
      response: { 200: AcceptedInvitationSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request) => {
    // A credential that was sent but rejected is a 401, not an anonymous accept.
    const actor = request.actor ?? (request.authFailure ? requireActor(request) : null);
    const b = request.body;
    return toAcceptedInvitationBody(await invitations.accept(actor, { token: b.token, password: b.password ?? null, name: b.name ?? null }));
  });

  app.get('/api/v1/invitations/:invitationId', {
    schema: {
      operationId: 'getInvitation',
      tags,
      summary: 'One invitation',
      security: bearer,
      params: InvitationParams,
      response: { 200: InvitationSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return toInvitationBody(await invitations.get(actor, actor.organizationId, invitationIdOf(request.params.invitationId)));
  });

  app.delete('/api/v1/invitations/:invitationId', {
    schema: {
      operationId: 'revokeInvitation',
      tags,
      summary: 'Revoke a pending invitation: its link stops working',
      security: bearer,
      params: InvitationParams,
      response: { 200: InvitationSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return toInvitationBody(await invitations.revoke(actor, actor.organizationId, invitationIdOf(request.params.invitationId)));
  });

  app.post('/api/v1/invitations/:invitationId/resend', {
    schema: {
      operationId: 'resendInvitation',
      tags,
      summary: 'Mail a pending invitation again with a new link and a fresh 7 days; the old link stops working',
      security: bearer,
      params: InvitationParams,
      response: { 200: InvitationSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return toInvitationBody(await invitations.resend(actor, actor.organizationId, invitationIdOf(request.params.invitationId)));
  });
};
