import type { AuditLogEntry } from '../../features/audit/audit-query-service.js';
import type { FlagView } from '../../features/flags/flag-service.js';
import type { Variation } from '../../features/flags/flag-store.js';
import type { ProjectMemberWithUser } from '../../features/projects/project-member-store.js';
import type { ProjectView } from '../../features/projects/project-service.js';
import type { Environment } from '../../features/projects/project-store.js';
import { formatId, type IdKind } from './ids.js';

export function toProjectBody(p: ProjectView) {
  return {
    id: formatId('project', p.id),
    key: p.key,
    name: p.name,
    description: p.description,
    color: p.color,
    flagCount: p.flagCount,
    isDefault: p.isDefault,
    organizationId: formatId('organization', p.organizationId),
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

export function toEnvironmentBody(e: Environment) {
  return {
    id: formatId('environment', e.id),
    key: e.key,
    name: e.name,
    color: e.color,
    position: e.position,
    projectId: formatId('project', e.projectId),
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

export function toProjectMemberBody(m: ProjectMemberWithUser) {
  return {
    userId: formatId('user', m.userId),
    email: m.email,
    name: m.name,
    role: m.role,
    projectId: formatId('project', m.projectId),
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}

export function toVariationBody(v: Variation) {
  return { id: formatId('variation', v.id), key: v.key, name: v.name, value: v.value, description: v.description, weight: v.weight };
}

export function toFlagBody(view: FlagView) {
  const f = view.flag;
  return {
    id: formatId('flag', f.id),
    key: f.key,
    name: f.name,
    type: f.type,
    enabled: view.enabled,
    environment: view.environment?.key ?? null,
    defaultValue: view.defaultValue,
    defaultVariation: f.defaultVariation,
    description: f.description,
    tags: f.tags,
    status: f.status,
    metadata: f.metadata,
    projectId: formatId('project', f.projectId),
    variations: f.variations.map(toVariationBody),
    version: f.version,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
    archivedAt: f.archivedAt,
  };
}

/** The strong ETag of a flag version. */
export function flagEtag(version: number): string {
  return `"${version}"`;
}

/**
 * The version an `If-Match` header asks for: undefined when absent or `*` (any), the number of
 * `"7"`, `W/"7"` or `7`, and -1 (never matches, so 412) for anything else.
 */
export function expectedVersionOf(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined) return undefined;
  const raw = ifMatch.trim();
  if (raw === '*') return undefined;
  const m = /^(?:W\/)?"?([0-9]{1,15})"?$/.exec(raw);
  return m ? Number(m[1]) : -1;
}

const resourceKinds: Record<string, IdKind> = {
  flag: 'flag',
  project: 'project',
  environment: 'environment',
  project_member: 'user',
  member: 'user',
  segment: 'segment',
  rule: 'rule',
  api_key: 'apiKey',
  variation: 'variation',
  organization: 'organization',
};

function resourceIdOf(type: string, id: string | null): string | null {
  if (id === null) return null;
  const kind = resourceKinds[type];
  return kind && /^[1-9]\d{0,15}$/.test(id) ? formatId(kind, Number(id)) : id;
}

function userIdOf(e: AuditLogEntry): string | null {
  return e.actorType === 'user' && e.actorId !== null ? formatId('user', e.actorId) : null;
}

export function toAuditEntryBody(e: AuditLogEntry) {
  return {
    id: formatId('audit', e.id),
    action: e.action,
    resourceType: e.resourceType,
    resourceId: resourceIdOf(e.resourceType, e.resourceId),
    actorType: e.actorType,
    userId: userIdOf(e),
    userName: e.userName,
    before: e.before,
    after: e.after,
    changes: e.changes,
    timestamp: e.createdAt,
  };
}

/** IntelliToggle's history shape: the flag's own actions without the `flag.` prefix (`enabled`). */
export function toFlagHistoryBody(e: AuditLogEntry) {
  return {
    id: formatId('audit', e.id),
    action: e.action.startsWith('flag.') ? e.action.slice(5) : e.action,
    changes: e.changes,
    userId: userIdOf(e),
    userName: e.userName,
    timestamp: e.createdAt,
  };
}
