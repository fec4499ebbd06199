import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import { systemActor, type Actor } from '../../domain/actor.js';
import { ConflictError, NotFoundError, UnauthorizedError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { ChangeBus } from '../../evaluation/change-bus.js';
import type { AccessService } from '../access/access-service.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { PendingDeletionLookup, PendingDeletionNotice } from '../identity/pending-deletion.js';
import type { DeletionRequest, DeletionScope, KyselyDeletionStore } from './deletion-store.js';

type Db = Kysely<Database> | Transaction<Database>;

/** What erasing due requests did. */
export interface DeletionRun {
  completed: number[];
  failed: Array<{ id: number; reason: string }>;
}

/** Where failures of the background job are reported. */
export interface DeletionLogger {
  error(details: Record<string, unknown>, message: string): void;
}

const DAY_MS = 86_400_000;
/** What replaces an erased person's email in the audit events that keep their tombstone. */
export const erasedMarker = '[erased]';

function userActor(actor: Actor): Actor & { userId: number } {
  if (actor.kind !== 'user' || actor.userId === null) throw new UnauthorizedError('This endpoint needs a user access token', 'unauthorized');
  return actor as Actor & { userId: number };
}

/**
 * Replaces, anywhere inside an audit event's JSON, the erased user's email (any case) with
 * `erasedMarker` and their id (as a number, `"123"` or `"usr_123"`) with null.
 */
function scrub(value: unknown, email: string, userId: number): unknown {
  if (typeof value === 'string') {
    if (value.toLowerCase() === email) return erasedMarker;
    if (value === String(userId) || value === `usr_${userId}`) return null;
    return value.toLowerCase().includes(email) ? value.replace(new RegExp(email.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), erasedMarker) : value;
  }
  if (typeof value === 'number') return value === userId ? null : value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, email, userId));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, email, userId)]));
  return value;
}

/**
 * Togul's account lifecycle (`/api/v1/account-deletion`). A user asks for their account — or, as
 * an organisation's admin (`organization:delete`), for the organisation — to be erased; the
 * request waits `graceDays` (`SWITCHYARD_DELETION_GRACE_DAYS`) and can be cancelled until then.
 * When it is due, the background job (`runDue`, on a timer in the server) erases everything in
 * one transaction per request:
 * - an organisation: its projects, environments, flags, rules, segments, keys, counts, members,
 *   roles, invitations, mail and audit log (the database cascades); one tombstone event remains
 *   (`organization.erased`, the organisation's id and dates, nobody's identity);
 * - an account: the user, their sessions, identities, memberships and project roles, mail and
 *   invitations to their address, and every organisation where they were the only member; audit
 *   events elsewhere stay as tombstones — the actor id cleared, their email and id replaced
 *   wherever the event's details held them — plus an `account.erased` event that names no one.
 * An account cannot be erased while it is the last admin of an organisation that has other
 * members (409 `last_admin`, at request time; the request fails if that became true meanwhile).
 */
export class AccountDeletionService implements PendingDeletionLookup {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<DeletionRun> | null = null;
  private logger: DeletionLogger = { error: () => {} };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly store: KyselyDeletionStore,
    private readonly audit: AuditStore,
    private readonly changes: ChangeBus,
    private readonly graceDays: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Where failures are reported from now on. */
  useLogger(logger: DeletionLogger): void {
    this.logger = logger;
  }

  /** Asks for an erasure after the grace period; `ConflictError('deletion_pending')` when one is already pending. */
  async request(actor: Actor, input: { scope: DeletionScope }): Promise<DeletionRequest> {
    const user = userActor(actor);
    const now = this.now();
    return this.db.transaction().execute(async (trx) => {
      let subjectId: number;
      let organizationId: number | null = null;
      if (input.scope === 'organization') {
        organizationId = (await this.access.require(actor, actor.organizationId, 'organization:delete', trx)).organizationId;
        subjectId = organizationId;
      } else {
        subjectId = user.userId;
        const blocking = await this.lastAdminOf(trx, user.userId);
        if (blocking.length > 0) {
          throw new ConflictError(
            'You are the last admin of an organisation with other members: make someone else admin, or request the deletion of the organisation first',
            'last_admin',
            { organizationIds: blocking.map((id) => `tenant_${id}`) },
          );
        }
      }
      const request: DeletionRequest = {
        id: newId(),
        scope: input.scope,
        subjectId,
        organizationId,
        requestedBy: user.userId,
        status: 'pending',
        requestedAt: now.toISOString(),
        scheduledFor: new Date(now.getTime() + this.graceDays * DAY_MS).toISOString(),
        cancelledAt: null,
        completedAt: null,
        failure: null,
      };
      const existing = await this.store.findPending(trx, input.scope, subjectId);
      if (existing) throw this.alreadyPending(existing);
      try {
        await this.store.insert(trx, request);
      } catch (error) {
        if (isUniqueViolation(error)) throw this.alreadyPending(null);
        throw error;
      }
      await this.audit.record(trx, actor, {
        organizationId,
        action: `${input.scope}.deletion_requested`,
        resourceType: input.scope === 'account' ? 'user' : 'organization',
        resourceId: subjectId,
        after: { scheduledFor: request.scheduledFor },
      });
      return request;
    });
  }

  /** The pending deletion of the caller's account, or of the organisation they act in (any member may see it). */
  async status(actor: Actor, scope: DeletionScope): Promise<DeletionRequest> {
    const subjectId = await this.subjectOf(actor, scope, false);
    const found = await this.store.findPending(this.db, scope, subjectId);
    if (!found) throw new NotFoundError('Pending deletion', 'deletion_not_found');
    return found;
  }

  /** Cancels the pending deletion (the organisation's needs `organization:delete`); answers it as cancelled. */
  async cancel(actor: Actor, scope: DeletionScope): Promise<DeletionRequest> {
    const subjectId = await this.subjectOf(actor, scope, true);
    const at = this.now().toISOString();
    return this.db.transaction().execute(async (trx) => {
      const found = await this.store.findPending(trx, scope, subjectId);
      if (!found || !(await this.store.finish(trx, found.id, 'cancelled', at))) throw new NotFoundError('Pending deletion', 'deletion_not_found');
      await this.audit.record(trx, actor, {
        organizationId: found.organizationId,
        action: `${scope}.deletion_cancelled`,
        resourceType: scope === 'account' ? 'user' : 'organization',
        resourceId: subjectId,
        before: { scheduledFor: found.scheduledFor },
      });
      return { ...found, status: 'cancelled', cancelledAt: at };
    });
  }

  /** For login: the soonest pending deletion concerning the user (their account, or an organisation they belong to). */
  async pendingFor(userId: number): Promise<PendingDeletionNotice | null> {
    const [first] = await this.store.pendingConcerning(this.db, userId);
    if (!first) return null;
    return { scope: first.scope, scheduledFor: first.scheduledFor, organizationId: first.organizationId };
  }

  /** Runs `runDue` every `intervalMs` until `stop` (the timer does not keep the process alive). */
  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.runDue().catch((err: unknown) => this.logger.error({ err }, 'the deletion job failed'));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /**
   * Erases every request due at `now` (default: the service's clock), one transaction each; a
   * request that cannot be carried out is marked `failed` with why. Runs do not overlap.
   */
  runDue(now: Date = this.now()): Promise<DeletionRun> {
    if (this.running) return this.running.then(() => this.runDue(now));
    this.running = this.erase(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async erase(now: Date): Promise<DeletionRun> {
    const run: DeletionRun = { completed: [], failed: [] };
    for (const request of await this.store.due(this.db, now.toISOString())) {
      const at = new Date().toISOString();
      try {
        const outcome = await this.db.transaction().execute(async (trx) => {
          if (request.scope === 'organization') return { projects: await this.eraseOrganization(trx, request, at), failure: null };
          return this.eraseAccount(trx, request, at);
        });
        if (outcome.failure !== null) {
          await this.store.finish(this.db, request.id, 'failed', at, { failure: outcome.failure });
          run.failed.push({ id: request.id, reason: outcome.failure });
          continue;
        }
        run.completed.push(request.id);
        for (const p of outcome.projects) {
          await this.changes.publish({ organizationId: p.organizationId, projectId: p.projectId, environmentIds: 'all', entity: 'project', action: 'deleted', key: null });
        }
      } catch (error) {
        this.logger.error({ err: error, deletionRequestId: request.id }, 'a deletion could not be carried out; it is retried on the next run');
        run.failed.push({ id: request.id, reason: 'error' });
      }
    }
    return run;
  }

  private async eraseOrganization(trx: Transaction<Database>, request: DeletionRequest, at: string, viaAccount = false): Promise<Array<{ projectId: number; organizationId: number }>> {
    const organizationId = request.scope === 'organization' ? request.subjectId! : request.organizationId!;
    const projects = (await trx.selectFrom('projects').select('id').where('organization_id', '=', organizationId).execute()).map((p) => ({ projectId: p.id, organizationId }));
    // Mail keeps the organisation only as "set null"; its addresses go with it.
    await trx.deleteFrom('mail_outbox').where('organization_id', '=', organizationId).execute();
    // Everything else of the organisation cascades, its audit log included.
    await trx.deleteFrom('organizations').where('id', '=', organizationId).execute();
    if (!viaAccount) await this.store.finish(trx, request.id, 'completed', at, { clearPeople: true });
    await this.audit.record(trx, systemActor, {
      organizationId: null,
      action: 'organization.erased',
      resourceType: 'organization',
      resourceId: organizationId,
      after: { requestedAt: request.requestedAt, scheduledFor: request.scheduledFor, erasedAt: at, ...(viaAccount ? { withAccount: true } : {}) },
    });
    return projects;
  }

  private async eraseAccount(trx: Transaction<Database>, request: DeletionRequest, at: string): Promise<{ projects: Array<{ projectId: number; organizationId: number }>; failure: string | null }> {
    const userId = request.subjectId!;
    const user = await trx.selectFrom('users').select(['id', 'email']).where('id', '=', userId).executeTakeFirst();
    const projects: Array<{ projectId: number; organizationId: number }> = [];
    if (user) {
      if ((await this.lastAdminOf(trx, userId)).length > 0) return { projects, failure: 'last_admin' };
      const email = user.email.toLowerCase();
      // Organisations where nobody else is a member go with the account.
      const sole = await trx
        .selectFrom('memberships as m')
        .select('m.organization_id')
        .where('m.user_id', '=', userId)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('memberships as o').select('o.id').whereRef('o.organization_id', '=', 'm.organization_id').where('o.user_id', '!=', userId))))
        .execute();
      for (const s of sole) projects.push(...(await this.eraseOrganization(trx, { ...request, organizationId: s.organization_id }, at, true)));

      await this.scrubAudit(trx, userId, email);
      await trx.deleteFrom('invitations').where('email', '=', email).execute();
      await trx.deleteFrom('mail_outbox').where('to_address', '=', email).execute();
      await trx.updateTable('flags').set({ created_by: null }).where('created_by', '=', userId).execute();
      await trx.updateTable('api_keys').set({ created_by: null }).where('created_by', '=', userId).execute();
      await trx.updateTable('exports').set({ requested_by: null }).where('requested_by', '=', userId).execute();
      // Sessions, refresh tokens, identities, memberships, project roles and the rest cascade.
      await trx.deleteFrom('users').where('id', '=', userId).execute();
    }
    await this.store.finish(trx, request.id, 'completed', at, { clearPeople: true });
    await this.store.forgetUser(trx, userId);
    await this.audit.record(trx, systemActor, {
      organizationId: null,
      action: 'account.erased',
      resourceType: 'user',
      resourceId: null,
      after: { requestedAt: request.requestedAt, scheduledFor: request.scheduledFor, erasedAt: at },
    });
    return { projects, failure: null };
  }

  /** Audit events keep what happened, not who: the actor id cleared, email and id replaced in the details. */
  private async scrubAudit(trx: Transaction<Database>, userId: number, email: string): Promise<void> {
    await trx.updateTable('audit_events').set({ actor_id: null }).where('actor_type', '=', 'user').where('actor_id', '=', userId).execute();
    const id = String(userId);
    const rows = await trx
      .selectFrom('audit_events')
      .select(['id', 'resource_id', 'before', 'after'])
      .where((eb) =>
        eb.or([
          eb('resource_id', '=', id),
          eb('resource_id', '=', `usr_${id}`),
          eb('before', 'like', `%${id}%`),
          eb('after', 'like', `%${id}%`),
          eb(eb.fn('lower', ['before']), 'like', `%${email}%`),
          eb(eb.fn('lower', ['after']), 'like', `%${email}%`),
        ]),
      )
      .execute();
    for (const r of rows) {
      const clean = (text: string | null) => (text === null ? null : JSON.stringify(scrub(JSON.parse(text), email, userId)));
      await trx
        .updateTable('audit_events')
        .set({ resource_id: r.resource_id === id || r.resource_id === `usr_${id}` ? null : r.resource_id, before: clean(r.before), after: clean(r.after) })
        .where('id', '=', r.id)
        .execute();
    }
  }

  /** Organisations (with other members) where the user is the only admin. */
  private async lastAdminOf(db: Db, userId: number): Promise<number[]> {
    const rows = await db
      .selectFrom('memberships as m')
      .select('m.organization_id')
      .where('m.user_id', '=', userId)
      .where('m.role', '=', 'admin')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('memberships as a').select('a.id').whereRef('a.organization_id', '=', 'm.organization_id').where('a.role', '=', 'admin').where('a.user_id', '!=', userId))))
      .where((eb) => eb.exists(eb.selectFrom('memberships as o').select('o.id').whereRef('o.organization_id', '=', 'm.organization_id').where('o.user_id', '!=', userId)))
      .execute();
    return rows.map((r) => r.organization_id);
  }

  private async subjectOf(actor: Actor, scope: DeletionScope, write: boolean): Promise<number> {
    const user = userActor(actor);
    if (scope === 'account') return user.userId;
    const grant = write ? await this.access.require(actor, actor.organizationId, 'organization:delete') : await this.access.requireMember(actor, actor.organizationId);
    return grant.organizationId;
  }

  private alreadyPending(existing: DeletionRequest | null): ConflictError {
    return new ConflictError('A deletion is already pending; cancel it first to ask again', 'deletion_pending', existing ? { scheduledFor: existing.scheduledFor } : null);
  }
}
