/**
 * v1 renders every numeric id with a type prefix, as IntelliToggle's examples do (`tenant_123`,
 * `usr_123`, `proj_123`, `flag_123`, `var_123`), and accepts either form back.
 */
export const idPrefixes = {
  organization: 'tenant',
  user: 'usr',
  project: 'proj',
  environment: 'env',
  flag: 'flag',
  variation: 'var',
  rule: 'rule',
  segment: 'seg',
  apiKey: 'key',
  oauthClient: 'client',
  role: 'role',
  invitation: 'inv',
  mail: 'mail',
  audit: 'hist',
  notification: 'ntf',
  export: 'exp',
} as const;

export type IdKind = keyof typeof idPrefixes;

/** `formatId('organization', 42)` → `tenant_42`. */
export function formatId(kind: IdKind, id: number): string {
  return `${idPrefixes[kind]}_${id}`;
}

/**
 * Reads an id given as `tenant_42` or `42`; returns null for anything else (wrong prefix,
 * not an integer, beyond 2^53), which callers answer as not found.
 */
export function parseId(kind: IdKind, raw: string | undefined | null): number | null {
  if (raw === undefined || raw === null) return null;
  const prefix = `${idPrefixes[kind]}_`;
  const digits = raw.startsWith(prefix) ? raw.slice(prefix.length) : raw;
  if (!/^[1-9]\d{0,15}$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}
