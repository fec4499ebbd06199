import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** One stored audit event, with the acting user's name when the actor was a user. */
export interface AuditRecord {
  id: number;
  organizationId: number | null;
  projectId: number | null;
  actorType: string;
  actorId: number | null;
  /** The user's name (or email when unnamed); null for non-user actors or deleted users. */
  userName: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  createdAt: string;
}

/** Filters on audit events; all given ones must hold. Times are ISO-8601 UTC, inclusive. */
export interface AuditQuery {
  organizationId: number;
  projectId?: number;
  resourceType?: string;
  resourceId?: string;
  /** Events by this user. */
  userId?: number;
  action?: string;
  from?: string;
  to?: string;
}

/** Reads audit events, newest first. Decides nothing about permissions. */
export interface AuditQueryStore {
  list(db: Db, query: AuditQuery, page: { limit: number; offset: number }): Promise<{ items: AuditRecord[]; total: number }>;
  /**
   * The key each of these flags was created (or deleted) with, from their `flag.created` /
   * `flag.deleted` events in the organisation: how entries of a deleted flag still name it.
   */
  recordedFlagKeys(db: Db, organizationId: number, flagIds: readonly number[]): Promise<Map<number, string>>;
}

function parse(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return null;
  }
}

/** Kysely implementation of `AuditQueryStore`. */
export class KyselyAuditQueryStore implements AuditQueryStore {
  async list(db: Db, q: AuditQuery, page: { limit: number; offset: number }): Promise<{ items: AuditRecord[]; total: number }> {
    let base = db.selectFrom('audit_events').where('audit_events.organization_id', '=', q.organizationId);
    if (q.projectId !== undefined) base = base.where('audit_events.project_id', '=', q.projectId);
    if (q.resourceType !== undefined) base = base.where('audit_events.resource_type', '=', q.resourceType);
    if (q.resourceId !== undefined) base = base.where('audit_events.resource_id', '=', q.resourceId);
    if (q.userId !== undefined) base = base.where('audit_events.actor_type', '=', 'user').where('audit_events.actor_id', '=', q.userId);
    if (q.action !== undefined) base = base.where('audit_events.action', '=', q.action);
    if (q.from !== undefined) base = base.where('audit_events.created_at', '>=', q.from);
    if (q.to !== undefined) base = base.where('audit_events.created_at', '<=', q.to);
    const [rows, count] = await Promise.all([
      base
        .leftJoin('users', (join) => join.onRef('users.id', '=', 'audit_events.actor_id').on('audit_events.actor_type', '=', 'user'))
        .selectAll('audit_events')
        .select(['users.name as user_name', 'users.email as user_email'])
        .orderBy('audit_events.created_at', 'desc')
        .orderBy('audit_events.id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return {
      items: rows.map((r) => ({
        id: r.id,
        organizationId: r.organization_id,
        projectId: r.project_id,
        actorType: r.actor_type,
        actorId: r.actor_id,
        userName: r.user_name ?? r.user_email ?? null,
        action: r.action,
        resourceType: r.resource_type,
        resourceId: r.resource_id,
        before: parse(r.before),
        after: parse(r.after),
        createdAt: r.created_at,
      })),
      total: Number(count.n),
    };
  }

  async recordedFlagKeys(db: Db, organizationId: number, flagIds: readonly number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    if (flagIds.length === 0) return out;
    const rows = await db
      .selectFrom('audit_events')
      .select(['resource_id', 'before', 'after'])
      .where('organization_id', '=', organizationId)
      .where('resource_type', '=', 'flag')
      .where('resource_id', 'in', [...new Set(flagIds)].map(String))
      .where('action', 'in', ['flag.created', 'flag.deleted'])
      .execute();
    for (const r of rows) {
      const key = parse(r.before)?.key ?? parse(r.after)?.key;
      if (typeof key === 'string' && r.resource_id !== null) out.set(Number(r.resource_id), key);
    }
    return out;
  }
}
