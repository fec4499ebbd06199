import { validate, type FlagConfig, type FlagEnvironmentConfig, type SnapshotConfig } from '@switchyard/engine';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import { keyPattern } from '../../domain/keys.js';
import type { ChangeBus } from '../../evaluation/change-bus.js';
import type { AccessService } from '../access/access-service.js';
import type { Permission } from '../access/permissions.js';
import type { AuditStore } from '../audit/audit-store.js';
import { exportFormat, exportVersion, type ExportDocument, type ExportedFlag, type ExportedProject, type ExportedSegment } from './export-document.js';
import type { KyselyExportStore } from './export-store.js';

/** What an import does to one thing. */
export type ImportAction = 'create' | 'update' | 'unchanged';

/** One line of an import report. */
export interface ImportChange {
  entity: 'environment_template' | 'project' | 'environment' | 'segment' | 'flag';
  /** The project's key; null for organisation-level things. */
  project: string | null;
  key: string;
  action: ImportAction;
}

/** What an import did — or, on a dry run, would do. */
export interface ImportReport {
  dryRun: boolean;
  changes: ImportChange[];
  summary: Record<ImportAction, number>;
  /** Audit events of the document added to the organisation's log (those already there are skipped). */
  auditEvents: number;
}

const projectKeyPattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const flagTypes = new Set(['boolean', 'string', 'number', 'json']);
const flagStatuses = new Set(['active', 'inactive', 'archived']);
const needed: Permission[] = ['projects:write', 'environments:write', 'flags:write', 'segments:write'];

/** Canonical JSON (object keys sorted) for comparing a document's entity with what is stored. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function unique(keys: string[], path: string, fields: Record<string, string>): void {
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) fields[path] ??= `"${k}" appears more than once`;
    seen.add(k);
  }
}

/** The engine's configuration of one exported project: how the import checks it evaluates. */
function engineConfig(p: ExportedProject): SnapshotConfig {
  const flags: Record<string, FlagConfig> = {};
  for (const f of p.flags) {
    if (f.status === 'archived') continue;
    const environments: Record<string, FlagEnvironmentConfig> = {};
    for (const [envKey, c] of Object.entries(f.environments)) {
      environments[envKey] = {
        enabled: c.enabled,
        // The same reading of flagd rows as the snapshot builder's.
        ...(c.offVariation !== null ? { offVariation: c.offVariation } : c.flagd ? { offVariation: null } : {}),
        ...(c.defaultVariation != null ? { defaultVariation: c.defaultVariation } : c.flagd ? { defaultVariation: null } : {}),
        ...(c.targets.length > 0 ? { targets: c.targets } : {}),
        ...(c.prerequisites.length > 0 ? { prerequisites: c.prerequisites } : {}),
        ...(c.targeting !== null ? { targeting: c.targeting } : {}),
        ...(c.targeting === null && c.rules.length > 0
          ? {
              rules: c.rules.map((r, i) => ({
                id: `rule-${i + 1}`,
                ...(r.conditions.length > 0 ? { conditions: r.conditions } : {}),
                ...(r.segments.length > 0 ? { segments: r.segments } : {}),
                serve: r.serve,
              })),
            }
          : {}),
        ...(c.targeting === null && c.defaultServe !== null ? { defaultServe: c.defaultServe } : {}),
      };
    }
    flags[f.key] = {
      type: f.type as FlagConfig['type'],
      variations: Object.fromEntries(f.variations.map((v) => [v.key, v.value])),
      defaultVariation: f.defaultVariation,
      ...(f.metadata && Object.keys(f.metadata).length > 0 ? { metadata: f.metadata } : {}),
      environments,
    };
  }
  const segments = Object.fromEntries(
    p.segments.map((s) => [
      s.key,
      { ...(s.included.length ? { included: s.included } : {}), ...(s.excluded.length ? { excluded: s.excluded } : {}), ...(s.conditions.length ? { conditions: s.conditions } : {}) },
    ]),
  );
  return { flags, ...(p.segments.length > 0 ? { segments } : {}) };
}

/**
 * Refuses a document that is not a version-1 export, or that would store something the rest of
 * the server refuses: bad keys, duplicates, unknown types or statuses, configuration of an
 * environment the project does not declare, and anything the engine would not compile.
 */
export function checkDocument(doc: ExportDocument): void {
  const fields: Record<string, string> = {};
  if (doc.format !== exportFormat) fields.format = `must be "${exportFormat}"`;
  if (doc.version !== exportVersion) fields.version = `must be ${exportVersion}`;
  if (Object.keys(fields).length > 0) throw new ValidationError('This is not a Switchyard export this server can import', fields);
  unique(doc.environments.map((e) => e.key), 'environments', fields);
  doc.environments.forEach((e, i) => {
    if (!keyPattern.test(e.key)) fields[`environments[${i}].key`] = "must be 1 to 200 of A-Z, a-z, 0-9, '.', '_' and '-'";
  });
  unique(doc.projects.map((p) => p.key), 'projects', fields);
  doc.projects.forEach((p, pi) => {
    const at = `projects[${pi}]`;
    if (p.key.length > 100 || !projectKeyPattern.test(p.key) || /^\d+$/.test(p.key)) fields[`${at}.key`] = 'must be kebab-case, at most 100 characters, not only digits';
    unique(p.environments.map((e) => e.key), `${at}.environments`, fields);
    p.environments.forEach((e, i) => {
      if (!keyPattern.test(e.key)) fields[`${at}.environments[${i}].key`] = "must be 1 to 200 of A-Z, a-z, 0-9, '.', '_' and '-'";
    });
    const envKeys = new Set(p.environments.map((e) => e.key));
    unique(p.segments.map((s) => s.key), `${at}.segments`, fields);
    p.segments.forEach((s, i) => {
      if (!keyPattern.test(s.key)) fields[`${at}.segments[${i}].key`] = "must be 1 to 200 of A-Z, a-z, 0-9, '.', '_' and '-'";
    });
    unique(p.flags.map((f) => f.key), `${at}.flags`, fields);
    p.flags.forEach((f, fi) => {
      const fat = `${at}.flags[${fi}]`;
      if (!keyPattern.test(f.key)) fields[`${fat}.key`] = "must be 1 to 200 of A-Z, a-z, 0-9, '.', '_' and '-'";
      if (!flagTypes.has(f.type)) fields[`${fat}.type`] = 'must be boolean, string, number or json';
      if (!flagStatuses.has(f.status)) fields[`${fat}.status`] = 'must be active, inactive or archived';
      if (f.variations.length === 0) fields[`${fat}.variations`] = 'must have at least one variation';
      unique(f.variations.map((v) => v.key), `${fat}.variations`, fields);
      if (!f.variations.some((v) => v.key === f.defaultVariation)) fields[`${fat}.defaultVariation`] = 'must name one of its variations';
      for (const envKey of Object.keys(f.environments)) {
        if (!envKeys.has(envKey)) fields[`${fat}.environments.${envKey}`] = 'names an environment the project does not declare';
      }
    });
    if (Object.keys(fields).length === 0) {
      for (const issue of validate(engineConfig(p))) fields[`${at}.${issue.path}`] ??= issue.message;
    }
  });
  if (Object.keys(fields).length > 0) throw new ValidationError('The export document cannot be imported', fields);
}

/**
 * Applies an export document to the organisation the actor acts in (`POST /api/v1/imports`):
 * projects, environments, segments and flags are matched by key and created or replaced — a flag's
 * variations and its configuration in every environment the document's project declares become
 * exactly the document's; things the document does not mention are left alone. The whole import
 * is one transaction; a dry run plans the same changes and writes nothing. Needs
 * `projects:write`, `environments:write`, `flags:write` and `segments:write`.
 */
export class ImportService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly store: KyselyExportStore,
    private readonly audit: AuditStore,
    private readonly changes: ChangeBus,
  ) {}

  async apply(actor: Actor, organizationId: number | null, doc: ExportDocument, options: { dryRun: boolean }): Promise<ImportReport> {
    let orgId = organizationId;
    for (const permission of needed) orgId = (await this.access.require(actor, orgId, permission)).organizationId;
    const target = orgId!;
    checkDocument(doc);
    const touched: Array<{ projectId: number; created: boolean }> = [];
    const run = async (trx: Transaction<Database>): Promise<ImportReport> => {
      const changes: ImportChange[] = [];
      const now = nowIso();
      const write = !options.dryRun;

      const templates = await trx.selectFrom('organization_environments').selectAll().where('organization_id', '=', target).orderBy('position').execute();
      let nextTemplate = templates.reduce((m, t) => Math.max(m, t.position), -1) + 1;
      for (const e of doc.environments) {
        const existing = templates.find((t) => t.key === e.key);
        const action: ImportAction = !existing ? 'create' : existing.name === e.name ? 'unchanged' : 'update';
        changes.push({ entity: 'environment_template', project: null, key: e.key, action });
        if (!write || action === 'unchanged') continue;
        if (!existing) {
          await trx.insertInto('organization_environments').values({ id: newId(), organization_id: target, key: e.key, name: e.name, position: nextTemplate++, created_at: now, updated_at: now }).execute();
        } else {
          await trx.updateTable('organization_environments').set({ name: e.name, updated_at: now }).where('id', '=', existing.id).execute();
        }
      }

      const projectIds = new Map<string, number>();
      for (const p of doc.projects) {
        const existing = await trx.selectFrom('projects').selectAll().where('organization_id', '=', target).where('key', '=', p.key).executeTakeFirst();
        const current = existing ? await this.store.readProject(trx, existing) : null;
        const projectId = existing?.id ?? newId();
        projectIds.set(p.key, projectId);
        const projectAction: ImportAction = !current ? 'create' : same([current.name, current.description, current.color], [p.name, p.description, p.color]) ? 'unchanged' : 'update';
        changes.push({ entity: 'project', project: p.key, key: p.key, action: projectAction });
        if (write && projectAction === 'create') {
          // Only one default project per organisation: the target's own stays the default.
          await trx.insertInto('projects').values({ id: projectId, organization_id: target, key: p.key, name: p.name, description: p.description, color: p.color, is_default: 0, created_at: now, updated_at: now }).execute();
        } else if (write && projectAction === 'update') {
          await trx.updateTable('projects').set({ name: p.name, description: p.description, color: p.color, updated_at: now }).where('id', '=', projectId).execute();
        }

        const envRows = existing ? await trx.selectFrom('environments').selectAll().where('project_id', '=', projectId).execute() : [];
        const envIds = new Map(envRows.map((e) => [e.key, e.id]));
        let nextPosition = envRows.reduce((m, e) => Math.max(m, e.position), -1) + 1;
        for (const e of p.environments) {
          const have = current?.environments.find((x) => x.key === e.key);
          const action: ImportAction = !have ? 'create' : same(have, e) ? 'unchanged' : 'update';
          changes.push({ entity: 'environment', project: p.key, key: e.key, action });
          if (action === 'create') envIds.set(e.key, newId());
          if (!write || action === 'unchanged') continue;
          if (action === 'create') {
            await trx.insertInto('environments').values({ id: envIds.get(e.key)!, project_id: projectId, key: e.key, name: e.name, color: e.color, position: nextPosition++, created_at: now, updated_at: now }).execute();
          } else {
            await trx.updateTable('environments').set({ name: e.name, color: e.color, updated_at: now }).where('id', '=', envIds.get(e.key)!).execute();
          }
        }

        for (const s of p.segments) {
          const have = current?.segments.find((x) => x.key === s.key);
          const action: ImportAction = !have ? 'create' : same(have, s) ? 'unchanged' : 'update';
          changes.push({ entity: 'segment', project: p.key, key: s.key, action });
          if (write && action !== 'unchanged') await this.writeSegment(trx, projectId, s, action, now);
        }

        for (const f of p.flags) {
          const have = current?.flags.find((x) => x.key === f.key);
          if (have && have.type !== f.type) {
            throw new ValidationError('A flag of the document has another type than the flag of the same key here', {
              [`projects[${doc.projects.indexOf(p)}].flags[${p.flags.indexOf(f)}].type`]: `the flag "${f.key}" here is ${have.type}; a flag's type never changes`,
            });
          }
          // Only the document's environments are compared: the flag's configuration in others stays as it is.
          const haveScoped = have ? { ...have, environments: Object.fromEntries(Object.entries(have.environments).filter(([k]) => p.environments.some((e) => e.key === k))) } : null;
          const action: ImportAction = !haveScoped ? 'create' : same(haveScoped, f) ? 'unchanged' : 'update';
          changes.push({ entity: 'flag', project: p.key, key: f.key, action });
          if (write && action !== 'unchanged') await this.writeFlag(trx, projectId, p, f, envIds, action, now);
        }
        if (write && changes.some((c) => c.project === p.key && c.action !== 'unchanged')) touched.push({ projectId, created: projectAction === 'create' });
      }

      // The document's history joins the log once: an event already there (same time, action and resource) is skipped.
      let auditEvents = 0;
      for (const a of doc.auditLog) {
        const projectId = a.projectKey === null ? null : (projectIds.get(a.projectKey) ?? null);
        const duplicate = await trx
          .selectFrom('audit_events')
          .select('id')
          .where('organization_id', '=', target)
          .where('created_at', '=', a.createdAt)
          .where('action', '=', a.action)
          .where('resource_type', '=', a.resourceType)
          .where((eb) => (a.resourceId === null ? eb('resource_id', 'is', null) : eb('resource_id', '=', a.resourceId)))
          .executeTakeFirst();
        if (duplicate) continue;
        auditEvents++;
        if (!write) continue;
        await trx
          .insertInto('audit_events')
          .values({
            id: newId(),
            organization_id: target,
            project_id: projectId,
            actor_type: a.actorType,
            actor_id: a.actorId,
            action: a.action,
            resource_type: a.resourceType,
            resource_id: a.resourceId,
            before: a.before ? JSON.stringify(a.before) : null,
            after: a.after ? JSON.stringify(a.after) : null,
            created_at: a.createdAt,
          })
          .execute();
      }

      const summary: Record<ImportAction, number> = { create: 0, update: 0, unchanged: 0 };
      for (const c of changes) summary[c.action]++;
      if (write) {
        for (const c of changes) {
          if (c.action === 'unchanged' || c.entity === 'environment_template') continue;
          await this.audit.record(trx, actor, {
            organizationId: target,
            projectId: c.project === null ? null : (projectIds.get(c.project) ?? null),
            action: `${c.entity}.imported`,
            resourceType: c.entity,
            resourceId: c.key,
            after: { key: c.key, action: c.action },
          });
        }
        await this.audit.record(trx, actor, {
          organizationId: target,
          action: 'import.applied',
          resourceType: 'organization',
          resourceId: target,
          after: { source: doc.source, exportedAt: doc.exportedAt, summary, auditEvents },
        });
      }
      return { dryRun: options.dryRun, changes, summary, auditEvents };
    };
    const report = await this.db.transaction().execute(run);
    for (const t of touched) {
      await this.changes.publish({ organizationId: target, projectId: t.projectId, environmentIds: 'all', entity: 'project', action: t.created ? 'created' : 'updated', key: null });
    }
    return report;
  }

  private async writeSegment(trx: Transaction<Database>, projectId: number, s: ExportedSegment, action: ImportAction, now: string): Promise<void> {
    const values = { name: s.name, description: s.description, conditions: JSON.stringify(s.conditions), included: JSON.stringify(s.included), excluded: JSON.stringify(s.excluded) };
    if (action === 'create') {
      await trx.insertInto('segments').values({ id: newId(), project_id: projectId, key: s.key, ...values, version: 1, created_at: now, updated_at: now }).execute();
    } else {
      await trx
        .updateTable('segments')
        .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: now }))
        .where('project_id', '=', projectId)
        .where('key', '=', s.key)
        .execute();
    }
  }

  private async writeFlag(
    trx: Transaction<Database>,
    projectId: number,
    p: ExportedProject,
    f: ExportedFlag,
    envIds: ReadonlyMap<string, number>,
    action: ImportAction,
    now: string,
  ): Promise<void> {
    const values = {
      name: f.name,
      description: f.description,
      default_variation: f.defaultVariation,
      tags: JSON.stringify(f.tags),
      status: f.status,
      metadata: f.metadata === null ? null : JSON.stringify(f.metadata),
      archived_at: f.status === 'archived' ? now : null,
    };
    let flagId: number;
    if (action === 'create') {
      flagId = newId();
      await trx.insertInto('flags').values({ id: flagId, project_id: projectId, key: f.key, type: f.type, ...values, version: 1, created_by: null, created_at: now, updated_at: now }).execute();
    } else {
      const row = await trx.selectFrom('flags').select(['id', 'archived_at']).where('project_id', '=', projectId).where('key', '=', f.key).executeTakeFirstOrThrow();
      flagId = row.id;
      await trx
        .updateTable('flags')
        .set((eb) => ({ ...values, archived_at: f.status === 'archived' ? (row.archived_at ?? now) : null, version: eb('version', '+', 1), updated_at: now }))
        .where('id', '=', flagId)
        .execute();
      await trx.deleteFrom('variations').where('flag_id', '=', flagId).execute();
    }
    let position = 0;
    for (const v of f.variations) {
      await trx
        .insertInto('variations')
        .values({ id: newId(), flag_id: flagId, key: v.key, name: v.name, value: JSON.stringify(v.value), description: v.description, weight: v.weight, position: position++, created_at: now, updated_at: now })
        .execute();
    }
    for (const e of p.environments) {
      const environmentId = envIds.get(e.key)!;
      await trx.deleteFrom('rules').where('flag_id', '=', flagId).where('environment_id', '=', environmentId).execute();
      const existing = await trx.selectFrom('flag_environments').select(['id', 'version']).where('flag_id', '=', flagId).where('environment_id', '=', environmentId).executeTakeFirst();
      const c = f.environments[e.key];
      if (!c) {
        if (existing) await trx.deleteFrom('flag_environments').where('id', '=', existing.id).execute();
        continue;
      }
      const row = {
        enabled: c.enabled ? 1 : 0,
        off_variation: c.offVariation,
        default_serve: c.defaultServe === null ? null : JSON.stringify(c.defaultServe),
        targets: JSON.stringify(c.targets),
        prerequisites: JSON.stringify(c.prerequisites),
        targeting: c.targeting === null ? null : JSON.stringify(c.targeting),
        flagd: c.flagd ? 1 : 0,
        default_variation: c.defaultVariation ?? null,
        updated_at: now,
      };
      if (existing) {
        await trx.updateTable('flag_environments').set({ ...row, version: existing.version + 1 }).where('id', '=', existing.id).execute();
      } else {
        await trx.insertInto('flag_environments').values({ id: newId(), flag_id: flagId, environment_id: environmentId, ...row, version: 1 }).execute();
      }
      let priority = 1;
      for (const r of c.rules) {
        await trx
          .insertInto('rules')
          .values({
            id: newId(),
            flag_id: flagId,
            environment_id: environmentId,
            priority: priority++,
            description: r.description,
            conditions: JSON.stringify(r.conditions),
            segments: JSON.stringify(r.segments),
            serve: JSON.stringify(r.serve),
            created_at: now,
            updated_at: now,
          })
          .execute();
      }
    }
  }
}
