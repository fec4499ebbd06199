import { Type } from 'typebox';
import { PageQuery } from './paging.js';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const timestamp = Type.String({ format: 'date-time' });
const anyJson = (description: string) => Type.Unknown({ description });

/** `{project_id}`: `proj_123`, `123` or the project key. */
export const ProjectParams = Type.Object({ project_id: Type.String({ minLength: 1, maxLength: 200, description: 'proj_…, the number, or the project key' }) });

export const ProjectSchema = Type.Object({
  id: Type.String({ description: 'proj_…' }),
  key: Type.String({ description: 'kebab-case, unique in the organisation' }),
  name: Type.String(),
  description: nullable(Type.String()),
  color: nullable(Type.String({ description: '#rrggbb' })),
  flagCount: Type.Integer({ description: 'Flags that are not archived' }),
  isDefault: Type.Boolean({ description: "The organisation's default project (where flags created without a project go); cannot be deleted" }),
  organizationId: Type.String({ description: 'tenant_…' }),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export const ProjectListSchema = Type.Array(ProjectSchema);

export const CreateProjectBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    key: Type.Optional(Type.String({ maxLength: 1000, description: 'kebab-case (a-z, 0-9, single dashes), at most 100, not only digits; default: the name in kebab-case' })),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    color: Type.Optional(nullable(Type.String({ maxLength: 100, description: '#rrggbb' }))),
  },
  { additionalProperties: false },
);

export const UpdateProjectBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    color: Type.Optional(nullable(Type.String({ maxLength: 100, description: '#rrggbb' }))),
  },
  { additionalProperties: false, description: 'Absent = unchanged, null = cleared; the key never changes' },
);

export const ProjectMemberParams = Type.Object({ ...ProjectParams.properties, user_id: Type.String({ maxLength: 64, description: 'usr_… or the number' }) });

export const ProjectMemberSchema = Type.Object({
  userId: Type.String({ description: 'usr_…' }),
  email: Type.String(),
  name: nullable(Type.String()),
  role: Type.Union([Type.Literal('admin'), Type.Literal('member')]),
  projectId: Type.String(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export const ProjectMemberListSchema = Type.Array(ProjectMemberSchema);

const userIdPattern = '^(usr_)?[1-9][0-9]{0,15}$';

export const AddProjectMemberBody = Type.Object(
  {
    userId: Type.Optional(Type.String({ pattern: userIdPattern, description: 'usr_… or the number; an organisation member (or give email)' })),
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 320, description: "An organisation member's email (or give userId)" })),
    role: Type.String({ minLength: 1, maxLength: 64, description: 'admin or member' }),
  },
  { additionalProperties: false },
);

export const ChangeProjectRoleBody = Type.Object({ role: Type.String({ minLength: 1, maxLength: 64, description: 'admin or member' }) }, { additionalProperties: false });

export const EnvironmentParams = Type.Object({ ...ProjectParams.properties, environment_id: Type.String({ minLength: 1, maxLength: 200, description: 'env_…, the number, or the environment key' }) });

export const EnvironmentSchema = Type.Object({
  id: Type.String({ description: 'env_…' }),
  key: Type.String(),
  name: Type.String(),
  color: nullable(Type.String()),
  position: Type.Integer(),
  projectId: Type.String(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export const EnvironmentListSchema = Type.Array(EnvironmentSchema);

export const CreateEnvironmentBody = Type.Object(
  {
    key: Type.String({ maxLength: 1000, description: '[A-Za-z0-9._-]{1,200}, unique in the project; never changes' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Default: the key' })),
    color: Type.Optional(nullable(Type.String({ maxLength: 100, description: '#rrggbb' }))),
  },
  { additionalProperties: false },
);

export const UpdateEnvironmentBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    color: Type.Optional(nullable(Type.String({ maxLength: 100, description: '#rrggbb' }))),
  },
  { additionalProperties: false, description: 'Absent = unchanged, null = cleared; the key never changes' },
);

export const FlagParams = Type.Object({ ...ProjectParams.properties, flag_key: Type.String({ minLength: 1, maxLength: 1000, description: 'The flag key' }) });
export const VariationParams = Type.Object({ ...FlagParams.properties, variation_id: Type.String({ minLength: 1, maxLength: 1000, description: 'var_…, the number, or the variation key' }) });

export const VariationSchema = Type.Object({
  id: Type.String({ description: 'var_…' }),
  key: Type.String({ description: 'Stable handle rules and the engine use; never changes' }),
  name: Type.String(),
  value: anyJson("The variation's value (of the flag's type)"),
  description: nullable(Type.String()),
  weight: nullable(Type.Integer({ description: 'Informational weight, 0 to 100' })),
});
export const VariationListSchema = Type.Array(VariationSchema);

export const FlagSchema = Type.Object({
  id: Type.String({ description: 'flag_…' }),
  key: Type.String(),
  name: Type.String(),
  type: Type.Union([Type.Literal('boolean'), Type.Literal('string'), Type.Literal('number'), Type.Literal('json')]),
  enabled: Type.Boolean({ description: 'Enabled in `environment` (the requested one, default production)' }),
  environment: nullable(Type.String({ description: 'Key of the environment `enabled` refers to; null when the project has no production environment' })),
  defaultValue: anyJson("The default variation's value"),
  defaultVariation: Type.String({ description: 'Key of the default variation' }),
  description: nullable(Type.String()),
  tags: Type.Array(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('inactive'), Type.Literal('archived')]),
  metadata: nullable(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
  projectId: Type.String({ description: 'proj_…' }),
  variations: VariationListSchema,
  version: Type.Integer({ description: 'Also the ETag; send it back in If-Match' }),
  createdAt: timestamp,
  updatedAt: timestamp,
  archivedAt: nullable(timestamp),
});
export const FlagListSchema = Type.Array(FlagSchema);

const environmentQuery = Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Environment key (or env_… id) whose `enabled` is shown; also X-Environment; default production' }));

export const FlagListQuery = Type.Object({
  ...PageQuery,
  tag: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Only flags with this tag (case-insensitive)' })),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('inactive'), Type.Literal('archived')])),
  search: Type.Optional(Type.String({ maxLength: 200, description: 'Case-insensitive substring of key, name or description' })),
  environment: environmentQuery,
});

export const EnvironmentQuery = Type.Object({ environment: environmentQuery });

export const FlagReadHeaders = Type.Object({ 'x-environment': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) });
export const FlagWriteHeaders = Type.Object({
  'x-environment': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  'if-match': Type.Optional(Type.String({ maxLength: 200, description: 'The ETag (flag version) last read; a stale one answers 412' })),
});

const NewVariationBody = Type.Object(
  {
    key: Type.Optional(Type.String({ maxLength: 1000, description: '[A-Za-z0-9._-]{1,200}; default: the name in kebab-case' })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    value: anyJson("Of the flag's type"),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    weight: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 100 }))),
  },
  { additionalProperties: false },
);
const VariationsBody = Type.Array(NewVariationBody, { maxItems: 1000, description: 'At most 1000' });
const MetadataBody = nullable(Type.Record(Type.String({ maxLength: 200 }), Type.Union([Type.String({ maxLength: 2000 }), Type.Number(), Type.Boolean()]), { maxProperties: 100 }));

export const CreateFlagBody = Type.Object(
  {
    key: Type.String({ maxLength: 1000, description: '[A-Za-z0-9._-]{1,200}, unique in the project; never changes' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Default: the key' })),
    type: Type.String({ maxLength: 20, description: 'boolean, string, number or json; never changes' }),
    defaultValue: Type.Optional(anyJson('Picks the default variation by value; without variations, non-boolean flags get one variation `default` with it')),
    defaultVariation: Type.Optional(Type.String({ maxLength: 200, description: 'Picks the default variation by key' })),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 1000 })),
    variations: Type.Optional(VariationsBody),
    flag_variations: Type.Optional(VariationsBody),
    status: Type.Optional(Type.String({ maxLength: 20, description: 'active (default) or inactive' })),
    metadata: Type.Optional(MetadataBody),
  },
  { additionalProperties: false, description: 'Boolean flags get `on` (true) and `off` (false) unless variations are given. `flag_variations` is IntelliToggle’s name for `variations`.' },
);

export const UpdateFlagBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    defaultValue: Type.Optional(anyJson('A value one of the variations has; that variation becomes the default')),
    defaultVariation: Type.Optional(Type.String({ maxLength: 200 })),
    tags: Type.Optional(nullable(Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 1000 }))),
    status: Type.Optional(Type.String({ maxLength: 20, description: 'active, inactive or archived' })),
    metadata: Type.Optional(MetadataBody),
  },
  { additionalProperties: false, description: 'Absent = unchanged, null = cleared; key and type never change' },
);

export const CreateVariationBody = NewVariationBody;
export const UpdateVariationBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    value: Type.Optional(anyJson("Of the flag's type")),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    weight: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 100 }))),
  },
  { additionalProperties: false, description: 'Absent = unchanged, null = cleared; the key never changes' },
);

const ChangeSchema = Type.Object({ from: anyJson('Before'), to: anyJson('After') });

export const AuditEntrySchema = Type.Object({
  id: Type.String({ description: 'hist_…' }),
  action: Type.String({ description: 'e.g. flag.created, flag.updated, variation.deleted, rule.created' }),
  resourceType: Type.String(),
  resourceId: nullable(Type.String()),
  actorType: Type.String({ description: 'user, client, api_key or system' }),
  userId: nullable(Type.String({ description: 'usr_… when a user acted' })),
  userName: nullable(Type.String()),
  before: nullable(Type.Record(Type.String(), Type.Unknown())),
  after: nullable(Type.Record(Type.String(), Type.Unknown())),
  changes: Type.Record(Type.String(), ChangeSchema),
  timestamp: timestamp,
});
export const AuditLogSchema = Type.Array(AuditEntrySchema);

export const AuditLogQuery = Type.Object({
  ...PageQuery,
  flag: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'A flag key, or flag_… (also for deleted flags)' })),
  user: Type.Optional(Type.String({ pattern: userIdPattern, description: 'usr_… or the number' })),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Exact action name, e.g. flag.updated' })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'ISO-8601 time, inclusive' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'ISO-8601 time, inclusive' })),
});

export const FlagHistoryEntrySchema = Type.Object({
  id: Type.String({ description: 'hist_…' }),
  action: Type.String({ description: 'Without the `flag.` prefix for the flag’s own events (created, updated, archived, …)' }),
  changes: Type.Record(Type.String(), ChangeSchema),
  userId: nullable(Type.String()),
  userName: nullable(Type.String()),
  timestamp: timestamp,
});
export const FlagHistorySchema = Type.Array(FlagHistoryEntrySchema);
