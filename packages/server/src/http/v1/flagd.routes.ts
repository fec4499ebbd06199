import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireActor } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';

const tags = ['flagd'];
const path = '/api/v1/projects/:project_id/environments/:environment/flagd';

const Params = Type.Object({
  project_id: Type.String({ maxLength: 200, description: 'proj_…, the number, or the project key' }),
  environment: Type.String({ maxLength: 200, description: 'env_…, the number, or the environment key' }),
});
const ImportQuery = Type.Object({
  dryRun: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: report what would change and write nothing' })),
});
const FlagdDocumentBody = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    flags: Type.Record(Type.String(), Type.Unknown(), { description: 'flagd flag definitions by key' }),
    $evaluators: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: true, description: 'A flagd flag-definition document (flagd.dev/reference/flag-definitions)' },
);
const Action = Type.Union([Type.Literal('created'), Type.Literal('replaced'), Type.Literal('unchanged')]);
const ImportReport = Type.Object({
  dryRun: Type.Boolean(),
  environment: Type.String(),
  flags: Type.Array(Type.Object({ key: Type.String(), action: Action })),
  summary: Type.Object({ created: Type.Integer(), replaced: Type.Integer(), unchanged: Type.Integer() }),
});
const FlagdFlagSchema = Type.Object({
  state: Type.Union([Type.Literal('ENABLED'), Type.Literal('DISABLED')]),
  variants: Type.Record(Type.String(), Type.Unknown()),
  defaultVariant: Type.Union([Type.String(), Type.Null()]),
  targeting: Type.Optional(Type.Unknown()),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
});
const FlagdExportBody = Type.Object({
  $schema: Type.String(),
  flags: Type.Record(Type.String(), FlagdFlagSchema),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
});

/**
 * `/api/v1/projects/{project_id}/environments/{environment}/flagd`: import a flagd document into
 * one environment (POST; `?dryRun=true` plans only) and export the environment as one (GET).
 */
export const flagdRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { flagd } = app.services;

  app.post(path, {
    schema: {
      operationId: 'importFlagd',
      tags,
      summary: "Import a flagd document: its flags are created or replaced in this environment, others untouched; 422 names every offending path",
      security: bearer,
      params: Params,
      querystring: ImportQuery,
      body: FlagdDocumentBody,
      response: { 200: ImportReport, ...problems(400, 401, 403, 404, 422) },
    },
  }, async (request) => {
    const { project_id, environment } = request.params;
    return flagd.import(requireActor(request), project_id, environment, request.body, { dryRun: request.query.dryRun === 'true' });
  });

  app.get(path, {
    schema: {
      operationId: 'exportFlagd',
      tags,
      summary: 'The environment as a flagd document (flags JSONLogic cannot express are left out and named in metadata.switchyardOmitted)',
      security: bearer,
      params: Params,
      response: { 200: FlagdExportBody, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const { project_id, environment } = request.params;
    const { document } = await flagd.export(requireActor(request), project_id, environment);
    return document as never;
  });
};
