import { Type } from 'typebox';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const timestamp = Type.String({ format: 'date-time' });
const json = Type.Unknown({ description: 'Engine configuration (see the engine section of the README)' });
const Status = Type.Union([Type.Literal('pending'), Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]);

/** An export job. */
export const ExportJobSchema = Type.Object({
  id: Type.String({ description: 'exp_…' }),
  status: Status,
  projectId: nullable(Type.String({ description: 'proj_…; null: the whole organisation' })),
  createdAt: timestamp,
  startedAt: nullable(timestamp),
  completedAt: nullable(timestamp),
  error: nullable(Type.String()),
});

/** `POST /api/v1/exports` answers just this. */
export const StartedExportSchema = Type.Object({ id: Type.String({ description: 'exp_…' }), status: Status });

export const StartExportBody = Type.Object(
  { projectId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'proj_…, the number or the project key; absent: the whole organisation' })) },
  { additionalProperties: false },
);

export const ExportParams = Type.Object({ id: Type.String({ maxLength: 64, description: 'exp_… or the number' }) });

const Rule = Type.Object({
  description: nullable(Type.String({ maxLength: 2000 })),
  conditions: Type.Array(json, { maxItems: 1000 }),
  segments: Type.Array(Type.String({ maxLength: 200 }), { maxItems: 1000 }),
  serve: json,
});

const FlagEnvironment = Type.Object({
  enabled: Type.Boolean(),
  offVariation: nullable(Type.String({ maxLength: 200 })),
  defaultServe: Type.Union([json]),
  targets: Type.Array(json, { maxItems: 10000 }),
  prerequisites: Type.Array(json, { maxItems: 1000 }),
  targeting: json,
  flagd: Type.Optional(Type.Boolean()),
  defaultVariation: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
  rules: Type.Array(Rule, { maxItems: 1000 }),
});

const Flag = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 200 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: nullable(Type.String({ maxLength: 2000 })),
  type: Type.String({ maxLength: 20 }),
  defaultVariation: Type.String({ minLength: 1, maxLength: 200 }),
  tags: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 1000 }),
  status: Type.String({ maxLength: 20 }),
  metadata: nullable(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
  variations: Type.Array(
    Type.Object({
      key: Type.String({ minLength: 1, maxLength: 200 }),
      name: Type.String({ minLength: 1, maxLength: 200 }),
      value: json,
      description: nullable(Type.String({ maxLength: 2000 })),
      weight: nullable(Type.Number()),
    }),
    { maxItems: 1000 },
  ),
  environments: Type.Record(Type.String(), FlagEnvironment),
});

const Project = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 100 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: nullable(Type.String({ maxLength: 2000 })),
  color: nullable(Type.String({ pattern: '^#[0-9a-fA-F]{6}$' })),
  isDefault: Type.Boolean(),
  environments: Type.Array(Type.Object({ key: Type.String({ minLength: 1, maxLength: 200 }), name: Type.String({ minLength: 1, maxLength: 200 }), color: nullable(Type.String({ pattern: '^#[0-9a-fA-F]{6}$' })) }), { maxItems: 100 }),
  segments: Type.Array(
    Type.Object({
      key: Type.String({ minLength: 1, maxLength: 200 }),
      name: Type.String({ minLength: 1, maxLength: 200 }),
      description: nullable(Type.String({ maxLength: 2000 })),
      conditions: Type.Array(json, { maxItems: 1000 }),
      included: Type.Array(Type.String(), { maxItems: 100000 }),
      excluded: Type.Array(Type.String(), { maxItems: 100000 }),
    }),
    { maxItems: 10000 },
  ),
  flags: Type.Array(Flag, { maxItems: 100000 }),
});

/** The export document (`format` `switchyard.export`, `version` 1): what download answers and import takes. */
export const ExportDocumentSchema = Type.Object(
  {
    format: Type.Literal('switchyard.export'),
    version: Type.Literal(1),
    exportedAt: timestamp,
    source: Type.Object({ organizationId: Type.Integer(), organizationName: Type.String(), projectKey: nullable(Type.String()) }),
    environments: Type.Array(Type.Object({ key: Type.String({ minLength: 1, maxLength: 200 }), name: Type.String({ minLength: 1, maxLength: 200 }) }), { maxItems: 100 }),
    projects: Type.Array(Project, { maxItems: 10000 }),
    auditLog: Type.Array(
      Type.Object({
        createdAt: timestamp,
        projectKey: nullable(Type.String()),
        actorType: Type.String({ maxLength: 50 }),
        actorId: nullable(Type.Integer()),
        action: Type.String({ maxLength: 200 }),
        resourceType: Type.String({ maxLength: 200 }),
        resourceId: nullable(Type.String({ maxLength: 200 })),
        before: nullable(Type.Record(Type.String(), Type.Unknown())),
        after: nullable(Type.Record(Type.String(), Type.Unknown())),
      }),
      { maxItems: 1_000_000 },
    ),
  },
  { description: 'A Switchyard export: projects, environments, segments, flags with variations, per-environment configuration and rules, and the audit log' },
);

/** The body of `POST /api/v1/imports`: the document, or `{document, dryRun}`. */
export const ImportBody = Type.Union([
  ExportDocumentSchema,
  Type.Object({ document: ExportDocumentSchema, dryRun: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
]);

export const ImportQuery = Type.Object(
  { dryRun: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: report what would change and write nothing' })) },
  { additionalProperties: false },
);

export const ImportReportSchema = Type.Object({
  dryRun: Type.Boolean(),
  changes: Type.Array(
    Type.Object({
      entity: Type.Union([Type.Literal('environment_template'), Type.Literal('project'), Type.Literal('environment'), Type.Literal('segment'), Type.Literal('flag')]),
      project: nullable(Type.String()),
      key: Type.String(),
      action: Type.Union([Type.Literal('create'), Type.Literal('update'), Type.Literal('unchanged')]),
    }),
  ),
  summary: Type.Object({ create: Type.Integer(), update: Type.Integer(), unchanged: Type.Integer() }),
  auditEvents: Type.Integer({ description: 'Audit events of the document added to the log (those already there are skipped)' }),
});
