import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireAuthentication } from './authenticated.js';
import { requireActor } from '../plugins/identify.js';
import { toOutboxMessageBody } from './access.mappers.js';
import { bearer, OutboxListSchema, PageQuerySchema, problems } from './access.schemas.js';
import { pageFromQuery, totalCountHeader } from './paging.js';

/** `GET /api/v1/mail-outbox`: the mail sent on behalf of the organisation, for its admins. */
export const mailOutboxRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { mailOutbox } = app.services;

  app.get('/api/v1/mail-outbox', {
    schema: {
      operationId: 'listMailOutbox',
      tags: ['mail'],
      summary: "The organisation's outgoing mail, newest first, with delivery state (sentAt, error); needs mail:read (admins)",
      description: 'Without SMTP_URL this is where mail stays: invitation links can be read and passed on from here.',
      security: bearer,
      querystring: PageQuerySchema,
      response: { 200: OutboxListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const actor = requireActor(request);
    const page = await mailOutbox.list(actor, actor.organizationId, pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    reply.header('Cache-Control', 'no-store');
    return page.items.map(toOutboxMessageBody);
  });
};
