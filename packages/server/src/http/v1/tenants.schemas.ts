import { Type } from 'typebox';
import { PageQuery } from './paging.js';
import { tenantIdHeader } from './tenant-context.js';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const timestamp = Type.String({ format: 'date-time' });

/** A tenant (organisation) as IntelliToggle shows it, plus the caller's role. */
export const TenantSchema = Type.Object({
  id: Type.String({ description: 'tenant_…' }),
  name: Type.String(),
  primaryEmail: nullable(Type.String()),
  contactName: nullable(Type.String()),
  isSandbox: Type.Boolean(),
  sandboxExpiresAt: nullable(timestamp),
  subscription: Type.Object({
    plan: Type.String({ description: 'self-hosted: a self-hosted server bills nobody' }),
    status: Type.String({ description: 'Always active' }),
  }),
  role: nullable(Type.String({ description: "The caller's role here; null for machine credentials" })),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export const TenantListSchema = Type.Array(TenantSchema);

export const CreateTenantBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    primaryEmail: Type.Optional(nullable(Type.String({ maxLength: 320 }))),
    contactName: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
    isSandbox: Type.Optional(Type.Boolean({ description: 'A sandbox tenant (default false)' })),
  },
  { additionalProperties: false },
);

export const UpdateTenantBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    primaryEmail: Type.Optional(nullable(Type.String({ maxLength: 320 }))),
    contactName: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
  },
  { additionalProperties: false, description: 'Absent = unchanged, null = cleared (name cannot be cleared)' },
);

const tenantId = Type.String({ maxLength: 64, description: 'tenant_… or the number' });
export const TenantParams = Type.Object({ tenantId });
export const TenantEnvironmentParams = Type.Object({ tenantId, environment: Type.String({ minLength: 1, maxLength: 1000, description: 'The environment key' }) });
export const TenantUserParams = Type.Object({ tenantId, userId: Type.String({ maxLength: 64, description: 'usr_… or the number' }) });

/** `X-Tenant-ID` on the tenant routes: where given it must name the path's tenant. */
export const TenantHeaders = Type.Object({ 'x-tenant-id': Type.Optional(tenantIdHeader) });

export const TenantUsageSchema = Type.Object({
  flags: Type.Integer({ description: 'Flags that are not archived, across every project' }),
  evaluations: Type.Integer({ description: 'Evaluations served this UTC calendar month' }),
  users: Type.Integer({ description: 'Members' }),
  period: Type.Object({ from: Type.String({ description: 'YYYY-MM-DD, the first of the month' }), to: Type.String({ description: 'YYYY-MM-DD, today' }) }),
});

export const EnvironmentNamesSchema = Type.Array(Type.String(), { description: "The tenant's environment keys in order" });
export const AddEnvironmentBody = Type.Object(
  { environment: Type.String({ maxLength: 1000, description: '[A-Za-z0-9._-]{1,200}' }) },
  { additionalProperties: false },
);

export const TenantUserSchema = Type.Object({
  userId: Type.String({ description: 'usr_…' }),
  email: Type.String(),
  displayName: nullable(Type.String()),
  role: Type.String({ description: 'admin, developer, viewer (or a custom role key)' }),
  lastAccessedAt: nullable(timestamp),
  createdAt: timestamp,
});
export const TenantUserListSchema = Type.Array(TenantUserSchema);
export const TenantUserListQuery = Type.Object(PageQuery);

export const AddTenantUserBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320 }),
    role: Type.Union([Type.Literal('admin'), Type.Literal('developer'), Type.Literal('viewer')], { description: 'admin, developer or viewer' }),
  },
  { additionalProperties: false },
);

/** An added member (`status: active`) or, for an email without an account, the invitation sent (`status: invited`). */
export const AddedTenantUserSchema = Type.Object({
  userId: nullable(Type.String({ description: 'usr_…; null while invited' })),
  email: Type.String(),
  displayName: nullable(Type.String()),
  role: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('invited')]),
  invitationId: nullable(Type.String({ description: 'inv_… when invited' })),
  invitationExpiresAt: nullable(timestamp),
  lastAccessedAt: nullable(timestamp),
  createdAt: timestamp,
});
