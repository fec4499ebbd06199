import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { DeletionRequest } from '../../features/account-deletion/deletion-store.js';
import { requireAuthentication } from './authenticated.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { formatId } from './ids.js';

const tags = ['account-lifecycle'];
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Scope = Type.Union([Type.Literal('account'), Type.Literal('organization')], {
  description: 'account (default): your own account; organization: the organisation the request acts in (needs organization:delete)',
});

/** A deletion request. */
export const DeletionSchema = Type.Object({
  id: Type.String({ description: 'del_…' }),
  scope: Scope,
  status: Type.Union([Type.Literal('pending'), Type.Literal('cancelled')]),
  scheduledFor: Type.String({ format: 'date-time', description: 'When the erasure happens (the end of the grace period)' }),
  requestedAt: Type.String({ format: 'date-time' }),
  organizationId: nullable(Type.String({ description: 'tenant_…, for an organisation' })),
  cancelledAt: nullable(Type.String({ format: 'date-time' })),
});

export const RequestDeletionBody = Type.Object({ scope: Type.Optional(Scope) }, { additionalProperties: false });
export const DeletionQuery = Type.Object({ scope: Type.Optional(Scope) }, { additionalProperties: false });

function toDeletionBody(r: DeletionRequest) {
  return {
    id: `del_${r.id}`,
    scope: r.scope,
    status: r.status === 'cancelled' ? ('cancelled' as const) : ('pending' as const),
    scheduledFor: r.scheduledFor,
    requestedAt: r.requestedAt,
    organizationId: r.organizationId === null ? null : formatId('organization', r.organizationId),
    cancelledAt: r.cancelledAt,
  };
}

/** Togul's account lifecycle: request, see and cancel the deletion of one's account or organisation. */
export const accountDeletionRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { accountDeletions } = app.services;

  app.post('/api/v1/account-deletion', {
    schema: {
      operationId: 'requestAccountDeletion',
      tags,
      summary: 'Ask for your account (or, as its admin, the organisation) to be erased after the grace period; cancellable until then',
      security: bearer,
      body: RequestDeletionBody,
      response: { 200: DeletionSchema, ...problems(401, 403, 404, 409, 422) },
    },
    // No body at all means the defaults (`{scope: "account"}`).
    preValidation: async (request) => {
      request.body ??= {};
    },
  }, async (request) => toDeletionBody(await accountDeletions.request(requireActor(request), { scope: request.body.scope ?? 'account' })));

  app.get('/api/v1/account-deletion', {
    schema: {
      operationId: 'getAccountDeletion',
      tags,
      summary: "The pending deletion of your account (or, with ?scope=organization, of the organisation); 404 when none",
      security: bearer,
      querystring: DeletionQuery,
      response: { 200: DeletionSchema, ...problems(400, 401, 404) },
    },
  }, async (request) => toDeletionBody(await accountDeletions.status(requireActor(request), request.query.scope ?? 'account')));

  app.delete('/api/v1/account-deletion', {
    schema: {
      operationId: 'cancelAccountDeletion',
      tags,
      summary: 'Cancel the pending deletion of your account (or, with ?scope=organization, of the organisation)',
      security: bearer,
      querystring: DeletionQuery,
      response: { 200: DeletionSchema, ...problems(400, 401, 403, 404) },
    },
  }, async (request) => toDeletionBody(await accountDeletions.cancel(requireActor(request), request.query.scope ?? 'account')));
};
