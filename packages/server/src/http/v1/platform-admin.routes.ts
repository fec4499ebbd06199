import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../domain/errors.js';
import type { AddedOrInvited } from '../../features/organizations/invitation-service.js';
import { deprecated } from '../plugins/legacy-aliases.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, PageQuerySchema, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import {
  AcceptedPlatformInvitationSchema,
  AcceptPlatformInvitationBody,
  AdminRoleBody,
  AdminTenantListSchema,
  AdminUserListSchema,
  AdminUserParams,
  AdminUserSchema,
  CreatePlatformInvitationBody,
  LegacyInviteBody,
  PlatformInvitationListSchema,
  PlatformInvitationParams,
  PlatformInvitationSchema,
} from './engagement.schemas.js';
import { toAdminTenantBody, toAdminUserBody, toPlatformInvitationBody } from './engagement.mappers.js';
import { formatId, parseId } from './ids.js';
import { pageFromQuery, totalCountHeader } from './paging.js';
import { AddedTenantUserSchema } from './tenants.schemas.js';

const tags = ['admin'];

function userIdOf(raw: string): number {
  const id = parseId('user', raw);
  if (id === null) throw new NotFoundError('User');
  return id;
}

function invitationIdOf(raw: string): number {
  const id = parseId('invitation', raw);
  if (id === null) throw new NotFoundError('Invitation');
  return id;
}

/** What `POST /api/v1/tenants/{tenantId}/users` answers, for the legacy invite's tenant branch. */
function toAddedTenantUserBody(a: AddedOrInvited) {
  if (a.kind === 'member') {
    const m = a.member;
    return { userId: formatId('user', m.userId), email: m.email, displayName: m.name, role: m.role, status: 'active' as const, invitationId: null, invitationExpiresAt: null, lastAccessedAt: m.lastAccessedAt, createdAt: m.createdAt };
  }
  const i = a.invitation;
  return { userId: null, email: i.email, displayName: null, role: i.role, status: 'invited' as const, invitationId: formatId('invitation', i.id), invitationExpiresAt: i.expiresAt, lastAccessedAt: null, createdAt: i.createdAt };
}

/**
 * `/api/v1/admin/…`: platform users and roles, platform-admin invitations and every tenant —
 * `super_user` only, except `GET /admin/tenants` (platform `admin`) and accepting an invitation
 * (the invited person). Also the deprecated `POST /admin/invite`.
 */
export const platformAdminRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { platformAdmin, invitations } = app.services;

  app.get('/api/v1/admin/users', {
    schema: {
      operationId: 'listAdminUsers',
      tags,
      summary: 'Accounts holding a platform role (super_user only), oldest first; total in X-Total-Count',
      security: bearer,
      querystring: PageQuerySchema,
      response: { 200: AdminUserListSchema, ...problems(401, 403) },
    },
  }, async (request, reply) => {
    const page = await platformAdmin.listAdmins(requireActor(request), pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toAdminUserBody);
  });

  app.get('/api/v1/admin/users/system', {
    schema: {
      operationId: 'listPlatformUsers',
      tags,
      summary: 'Every account of the platform (super_user only), oldest first; total in X-Total-Count',
      security: bearer,
      querystring: PageQuerySchema,
      response: { 200: AdminUserListSchema, ...problems(401, 403) },
    },
  }, async (request, reply) => {
    const page = await platformAdmin.listUsers(requireActor(request), pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toAdminUserBody);
  });

  app.patch('/api/v1/admin/users/:userId/deactivate', {
    schema: {
      operationId: 'deactivateAdminUser',
      tags,
      summary: 'Deactivate an account (super_user only): it cannot sign in and its tokens stop working at once; 409 for yourself',
      security: bearer,
      params: AdminUserParams,
      response: { 200: AdminUserSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request) => toAdminUserBody(await platformAdmin.deactivate(requireActor(request), userIdOf(request.params.userId))));

  app.patch('/api/v1/admin/users/:userId/reactivate', {
    schema: {
      operationId: 'reactivateAdminUser',
      tags,
      summary: 'Reactivate an account (super_user only): it can sign in again',
      security: bearer,
      params: AdminUserParams,
      response: { 200: AdminUserSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => toAdminUserBody(await platformAdmin.reactivate(requireActor(request), userIdOf(request.params.userId))));

  app.patch('/api/v1/admin/users/:userId/role', {
    schema: {
      operationId: 'setAdminUserRole',
      tags,
      summary: 'Set the platform role (super_user only): viewer, admin, super_user (only emails in ADMIN_SUPER_USER_EMAILS), or null',
      security: bearer,
      params: AdminUserParams,
      body: AdminRoleBody,
      response: { 200: AdminUserSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request) => toAdminUserBody(await platformAdmin.setRole(requireActor(request), userIdOf(request.params.userId), request.body.role)));

  app.post('/api/v1/admin/invitations', {
    schema: {
      operationId: 'createAdminInvitation',
      tags,
      summary: 'Invite an email as platform viewer or admin (super_user only); mails a single-use link valid for 7 days',
      security: bearer,
      body: CreatePlatformInvitationBody,
      response: { 201: PlatformInvitationSchema, ...problems(401, 403, 409, 422) },
    },
  }, async (request, reply) => {
    const invitation = await platformAdmin.invite(requireActor(request), request.body);
    reply.code(201);
    return toPlatformInvitationBody(invitation);
  });

  app.get('/api/v1/admin/invitations', {
    schema: {
      operationId: 'listAdminInvitations',
      tags,
      summary: 'Platform invitations, newest first (super_user only); total in X-Total-Count',
      security: bearer,
      querystring: PageQuerySchema,
      response: { 200: PlatformInvitationListSchema, ...problems(401, 403) },
    },
  }, async (request, reply) => {
    const page = await platformAdmin.listInvitations(requireActor(request), pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toPlatformInvitationBody);
  });

  app.post('/api/v1/admin/invitations/accept', {
    schema: {
      operationId: 'acceptAdminInvitation',
      tags,
      summary: 'Accept a platform invitation as the signed-in invited email, with the mailed token; answers the invitation and your account',
      security: bearer,
      body: AcceptPlatformInvitationBody,
      response: { 200: AcceptedPlatformInvitationSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const { invitation, user } = await platformAdmin.accept(requireActor(request), request.body.token);
    return { invitation: toPlatformInvitationBody(invitation), user: toAdminUserBody(user) };
  });

  app.get('/api/v1/admin/invitations/:invitationId', {
    schema: {
      operationId: 'getAdminInvitation',
      tags,
      summary: 'One platform invitation (super_user only)',
      security: bearer,
      params: PlatformInvitationParams,
      response: { 200: PlatformInvitationSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => toPlatformInvitationBody(await platformAdmin.getInvitation(requireActor(request), invitationIdOf(request.params.invitationId))));

  app.delete('/api/v1/admin/invitations/:invitationId', {
    schema: {
      operationId: 'revokeAdminInvitation',
      tags,
      summary: 'Revoke a pending platform invitation (super_user only): its link stops working',
      security: bearer,
      params: PlatformInvitationParams,
      response: { 200: PlatformInvitationSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request) => toPlatformInvitationBody(await platformAdmin.revokeInvitation(requireActor(request), invitationIdOf(request.params.invitationId))));

  app.post('/api/v1/admin/invitations/:invitationId/resend', {
    schema: {
      operationId: 'resendAdminInvitation',
      tags,
      summary: 'Mail a pending platform invitation again with a new link and 7 fresh days (super_user only)',
      security: bearer,
      params: PlatformInvitationParams,
      response: { 200: PlatformInvitationSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request) => toPlatformInvitationBody(await platformAdmin.resendInvitation(requireActor(request), invitationIdOf(request.params.invitationId))));

  app.get('/api/v1/admin/tenants', {
    schema: {
      operationId: 'listAdminTenants',
      tags,
      summary: 'Every tenant of the platform with its member count (platform admin and super_user), oldest first; total in X-Total-Count',
      security: bearer,
      querystring: PageQuerySchema,
      response: { 200: AdminTenantListSchema, ...problems(401, 403) },
    },
  }, async (request, reply) => {
    const page = await platformAdmin.listTenants(requireActor(request), pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toAdminTenantBody);
  });

  app.post('/admin/invite', {
    schema: {
      operationId: 'legacyAdminInvite',
      tags,
      deprecated: true,
      summary: 'Deprecated. role admin: a platform admin invitation, answered as POST /api/v1/admin/invitations; role user: a tenant invite as developer into the tenant you act in (X-Tenant-ID), answered as POST /api/v1/tenants/{tenantId}/users',
      security: bearer,
      body: LegacyInviteBody,
      response: { 201: { anyOf: [PlatformInvitationSchema, AddedTenantUserSchema] }, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const actor = requireActor(request);
    reply.code(201);
    if (request.body.role === 'admin') {
      deprecated(reply, '/api/v1/admin/invitations');
      return toPlatformInvitationBody(await platformAdmin.invite(actor, { email: request.body.email, role: 'admin' }));
    }
    deprecated(reply, actor.organizationId === null ? '/api/v1/tenants/{tenantId}/users' : `/api/v1/tenants/${formatId('organization', actor.organizationId)}/users`);
    return toAddedTenantUserBody(await invitations.addOrInvite(actor, actor.organizationId, { email: request.body.email, role: 'developer' }));
  });
};
