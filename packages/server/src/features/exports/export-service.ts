import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/connect.js';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { AccessService } from '../access/access-service.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { ProjectAccessService, ProjectRef } from '../projects/project-access.js';
import type { ExportDocument } from './export-document.js';
import type { ExportJob, KyselyExportStore } from './export-store.js';

/** Where failures of background exports are reported. */
export interface ExportLogger {
  error(details: Record<string, unknown>, message: string): void;
}

/** A job running longer than this when the server starts is taken to have died with its instance. */
const staleAfterMs = 10 * 60_000;

/**
 * Exports (`/api/v1/exports`, permission `exports:write`): `start` records a pending job and
 * returns at once; the job runs in the background of this process — claimed atomically, so with
 * several instances each job runs once — and builds the document in one consistent read:
 * `pending` → `running` → `completed` (the document kept for download) or `failed`. Pending jobs
 * left by a restart are resumed at `resume`; running ones that old are failed.
 */
export class ExportService {
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private logger: ExportLogger = { error: () => {} };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly access: AccessService,
    private readonly projectAccess: ProjectAccessService,
    private readonly store: KyselyExportStore,
    private readonly audit: AuditStore,
  ) {}

  /** Where failures are reported from now on (the app's logger). */
  useLogger(logger: ExportLogger): void {
    this.logger = logger;
  }

  /** Starts an export of the actor's organisation, or of one of its projects; answers the pending job. */
  async start(actor: Actor, input: { project?: ProjectRef | undefined }): Promise<ExportJob> {
    const job = await this.db.transaction().execute(async (trx) => {
      let organizationId: number;
      let projectId: number | null = null;
      if (input.project !== undefined) {
        const { project } = await this.projectAccess.require(actor, input.project, 'exports:write', trx);
        organizationId = project.organizationId;
        projectId = project.id;
      } else {
        organizationId = (await this.access.require(actor, actor.organizationId, 'exports:write', trx)).organizationId;
      }
      const created: ExportJob = {
        id: newId(),
        organizationId,
        projectId,
        requestedBy: actor.userId,
        status: 'pending',
        error: null,
        createdAt: nowIso(),
        startedAt: null,
        completedAt: null,
      };
      await this.store.insert(trx, created);
      await this.audit.record(trx, actor, { organizationId, projectId, action: 'export.requested', resourceType: 'export', resourceId: created.id });
      return created;
    });
    this.schedule(job.id);
    return job;
  }

  /** One export job of the actor's organisation; another organisation's is not found. */
  async get(actor: Actor, id: number | null): Promise<ExportJob> {
    const grant = await this.access.require(actor, actor.organizationId, 'exports:write');
    const job = id === null ? null : await this.store.find(this.db, grant.organizationId, id);
    if (!job) throw new NotFoundError('Export');
    return job;
  }

  /** The finished document; `ConflictError('export_not_ready')` (409) until the job has completed. */
  async download(actor: Actor, id: number | null): Promise<{ job: ExportJob; document: string }> {
    const job = await this.get(actor, id);
    if (job.status !== 'completed') {
      throw new ConflictError(
        job.status === 'failed' ? 'The export failed; start another' : `The export is ${job.status}; download it once it has completed`,
        'export_not_ready',
        { status: job.status },
      );
    }
    const document = await this.store.document(this.db, job.id);
    if (document === null) throw new NotFoundError('Export');
    return { job, document };
  }

  /** Resumes pending jobs and fails long-running ones (after a restart). */
  async resume(now: Date = new Date()): Promise<void> {
    await this.store.failStale(this.db, new Date(now.getTime() - staleAfterMs).toISOString(), now.toISOString());
    for (const id of await this.store.pendingIds(this.db)) this.schedule(id);
  }

  /** Resolves once no job is running in this process (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Takes no new jobs and waits for the running ones. */
  async stop(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  /** Builds the document of a job now (what the background runs); false when another runner had claimed it. */
  async run(id: number): Promise<boolean> {
    const job = await this.store.claim(this.db, id, nowIso());
    if (!job) return false;
    try {
      const document = await this.build(job);
      await this.store.complete(this.db, job.id, JSON.stringify(document), nowIso());
    } catch (error) {
      this.logger.error({ err: error, exportId: job.id }, 'an export failed');
      await this.store.fail(this.db, job.id, 'The export could not be built', nowIso());
    }
    return true;
  }

  private async build(job: ExportJob): Promise<ExportDocument> {
    // One consistent view: a write committing half-way through must not produce a mixed document.
    let begin = this.db.transaction();
    if (this.dialect === 'postgres') begin = begin.setIsolationLevel('repeatable read');
    const document = await begin.execute((trx) => this.store.read(trx, job.organizationId, job.projectId, nowIso()));
    if (!document) throw new Error('the organisation or project of the export no longer exists');
    return document;
  }

  private schedule(id: number): void {
    if (this.closed) return;
    const work: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.run(id))
      .then(
        () => undefined,
        (error: unknown) => this.logger.error({ err: error, exportId: id }, 'an export could not be run'),
      )
      .finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }
}
