import type { FastifyInstance } from 'fastify';
import type { ServerMetrics } from '../../features/operations/metrics.js';

/**
 * Counts and times every response, labelled by method, the matched route pattern (never the raw
 * URL, which would give every id its own time series) and status code. Unmatched requests share
 * the `unmatched` route label.
 */
export function installRequestMetrics(app: FastifyInstance, metrics: ServerMetrics): void {
  // Callback-style: no promise per request on the hot path.
  app.addHook('onResponse', (request, reply, done) => {
    // Fastify's 404 handler reports no route url (or its catch-all); both collapse into one label.
    const route = (request.is404 ? undefined : request.routeOptions.url) ?? 'unmatched';
    metrics.recordRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
