import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireActor } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import { SandboxDemoDataSchema, SandboxIndicatorsSchema, SandboxStatusSchema, SandboxSubscribeBody, SandboxSubscriptionSchema, SuccessSchema } from './engagement.schemas.js';
import { requireTenantHeader, tenantIdHeader } from './tenant-context.js';

const tags = ['sandbox'];
const headers = Type.Object({ 'x-tenant-id': tenantIdHeader });

/** `/api/v1/sandbox/…`: the sandbox state of the tenant named by `X-Tenant-ID` (required). */
export const sandboxRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  requireTenantHeader(app);
  const { sandbox } = app.services;

  app.get('/api/v1/sandbox/status', {
    schema: {
      operationId: 'getSandboxStatus',
      tags,
      summary: 'Whether the tenant is an active (unexpired) sandbox, and when it expires',
      security: bearer,
      headers,
      response: { 200: SandboxStatusSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    const s = await sandbox.status(actor, actor.organizationId);
    return { active: s.active, expiresAt: s.expiresAt, isSandbox: s.isSandbox };
  });

  app.get('/api/v1/sandbox/indicators', {
    schema: {
      operationId: 'getSandboxIndicators',
      tags,
      summary: 'Flags in use (not archived) and evaluations counted in the tenant',
      security: bearer,
      headers,
      response: { 200: SandboxIndicatorsSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return sandbox.indicators(actor, actor.organizationId);
  });

  app.get('/api/v1/sandbox/demo-data', {
    schema: {
      operationId: 'getSandboxDemoData',
      tags,
      summary: 'The demo flag keys and demo targeting keys a sandbox is seeded with',
      security: bearer,
      headers,
      response: { 200: SandboxDemoDataSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return sandbox.demoData(actor, actor.organizationId);
  });

  app.post('/api/v1/sandbox/cleanup/tenant', {
    schema: {
      operationId: 'resetSandboxTenant',
      tags,
      summary: 'Reset a sandbox tenant to its demo state (other projects deleted, demo flags restored); 409 not_sandbox otherwise',
      security: bearer,
      headers,
      response: { 200: SuccessSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    await sandbox.reset(actor, actor.organizationId);
    return { success: true };
  });

  app.post('/api/v1/sandbox/subscribe', {
    schema: {
      operationId: 'subscribeToSandbox',
      tags,
      summary: 'Subscribe an email to sandbox updates (201; again: 200, the name updated)',
      security: bearer,
      headers,
      body: SandboxSubscribeBody,
      response: { 200: SandboxSubscriptionSchema, 201: SandboxSubscriptionSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request, reply) => {
    const actor = requireActor(request);
    const { subscription: s, created } = await sandbox.subscribe(actor, actor.organizationId, { email: request.body.email, name: request.body.name ?? null });
    reply.code(created ? 201 : 200);
    return { success: true, email: s.email, name: s.name, subscribedAt: s.createdAt };
  });
};
