import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../domain/errors.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import { PutTourBody, TourParams, TourStatusSchema } from './engagement.schemas.js';
import { NoContentSchema } from './tenant-flags.schemas.js';
import { toTourBody } from './engagement.mappers.js';
import { parseId } from './ids.js';

const tags = ['product-tours'];
const path = '/api/v1/users/:userId/product-tours/:tourKey';

function userIdOf(raw: string): number {
  const id = parseId('user', raw);
  if (id === null) throw new NotFoundError('User');
  return id;
}

/** `/api/v1/users/{userId}/product-tours/{tourKey}`: your own tours (platform admins: anyone's). */
export const productTourRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { productTours } = app.services;

  app.get(path, {
    schema: {
      operationId: 'getProductTour',
      tags,
      summary: "A user's status of a product tour (not completed, with null times, when never recorded); another user's is 404 unless you are a platform admin",
      security: bearer,
      params: TourParams,
      response: { 200: TourStatusSchema, ...problems(400, 401, 404) },
    },
  }, async (request) => toTourBody(await productTours.get(requireActor(request), userIdOf(request.params.userId), request.params.tourKey)));

  app.put(path, {
    schema: {
      operationId: 'putProductTour',
      tags,
      summary: 'Set whether the tour is completed (completed_at defaults to now); Idempotency-Key honoured',
      security: bearer,
      params: TourParams,
      body: PutTourBody,
      response: { 200: TourStatusSchema, ...problems(400, 401, 404, 409, 422) },
    },
  }, async (request) => {
    const b = request.body;
    const status = await productTours.set(requireActor(request), userIdOf(request.params.userId), request.params.tourKey, {
      completed: b.completed,
      ...(b.completed_at !== undefined ? { completedAt: b.completed_at } : {}),
    });
    return toTourBody(status);
  });

  app.delete(path, {
    schema: {
      operationId: 'resetProductTour',
      tags,
      summary: 'Reset the tour so the user sees it again (204)',
      security: bearer,
      params: TourParams,
      response: { 204: NoContentSchema, ...problems(400, 401, 404) },
    },
  }, async (request, reply) => {
    await productTours.reset(requireActor(request), userIdOf(request.params.userId), request.params.tourKey);
    return reply.code(204).send(null);
  });
};
