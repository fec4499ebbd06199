import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteIndex } from '../plugins/route-index.js';
import { problem, sendProblem } from './problem.js';

/**
 * The app's not-found handler: 405 with `Allow` when the path exists under other methods,
 * otherwise 404 — both as problem+json.
 */
export function notFoundHandler(routes: RouteIndex) {
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = request.url.split('?')[0] ?? request.url;
    const allowed = routes.allowedMethods(path);
    if (allowed.length > 0) {
      reply.header('Allow', allowed.join(', '));
      return sendProblem(
        reply,
        problem(request, 405, 'method_not_allowed', `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`, { allow: allowed }),
      );
    }
    return sendProblem(reply, problem(request, 404, 'not_found', `No route for ${request.method} ${path}`));
  };
}
