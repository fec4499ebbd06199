import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { newId } from '../../domain/ids.js';

/** One change worth remembering: who did what to which resource, with the fields before and after. */
export interface AuditEntry {
  organizationId: number | null;
  projectId?: number | null;
  action: string;
  resourceType: string;
  resourceId: string | number | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** Writes audit events; always called with the transaction of the change it records. */
export interface AuditStore {
  record(trx: Kysely<Database> | Transaction<Database>, actor: Actor, entry: AuditEntry): Promise<void>;
}

let lastAuditMs = 0;

/**
 * The current time, but never earlier than or equal to the previous audit event's in this process:
 * ids are random, so time alone orders a history, and two changes in one millisecond must still
 * read back in the order they happened.
 */
export function monotonicNowIso(): string {
  const now = Date.now();
  lastAuditMs = now > lastAuditMs ? now : lastAuditMs + 1;
  return new Date(lastAuditMs).toISOString();
}

/** Kysely implementation of `AuditStore`. */
export class KyselyAuditStore implements AuditStore {
  async record(trx: Kysely<Database> | Transaction<Database>, actor: Actor, entry: AuditEntry): Promise<void> {
    await trx
      .insertInto('audit_events')
      .values({
        id: newId(),
        organization_id: entry.organizationId,
        project_id: entry.projectId ?? null,
        actor_type: actor.kind,
        actor_id: actor.userId ?? actor.credentialId,
        action: entry.action,
        resource_type: entry.resourceType,
        resource_id: entry.resourceId === null ? null : String(entry.resourceId),
        before: entry.before ? JSON.stringify(entry.before) : null,
        after: entry.after ? JSON.stringify(entry.after) : null,
        created_at: monotonicNowIso(),
      })
      .execute();
  }
}
