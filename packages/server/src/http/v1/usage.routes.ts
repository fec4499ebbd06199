import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FlagUsageReport, UsageReport, VariationCount } from '../../features/usage/usage-service.js';
import { requireAuthentication } from './authenticated.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { formatId } from './ids.js';
import { FlagParams } from './catalog.schemas.js';

const tags = ['usage'];
const limit = Type.Union([Type.Integer(), Type.Null()], { description: "The plan's limit; null: unlimited (the self-hosted plan)" });
const Metered = Type.Object({ used: Type.Integer(), limit });
const VariationCountSchema = Type.Object({
  variation: Type.Union([Type.String(), Type.Null()], { description: "The served variation's key; null: evaluations that served no variation (errors)" }),
  count: Type.Integer(),
});
const VariationCounts = (description: string) => Type.Array(VariationCountSchema, { description });

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
    byFlagVariation: Type.Array(
      Type.Object({
        projectId: Type.String(),
        projectKey: Type.String(),
        flagKey: Type.String(),
        count: Type.Integer({ description: "The flag's evaluations in the period (as in byFlag)" }),
        variations: VariationCounts('What the evaluations served, most served first'),
      }),
      { description: 'byFlag, in the same order, with each flag\'s count per served variation; per day: GET /api/v1/projects/{project_id}/flags/{flag_key}/usage' },
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

/** `GET /api/v1/projects/{project_id}/flags/{flag_key}/usage`. */
export const FlagUsageSchema = Type.Object({
  projectId: Type.String({ description: 'proj_…' }),
  projectKey: Type.String(),
  flagKey: Type.String(),
  environment: Type.Union([Type.Object({ environmentId: Type.String({ description: 'env_…' }), environment: Type.String({ description: 'The environment key' }) }), Type.Null()], {
    description: 'The environment the counts are limited to (`?environment=`); null: every environment of the project',
  }),
  period: Type.Object({ from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }) }),
  used: Type.Integer({ description: "The flag's evaluations in the period" }),
  variations: VariationCounts(
    "Per variation over the period: every variation of the flag in the flag's order (zeros included), then variations counted but deleted since (by key), then null when some evaluations served none. byDay and byEnvironment list the same variations in the same order.",
  ),
  byDay: Type.Array(Type.Object({ day: Type.String({ format: 'date' }), count: Type.Integer(), variations: VariationCounts('Per variation that day') }), {
    description: 'Every day of the period, oldest first, zeros included',
  }),
  byEnvironment: Type.Array(
    Type.Object({ environmentId: Type.String({ description: 'env_…' }), environment: Type.String(), count: Type.Integer(), variations: VariationCounts('Per variation in that environment') }),
    { description: 'Environments the flag was evaluated in, most evaluated first' },
  ),
});

export const FlagUsageQuery = Type.Object(
  {
    from: UsageQuery.properties.from,
    to: UsageQuery.properties.to,
    environment: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only this environment of the project: its key, env_… or the number; default every environment' })),
  },
  { additionalProperties: false },
);

const variationsBody = (v: VariationCount[]) => v.map((c) => ({ variation: c.variation, count: c.count }));

function toFlagUsageBody(r: FlagUsageReport) {
  return {
    projectId: formatId('project', r.projectId),
    projectKey: r.projectKey,
    flagKey: r.flagKey,
    environment: r.environment ? { environmentId: formatId('environment', r.environment.environmentId), environment: r.environment.environmentKey } : null,
    period: { from: r.from, to: r.to },
    used: r.used,
    variations: variationsBody(r.variations),
    byDay: r.byDay.map((d) => ({ day: d.day, count: d.count, variations: variationsBody(d.variations) })),
    byEnvironment: r.byEnvironment.map((e) => ({ environmentId: formatId('environment', e.environmentId), environment: e.environmentKey, count: e.count, variations: variationsBody(e.variations) })),
  };
}

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
      byFlagVariation: r.evaluations.byFlagVariation.map((f) => ({
        projectId: formatId('project', f.projectId),
        projectKey: f.projectKey,
        flagKey: f.flagKey,
        count: f.count,
        variations: variationsBody(f.variations),
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

  app.get('/api/v1/projects/:project_id/flags/:flag_key/usage', {
    schema: {
      operationId: 'getFlagUsage',
      tags,
      summary: "One flag's evaluations per variation, per day and per environment in a period (stored and not yet flushed); usage:read",
      description:
        'The period is as for GET /api/v1/usage (UTC days, inclusive; default the first of the month to today; at most 366 days): a malformed day or an unknown parameter is 400, `from` after `to` or a too long period 422 naming `from`. A project of another organisation, an unknown flag or environment: 404.',
      security: bearer,
      params: FlagParams,
      querystring: FlagUsageQuery,
      response: { 200: FlagUsageSchema, ...problems(400, 401, 403, 404, 422) },
    },
  }, async (request) => {
    const { project_id, flag_key } = request.params;
    const { from, to, environment } = request.query;
    return toFlagUsageBody(await usage.flagReport(requireActor(request), project_id, flag_key, { from, to, environment }));
  });
};
