import { Type } from 'typebox';
import { permissions, type Permission } from '../../features/access/permissions.js';
import { SignedInSchema } from './auth.schemas.js';
import { PageQuery } from './paging.js';
import { ProblemSchema } from './problem.js';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const timestamp = Type.String({ format: 'date-time' });

/** An organisation (IntelliToggle's tenant) as its members see it. */
export const OrganizationSchema = Type.Object({
  id: Type.String({ description: 'tenant_…' }),
  name: Type.String(),
  primaryEmail: nullable(Type.String()),
  contactName: nullable(Type.String()),
  isSandbox: Type.Boolean(),
  plan: Type.String(),
  role: nullable(Type.String({ description: "The caller's role here; null for machine credentials" })),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const OrganizationListSchema = Type.Array(OrganizationSchema);

export const CreateOrganizationBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    primaryEmail: Type.Optional(nullable(Type.String({ maxLength: 320 }))),
    contactName: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
  },
  { additionalProperties: false },
);

/** PATCH: absent = unchanged, null = cleared (`name` cannot be cleared). */
export const UpdateOrganizationBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    primaryEmail: Type.Optional(nullable(Type.String({ maxLength: 320 }))),
    contactName: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
  },
  { additionalProperties: false },
);

export const OrganizationParams = Type.Object({ organizationId: Type.String({ maxLength: 64, description: 'tenant_… or the number' }) });

/** A member of the caller's organisation. */
export const MemberSchema = Type.Object({
  userId: Type.String({ description: 'usr_…' }),
  email: Type.String(),
  name: nullable(Type.String()),
  role: Type.String({ description: 'A built-in (admin, developer, viewer) or custom role key' }),
  joinedAt: timestamp,
  updatedAt: timestamp,
  lastAccessedAt: nullable(timestamp),
});

export const MemberListSchema = Type.Array(MemberSchema);
export const MemberParams = Type.Object({ userId: Type.String({ maxLength: 64, description: 'usr_… or the number' }) });
export const ChangeRoleBody = Type.Object({ role: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

const PermissionSchema = Type.Unsafe<Permission>({ type: 'string', enum: [...permissions], description: 'A permission of the vocabulary' });

/** A role: built in (fixed, `id` null) or custom to the organisation. */
export const RoleSchema = Type.Object({
  id: nullable(Type.String({ description: 'role_… for custom roles; null for built-in ones' })),
  key: Type.String(),
  name: Type.String(),
  description: nullable(Type.String()),
  permissions: Type.Array(Type.String()),
  builtIn: Type.Boolean(),
  createdAt: nullable(timestamp),
  updatedAt: nullable(timestamp),
});

export const RoleListSchema = Type.Array(RoleSchema);

export const CreateRoleBody = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 64, description: 'kebab-case, starting with a letter; cannot change later' }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(nullable(Type.String({ maxLength: 1000 }))),
    permissions: Type.Array(PermissionSchema, { maxItems: 100, uniqueItems: true }),
  },
  { additionalProperties: false },
);

export const UpdateRoleBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    description: Type.Optional(nullable(Type.String({ maxLength: 1000 }))),
    permissions: Type.Optional(Type.Array(PermissionSchema, { maxItems: 100, uniqueItems: true })),
  },
  { additionalProperties: false },
);

export const RoleParams = Type.Object({ role: Type.String({ maxLength: 64, description: 'role_… id, or the role key' }) });

/** An invitation; its token is never shown (it only travels by mail). */
export const InvitationSchema = Type.Object({
  id: Type.String({ description: 'inv_…' }),
  organizationId: Type.String(),
  email: Type.String(),
  role: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('revoked'), Type.Literal('expired')]),
  invitedBy: nullable(Type.String()),
  createdAt: timestamp,
  expiresAt: timestamp,
  acceptedAt: nullable(timestamp),
  acceptedBy: nullable(Type.String()),
});

export const InvitationListSchema = Type.Array(InvitationSchema);
export const InvitationParams = Type.Object({ invitationId: Type.String({ maxLength: 64, description: 'inv_… or the number' }) });

export const InvitationListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('revoked'), Type.Literal('expired')])),
});

export const CreateInvitationBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320 }),
    role: Type.String({ minLength: 1, maxLength: 64, description: 'A built-in or custom role key' }),
  },
  { additionalProperties: false },
);

export const AcceptInvitationBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200 }),
    password: Type.Optional(Type.String({ maxLength: 1024, description: 'Required when you have no account yet (at least 8 characters)' })),
    name: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
  },
  { additionalProperties: false },
);

const loginData = SignedInSchema.properties.data.properties;

/**
 * The login body (as sign-in answers it), acting in the organisation just joined, plus that
 * organisation. The token fields are absent only when the caller is signed in without a
 * Switchyard session (e.g. an external ID token), which cannot be given new tokens.
 */
export const AcceptedInvitationSchema = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  data: Type.Object({
    organization: OrganizationSchema,
    user: Type.Optional(loginData.user),
    subscription: Type.Optional(loginData.subscription),
    tenants: Type.Optional(loginData.tenants),
    active_tenant_id: Type.Optional(loginData.active_tenant_id),
    active_tenant_role: Type.Optional(loginData.active_tenant_role),
    canonical_tenant_id: Type.Optional(loginData.canonical_tenant_id),
    canonical_role: Type.Optional(loginData.canonical_role),
    accessToken: Type.Optional(loginData.accessToken),
    refreshToken: Type.Optional(loginData.refreshToken),
    tokenType: Type.Optional(loginData.tokenType),
    expiresIn: Type.Optional(loginData.expiresIn),
  }),
});

/** A message of the organisation's mail outbox. */
export const OutboxMessageSchema = Type.Object({
  id: Type.String({ description: 'mail_…' }),
  to: Type.String(),
  subject: Type.String(),
  textBody: Type.String(),
  htmlBody: nullable(Type.String()),
  createdAt: timestamp,
  sentAt: nullable(timestamp),
  error: nullable(Type.String()),
});

export const OutboxListSchema = Type.Array(OutboxMessageSchema);
export const PageQuerySchema = Type.Object(PageQuery);

export const DeletedSchema = Type.Object({ success: Type.Boolean(), id: Type.String() });

/** Problem responses for the given statuses, plus those any v1 route can answer (bad input, rate limit). */
export const problems = (...statuses: number[]) =>
  Object.fromEntries([400, 429, ...statuses].map((s) => [s, ProblemSchema])) as Record<number, typeof ProblemSchema>;

/** Every route of these groups needs a user bearer token (or a machine token where scopes allow). */
export const bearer = [{ bearerAuth: [] }];
