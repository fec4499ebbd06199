/**
 * The permission vocabulary: every organisation-level capability a role can grant and a token
 * scope can narrow. Services ask for exactly one of these per operation through
 * `AccessService.require`. Reading environments falls under `projects:read`, reading segments
 * under `flags:read`.
 */
export const permissions = [
  'organization:read',
  'organization:write',
  'organization:delete',
  'members:read',
  'members:write',
  'roles:read',
  'roles:write',
  'invitations:read',
  'invitations:write',
  'projects:read',
  'projects:write',
  'environments:write',
  'flags:read',
  'flags:write',
  'flags:evaluate',
  'segments:write',
  'api_keys:read',
  'api_keys:write',
  'audit:read',
  'billing:read',
  'billing:write',
  'usage:read',
  'exports:write',
  'mail:read',
] as const;

/** One permission of the vocabulary. */
export type Permission = (typeof permissions)[number];

const known = new Set<string>(permissions);

/** True when `value` names a permission of the vocabulary. */
export function isPermission(value: string): value is Permission {
  return known.has(value);
}

/** A role an organisation member can hold: built in (fixed in code) or custom (stored per organisation). */
export interface RoleDefinition {
  /** Null for built-in roles, which are not stored. */
  id: number | null;
  organizationId: number | null;
  key: string;
  name: string;
  description: string | null;
  permissions: Permission[];
  builtIn: boolean;
  createdAt: string | null;
  updatedAt: string | null;
}

const viewerPermissions: Permission[] = [
  'organization:read',
  'members:read',
  'roles:read',
  'projects:read',
  'flags:read',
  'flags:evaluate',
  'audit:read',
  'usage:read',
];

const developerPermissions: Permission[] = [
  ...viewerPermissions,
  'projects:write',
  'environments:write',
  'flags:write',
  'segments:write',
  'api_keys:read',
  'api_keys:write',
  'exports:write',
];

function builtIn(key: string, name: string, description: string, granted: readonly Permission[]): RoleDefinition {
  // Keep the vocabulary's order so listings are stable.
  const set = new Set(granted);
  return {
    id: null,
    organizationId: null,
    key,
    name,
    description,
    permissions: permissions.filter((p) => set.has(p)),
    builtIn: true,
    createdAt: null,
    updatedAt: null,
  };
}

/** The built-in organisation roles, as IntelliToggle describes them. */
export const builtInRoles: readonly RoleDefinition[] = [
  builtIn('admin', 'Admin', 'Full access to all features', permissions),
  builtIn('developer', 'Developer', 'Can manage flags and projects', developerPermissions),
  builtIn('viewer', 'Viewer', 'Read-only access', viewerPermissions),
];

/** The built-in role with this key, if any. */
export function builtInRole(key: string): RoleDefinition | null {
  return builtInRoles.find((r) => r.key === key) ?? null;
}

/** Platform roles (operators of the whole server), weakest first. */
export const platformRoles = ['viewer', 'admin', 'super_user'] as const;
export type PlatformRole = (typeof platformRoles)[number];
