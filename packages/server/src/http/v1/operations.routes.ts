import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { ProblemSchema, problem, sendProblem } from './problem.js';

/**
 * Infrastructure endpoints: `GET /` (who we are), `/healthz` (liveness), `/readyz` (readiness:
 * the database answers and every registered check passes) and `/metrics` (Prometheus).
 */
export const operationsRoutes: FastifyPluginAsync = async (app) => {
  const { config, readiness, metrics } = app.services;

  // Browsers (Accept naming text/html) are sent to the dashboard; API callers keep this body.
  app.get('/', {
    schema: {
      operationId: 'getServiceInfo',
      tags: ['system'],
      summary: 'Name and version of this server; a browser (Accept: text/html) is redirected to the dashboard at /app/',
      response: {
        200: Type.Object({ name: Type.String(), version: Type.String() }),
        302: Type.Null({ description: 'A browser: to /app/' }),
      },
    },
  }, async (request, reply) => {
    if ((request.headers.accept ?? '').includes('text/html')) return reply.redirect('/app/');
    return { name: 'Switchyard', version: config.version };
  });

  app.get('/healthz', {
    schema: {
      operationId: 'getLiveness',
      tags: ['system'],
      summary: 'Liveness: the process is up and answering',
      response: { 200: Type.Object({ status: Type.Literal('ok') }) },
    },
  }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    schema: {
      operationId: 'getReadiness',
      tags: ['system'],
      summary: 'Readiness: the database answers and every readiness check passes',
      response: {
        200: Type.Object({ status: Type.Literal('ready'), checks: Type.Record(Type.String(), Type.String()) }),
        503: ProblemSchema,
      },
    },
  }, async (request, reply) => {
    const report = await readiness.evaluate();
    if (report.ready) return { status: 'ready' as const, checks: report.checks };
    const failing = Object.entries(report.checks).filter(([, v]) => v !== 'ok').map(([k, v]) => `${k}: ${v}`);
    reply.header('Retry-After', '5');
    return sendProblem(reply, problem(request, 503, 'not_ready', `Not ready: ${failing.join('; ')}`, { checks: report.checks }));
  });

  app.get('/metrics', {
    schema: {
      operationId: 'getMetrics',
      tags: ['system'],
      summary: 'Prometheus metrics: requests by method, route and status, latencies, process metrics',
      response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: Type.String() } } } },
    },
  }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
};
