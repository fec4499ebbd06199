import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireUser } from '../plugins/identify.js';
import { toMeBody } from './mappers.js';
import { problems } from './problem.js';
import { bearer, MeSchema } from './schemas.js';

/** `GET /me`, `POST /logout`. */
export const accountRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { accounts } = app.services;

  app.get('/me', {
    schema: {
      operationId: 'flipswitchGetMe',
      tags: ['flipswitch'],
      summary: 'The signed-in user and the organisation the request acts in',
      security: bearer,
      response: { 200: MeSchema, ...problems(401) },
    },
  }, async (request) => toMeBody(await accounts.me(requireUser(request))));

  app.post('/logout', {
    schema: {
      operationId: 'flipswitchLogout',
      tags: ['flipswitch'],
      summary: 'Ends the session: its access and refresh tokens stop working at once',
      security: bearer,
      response: { 204: Type.Null({ description: 'Logged out' }), ...problems(401) },
    },
  }, async (request, reply) => {
    await accounts.logout(requireUser(request));
    return reply.status(204).send(null);
  });
};
