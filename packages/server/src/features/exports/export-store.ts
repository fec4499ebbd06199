import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import {
  exportFormat,
  exportVersion,
  type ExportDocument,
  type ExportedAuditEvent,
  type ExportedFlag,
  type ExportedFlagEnvironment,
  type ExportedProject,
} from './export-document.js';

type Db = Kysely<Database> | Transaction<Database>;

/** One export job as stored. */
export interface ExportJob {
  id: number;
  organizationId: number;
  projectId: number | null;
  requestedBy: number | null;
  status: ExportStatus;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

/** `pending` → `running` → `completed` | `failed`. */
export type ExportStatus = 'pending' | 'running' | 'completed' | 'failed';

function parse<T>(text: string | null, fallback: T): T {
  if (text === null || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

type Row = Database['exports'];

function toJob(r: Omit<Row, 'document'>): ExportJob {
  return {
    id: r.id,
    organizationId: r.organization_id,
    projectId: r.project_id,
    requestedBy: r.requested_by,
    status: r.status as ExportStatus,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
  };
}

const jobColumns = ['id', 'organization_id', 'project_id', 'requested_by', 'status', 'error', 'created_at', 'started_at', 'completed_at'] as const;

/** Export jobs and the reads that build an export document. Decides nothing about permissions. */
export class KyselyExportStore {
  async insert(db: Db, job: ExportJob): Promise<void> {
    await db
      .insertInto('exports')
      .values({
        id: job.id,
        organization_id: job.organizationId,
        project_id: job.projectId,
        requested_by: job.requestedBy,
        status: job.status,
        document: null,
        error: null,
        created_at: job.createdAt,
        started_at: null,
        completed_at: null,
      })
      .execute();
  }

  /** The job with this id in this organisation. */
  async find(db: Db, organizationId: number, id: number): Promise<ExportJob | null> {
    const row = await db.selectFrom('exports').select(jobColumns).where('id', '=', id).where('organization_id', '=', organizationId).executeTakeFirst();
    return row ? toJob(row) : null;
  }

  /** The finished document of a job, or null. */
  async document(db: Db, id: number): Promise<string | null> {
    const row = await db.selectFrom('exports').select('document').where('id', '=', id).executeTakeFirst();
    return row?.document ?? null;
  }

  /** Moves a pending job to running; false when someone else already took it. */
  async claim(db: Db, id: number, at: string): Promise<ExportJob | null> {
    const result = await db.updateTable('exports').set({ status: 'running', started_at: at }).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    const row = await db.selectFrom('exports').select(jobColumns).where('id', '=', id).executeTakeFirst();
    return row ? toJob(row) : null;
  }

  async complete(db: Db, id: number, document: string, at: string): Promise<void> {
    await db.updateTable('exports').set({ status: 'completed', document, completed_at: at }).where('id', '=', id).execute();
  }

  async fail(db: Db, id: number, error: string, at: string): Promise<void> {
    await db.updateTable('exports').set({ status: 'failed', error, completed_at: at }).where('id', '=', id).execute();
  }

  /** Ids of pending jobs (to resume after a restart). */
  async pendingIds(db: Db): Promise<number[]> {
    return (await db.selectFrom('exports').select('id').where('status', '=', 'pending').execute()).map((r) => r.id);
  }

  /** Fails jobs left running since before `before` (their instance stopped mid-way). */
  async failStale(db: Db, before: string, at: string): Promise<number> {
    const result = await db
      .updateTable('exports')
      .set({ status: 'failed', error: 'The export was interrupted by a restart; start another', completed_at: at })
      .where('status', '=', 'running')
      .where('started_at', '<', before)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * The export document of an organisation, or of one of its projects (`projectId`): null when
   * the organisation (or the project, in it) does not exist. Read within `db` — pass a transaction
   * for one consistent view.
   */
  async read(db: Db, organizationId: number, projectId: number | null, exportedAt: string): Promise<ExportDocument | null> {
    const organization = await db.selectFrom('organizations').select(['id', 'name']).where('id', '=', organizationId).executeTakeFirst();
    if (!organization) return null;
    let projectsQuery = db.selectFrom('projects').selectAll().where('organization_id', '=', organizationId);
    if (projectId !== null) projectsQuery = projectsQuery.where('id', '=', projectId);
    const projectRows = await projectsQuery.orderBy('key').execute();
    if (projectId !== null && projectRows.length === 0) return null;
    const templates =
      projectId === null
        ? await db.selectFrom('organization_environments').select(['key', 'name']).where('organization_id', '=', organizationId).orderBy('position').orderBy('id').execute()
        : [];

    const projects: ExportedProject[] = [];
    const projectKeys = new Map<number, string>();
    for (const p of projectRows) {
      projectKeys.set(p.id, p.key);
      projects.push(await this.readProject(db, p));
    }

    let auditQuery = db.selectFrom('audit_events').selectAll().where('organization_id', '=', organizationId);
    if (projectId !== null) auditQuery = auditQuery.where('project_id', '=', projectId);
    const audit = await auditQuery.orderBy('created_at').orderBy('id').execute();
    const auditLog: ExportedAuditEvent[] = audit.map((a) => ({
      createdAt: a.created_at,
      projectKey: a.project_id === null ? null : (projectKeys.get(a.project_id) ?? null),
      actorType: a.actor_type,
      actorId: a.actor_id,
      action: a.action,
      resourceType: a.resource_type,
      resourceId: a.resource_id,
      before: parse<Record<string, unknown> | null>(a.before, null),
      after: parse<Record<string, unknown> | null>(a.after, null),
    }));

    return {
      format: exportFormat,
      version: exportVersion,
      exportedAt,
      source: { organizationId, organizationName: organization.name, projectKey: projectId === null ? null : (projectRows[0]?.key ?? null) },
      environments: templates.map((t) => ({ key: t.key, name: t.name })),
      projects,
      auditLog,
    };
  }

  /** One project as the document holds it. */
  async readProject(db: Db, p: Database['projects']): Promise<ExportedProject> {
    const environments = await db.selectFrom('environments').selectAll().where('project_id', '=', p.id).orderBy('position').orderBy('id').execute();
    const envKeys = new Map(environments.map((e) => [e.id, e.key]));
    const segments = await db.selectFrom('segments').selectAll().where('project_id', '=', p.id).orderBy('key').execute();
    const flags = await db.selectFrom('flags').selectAll().where('project_id', '=', p.id).orderBy('key').execute();
    const variations = await db
      .selectFrom('variations')
      .innerJoin('flags', 'flags.id', 'variations.flag_id')
      .selectAll('variations')
      .where('flags.project_id', '=', p.id)
      .orderBy('variations.position')
      .orderBy('variations.id')
      .execute();
    const flagEnvironments = await db
      .selectFrom('flag_environments')
      .innerJoin('flags', 'flags.id', 'flag_environments.flag_id')
      .selectAll('flag_environments')
      .where('flags.project_id', '=', p.id)
      .execute();
    const rules = await db
      .selectFrom('rules')
      .innerJoin('flags', 'flags.id', 'rules.flag_id')
      .selectAll('rules')
      .where('flags.project_id', '=', p.id)
      .orderBy('rules.priority')
      .orderBy('rules.id')
      .execute();

    const byFlag = new Map<number, ExportedFlag>();
    const out: ExportedFlag[] = flags.map((f) => {
      const flag: ExportedFlag = {
        key: f.key,
        name: f.name,
        description: f.description,
        type: f.type,
        defaultVariation: f.default_variation,
        tags: parse<string[]>(f.tags, []),
        status: f.status,
        metadata: parse<Record<string, string | number | boolean> | null>(f.metadata, null),
        variations: [],
        environments: {},
      };
      byFlag.set(f.id, flag);
      return flag;
    });
    for (const v of variations) {
      byFlag.get(v.flag_id)?.variations.push({ key: v.key, name: v.name, value: parse(v.value, null), description: v.description, weight: v.weight });
    }
    const configs = new Map<string, ExportedFlagEnvironment>();
    for (const fe of flagEnvironments) {
      const flag = byFlag.get(fe.flag_id);
      const envKey = envKeys.get(fe.environment_id);
      if (!flag || envKey === undefined) continue;
      const config: ExportedFlagEnvironment = {
        enabled: fe.enabled === 1,
        offVariation: fe.off_variation,
        defaultServe: parse(fe.default_serve, null),
        targets: parse(fe.targets, []),
        prerequisites: parse(fe.prerequisites, []),
        targeting: parse(fe.targeting, null),
        flagd: fe.flagd === 1,
        defaultVariation: fe.default_variation,
        rules: [],
      };
      flag.environments[envKey] = config;
      configs.set(`${fe.flag_id}:${fe.environment_id}`, config);
    }
    for (const r of rules) {
      const flag = byFlag.get(r.flag_id);
      const envKey = envKeys.get(r.environment_id);
      if (!flag || envKey === undefined) continue;
      let config = configs.get(`${r.flag_id}:${r.environment_id}`);
      if (!config) {
        // Rules without a configuration row: the flag is disabled there, the rules still belong to it.
        config = { enabled: false, offVariation: null, defaultServe: null, targets: [], prerequisites: [], targeting: null, rules: [] };
        flag.environments[envKey] = config;
        configs.set(`${r.flag_id}:${r.environment_id}`, config);
      }
      config.rules.push({ description: r.description, conditions: parse(r.conditions, []), segments: parse(r.segments, []), serve: parse(r.serve, { variation: '' }) });
    }
    // Environment keys in the project's order, so equal configurations serialise equally.
    for (const flag of out) {
      const sorted: Record<string, ExportedFlagEnvironment> = {};
      for (const e of environments) if (flag.environments[e.key]) sorted[e.key] = flag.environments[e.key]!;
      flag.environments = sorted;
    }
    return {
      key: p.key,
      name: p.name,
      description: p.description,
      color: p.color,
      isDefault: p.is_default === 1,
      environments: environments.map((e) => ({ key: e.key, name: e.name, color: e.color })),
      segments: segments.map((s) => ({
        key: s.key,
        name: s.name,
        description: s.description,
        conditions: parse(s.conditions, []),
        included: parse(s.included, []),
        excluded: parse(s.excluded, []),
      })),
      flags: out,
    };
  }
}
