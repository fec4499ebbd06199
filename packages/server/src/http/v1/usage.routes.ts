import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { UsageReport } from '../../features/usage/usage-service.js';
import { requireAuthentication } from './authenticated.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { formatId } from './ids.js';

const tags = ['usage'];
const limit = Type.Union([Type.Integer(), Type.Null()], { description: "The plan's limit; null: unlimited (the self-hosted plan)" });
const Metered = Type.Object({ used: Type.Integer(), limit });

/** `GET /api/v1/usage`. */
export const UsageSchema = Type.Object({
  organizationId: Type.String({ description: 'tenant_…' }),
  plan: Type.String(),
  period: Type.Object({ from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }) }),
  evaluations: Type.Object({
    used: Type.Integer({ description: 'Evaluations in the period' }),
    limit,
    limitPeriod: Type.Literal('month', { description: 'The evaluation limit counts per calendar month (UTC)' }),
    byDay: Type.Array(Type.Object({ day: Type.String({ format: 'date' }), count: Type.Integer() })),
    byFlag: Type.Array(Type.Object({ projectId: Type.String(), projectKey: Type.String(), flagKey: Type.String(), count: Type.Integer() })),
    byEnvironment: Type.Array(
      Type.Object({ environmentId: Type.String(), environment: Type.String(), projectId: Type.String(), projectKey: Type.String(), count: Type.Integer() }),
    ),
  }),
  flags: Metered,
  members: Metered,
  apiKeys: Metered,
  projects: Metered,
});

export const UsageQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date', description: 'First day (YYYY-MM-DD, UTC, inclusive); default the first of the month of `to`' })),
    to: Type.Optional(Type.String({ format: 'date', description: 'Last day (YYYY-MM-DD, UTC, inclusive); default today' })),
  },
  { additionalProperties: false },
);

function toUsageBody(r: UsageReport) {
  return {
    organizationId: formatId('organization', r.organizationId),
    plan: r.plan,
    period: { from: r.from, to: r.to },
    evaluations: {
      used: r.evaluations.used,
      limit: r.evaluations.limit,
      limitPeriod: r.evaluations.limitPeriod,
      byDay: r.evaluations.byDay,
      byFlag: r.evaluations.byFlag.map((f) => ({ projectId: formatId('project', f.projectId), projectKey: f.projectKey, flagKey: f.flagKey, count: f.count })),
      byEnvironment: r.evaluations.byEnvironment.map((e) => ({
        environmentId: formatId('environment', e.environmentId),
        environment: e.environmentKey,
        projectId: formatId('project', e.projectId),
        projectKey: e.projectKey,
        count: e.count,
      })),
    },
    flags: r.flags,
    members: r.members,
    apiKeys: r.apiKeys,
    projects: r.projects,
  };
}

/** Togul's `/api/v1/usage`: evaluations per day, flag and environment, and resource counts, against the plan's limits. */
export const usageRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { usage } = app.services;

  app.get('/api/v1/usage', {
    schema: {
      operationId: 'getUsage',
      tags,
      summary: "The organisation's usage: evaluations (per day, flag, environment) in a period, and flags, members, API keys and projects, against the plan's limits",
      security: bearer,
      querystring: UsageQuery,
      response: { 200: UsageSchema, ...problems(400, 401, 403, 404, 422) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return toUsageBody(await usage.report(actor, actor.organizationId, { from: request.query.from, to: request.query.to }));
  });
};
