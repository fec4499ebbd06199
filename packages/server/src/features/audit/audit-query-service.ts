import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ValidationError } from '../../domain/errors.js';
import type { FlagRef, FlagService } from '../flags/flag-service.js';
import type { FlagStore } from '../flags/flag-store.js';
import type { ProjectAccessService, ProjectRef } from '../projects/project-access.js';
import type { AuditQuery, AuditQueryStore, AuditRecord } from './audit-query-store.js';

/** One field's change: its value before and after (null where it had none). */
export interface FieldChange {
  from: unknown;
  to: unknown;
}

/** An audit event as the audit log and histories show it. */
export interface AuditLogEntry extends AuditRecord {
  /** Every field in `before` or `after`, with both values. */
  changes: Record<string, FieldChange>;
  /**
   * For events about a flag (`resourceType: flag`): its key — the current one, or for a deleted
   * flag the key its events recorded. Null for other resources.
   */
  flagKey: string | null;
}

/** Filters of a project's audit log. `flag` is a flag key, or `flag_123` for a flag that may be gone. */
export interface AuditLogFilter {
  flag?: string;
  userId?: number;
  action?: string;
  /** ISO-8601 times, inclusive. */
  from?: string;
  to?: string;
}

/** Pairs up the changed fields of an event. */
export function changesOf(before: Record<string, unknown> | null, after: Record<string, unknown> | null): Record<string, FieldChange> {
  const out: Record<string, FieldChange> = {};
  for (const k of new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])) {
    out[k] = { from: before && k in before ? before[k] : null, to: after && k in after ? after[k] : null };
  }
  return out;
}

function isoOrThrow(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ValidationError(`${field} must be an ISO-8601 time`, { [field]: 'must be an ISO-8601 time' }, 'bad_request');
  return new Date(t).toISOString();
}

/**
 * The reading side of audit events: a project's audit log and a flag's history. Both need
 * `audit:read` in the project. Reusable by any surface (v1, IntelliToggle, Flipswitch).
 */
export class AuditQueryService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly projectAccess: ProjectAccessService,
    private readonly flagService: FlagService,
    private readonly flags: FlagStore,
    private readonly store: AuditQueryStore,
  ) {}

  /** The project's audit events, newest first, filtered; `X-Total-Count` is `total`. */
  async projectLog(actor: Actor, projectRef: ProjectRef, filter: AuditLogFilter, page: { limit?: number; offset?: number } = {}): Promise<{ items: AuditLogEntry[]; total: number }> {
    const from = isoOrThrow('from', filter.from);
    const to = isoOrThrow('to', filter.to);
    const { project } = await this.projectAccess.require(actor, projectRef, 'audit:read');
    const query: AuditQuery = { organizationId: project.organizationId, projectId: project.id };
    if (filter.flag !== undefined) {
      const idForm = /^flag_[1-9]\d{0,15}$/.exec(filter.flag);
      const flagId = idForm ? Number(filter.flag.slice(5)) : (await this.flags.findByKey(this.db, project.id, filter.flag))?.id;
      // An unknown key matches nothing (an empty page), as any other filter would.
      if (flagId === undefined) return { items: [], total: 0 };
      query.resourceType = 'flag';
      query.resourceId = String(flagId);
    }
    if (filter.userId !== undefined) query.userId = filter.userId;
    if (filter.action !== undefined) query.action = filter.action;
    if (from !== undefined) query.from = from;
    if (to !== undefined) query.to = to;
    return this.page(query, page);
  }

  /** A flag's history (its own events and flag-scoped targeting events), newest first. */
  async flagHistory(actor: Actor, ref: FlagRef, page: { limit?: number; offset?: number } = {}): Promise<{ items: AuditLogEntry[]; total: number }> {
    const { project, flag } = await this.flagService.requireFlag(actor, ref, 'audit:read');
    return this.page({ organizationId: project.organizationId, projectId: project.id, resourceType: 'flag', resourceId: String(flag.id) }, page);
  }

  private async page(query: AuditQuery, page: { limit?: number; offset?: number }): Promise<{ items: AuditLogEntry[]; total: number }> {
    const result = await this.store.list(this.db, query, { limit: page.limit ?? 100, offset: page.offset ?? 0 });
    const flagIds = result.items.filter((r) => r.resourceType === 'flag' && r.resourceId !== null && /^\d+$/.test(r.resourceId)).map((r) => Number(r.resourceId));
    const keys = await this.flags.keysByIds(this.db, flagIds);
    const gone = flagIds.filter((id) => !keys.has(id));
    const recorded = gone.length > 0 ? await this.store.recordedFlagKeys(this.db, query.organizationId, gone) : new Map<number, string>();
    const flagKeyOf = (r: AuditRecord): string | null => {
      if (r.resourceType !== 'flag' || r.resourceId === null) return null;
      const id = Number(r.resourceId);
      return keys.get(id) ?? recorded.get(id) ?? null;
    };
    return { items: result.items.map((r) => ({ ...r, changes: changesOf(r.before, r.after), flagKey: flagKeyOf(r) })), total: result.total };
  }
}
