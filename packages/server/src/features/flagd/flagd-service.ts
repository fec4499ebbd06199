import { compileFlagd, CompileError, validate, type FlagdDocument, type FlagType, type JsonValue } from '@switchyard/engine';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { nowIso } from '../../domain/ids.js';
import { keyPattern } from '../../domain/keys.js';
import type { ChangeBus } from '../../evaluation/change-bus.js';
import type { SnapshotCache } from '../../evaluation/snapshot-cache.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { EnvironmentRef, EnvironmentService } from '../projects/environment-service.js';
import type { ProjectAccessService, ProjectRef } from '../projects/project-access.js';
import { toFlagdDocument, type FlagdExport } from './flagd-export.js';
import type { FlagdStore, StoredFlagdFlag } from './flagd-store.js';

/** What an import does (or, on a dry run, would do) to one flag of the document. */
export type FlagdAction = 'created' | 'replaced' | 'unchanged';

/** The answer of an import. */
export interface FlagdImportReport {
  dryRun: boolean;
  environment: string;
  flags: Array<{ key: string; action: FlagdAction }>;
  summary: Record<FlagdAction, number>;
}

type Obj = Record<string, unknown>;
const isObject = (x: unknown): x is Obj => x !== null && typeof x === 'object' && !Array.isArray(x);

/** Canonical JSON (keys sorted) for "unchanged". */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, x: unknown) => (isObject(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
}

/** Replaces `{"$ref": name}` by the named `$evaluators` entry (the engine refuses cycles first). */
function resolveRefs(node: unknown, evaluators: Obj): unknown {
  if (Array.isArray(node)) return node.map((n) => resolveRefs(n, evaluators));
  if (!isObject(node)) return node;
  const keys = Object.keys(node);
  if (keys.length === 1 && keys[0] === '$ref' && typeof node['$ref'] === 'string' && Object.hasOwn(evaluators, node['$ref'])) {
    return resolveRefs(evaluators[node['$ref']], evaluators);
  }
  return Object.fromEntries(keys.map((k) => [k, resolveRefs(node[k], evaluators)]));
}

function inferType(values: JsonValue[]): FlagType {
  const types = new Set(values.map((x) => (x === null || typeof x === 'object' ? 'json' : typeof x)));
  return types.size === 1 ? ([...types][0] as FlagType) : 'json';
}

/** One document flag, as it will be stored. */
export interface DesiredFlag {
  key: string;
  type: FlagType;
  variations: Record<string, JsonValue>;
  /** flagd `defaultVariant`; null: none. */
  defaultVariant: string | null;
  enabled: boolean;
  /** JSONLogic with `$ref`s resolved; null when the flag has none. */
  targeting: JsonValue | null;
  /** Document metadata overlaid with the flag's (flagd's own precedence). */
  metadata: Record<string, string | number | boolean> | null;
}

/**
 * Checks a flagd document with the engine (`compileFlagd`, strict: targeting that would load as
 * PARSE_ERROR is refused too) and our key rules; refuses it whole with every offending path.
 */
export function readFlagdDocument(doc: unknown): DesiredFlag[] {
  const fields: Record<string, string> = {};
  try {
    compileFlagd(doc as FlagdDocument, { strict: true });
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    for (const i of e.issues) fields[i.path] = fields[i.path] ? `${fields[i.path]}; ${i.message}` : i.message;
  }
  if (!isObject(doc) || !isObject(doc['flags'])) throw new ValidationError('Not a flagd flag-definition document', { flags: 'must be an object of flags by key', ...fields });
  const evaluators = isObject(doc['$evaluators']) ? doc['$evaluators'] : {};
  const docMetadata = isObject(doc['metadata']) ? doc['metadata'] : {};
  const out: DesiredFlag[] = [];
  for (const [key, raw] of Object.entries(doc['flags'])) {
    if (!keyPattern.test(key)) fields[`flags.${key}`] ??= "flag keys must be 1 to 200 of A-Z, a-z, 0-9, '.', '_' and '-'";
    if (!isObject(raw) || !isObject(raw['variants'])) continue;
    const variations = raw['variants'] as Record<string, JsonValue>;
    if (Object.keys(variations).length === 0) fields[`flags.${key}.variants`] ??= 'must have at least one variant';
    for (const vk of Object.keys(variations)) if (!keyPattern.test(vk)) fields[`flags.${key}.variants.${vk}`] ??= "variant keys must be 1 to 200 of A-Z, a-z, 0-9, '.', '_' and '-'";
    const targeting = raw['targeting'] === undefined || raw['targeting'] === null ? null : (resolveRefs(raw['targeting'], evaluators) as JsonValue);
    const metadata = { ...docMetadata, ...(isObject(raw['metadata']) ? raw['metadata'] : {}) } as Record<string, string | number | boolean>;
    out.push({
      key,
      type: inferType(Object.values(variations)),
      variations,
      defaultVariant: typeof raw['defaultVariant'] === 'string' && raw['defaultVariant'] !== '' ? raw['defaultVariant'] : null,
      enabled: raw['state'] === 'ENABLED',
      targeting: targeting !== null && isObject(targeting) && Object.keys(targeting).length === 0 ? null : targeting,
      metadata: Object.keys(metadata).length > 0 ? metadata : null,
    });
  }
  if (Object.keys(fields).length > 0) {
    const summary = Object.entries(fields).slice(0, 5).map(([f, m]) => `${f}: ${m}`).join('; ');
    throw new ValidationError(`Invalid flagd document: ${summary}`, fields);
  }
  return out;
}

/** The stored form of a document flag, for comparing with what is there. */
function comparable(f: DesiredFlag | StoredFlagdFlag): unknown {
  return [f.type, f.variations, f.defaultVariant, f.enabled, f.targeting, f.metadata];
}

/**
 * flagd flag-definition documents in and out of one project environment. Import creates or
 * replaces the document's flags (variations, default, metadata; in the environment: state and
 * JSONLogic targeting with flagd semantics) and leaves every other flag alone, in one transaction
 * with an audit event per changed flag, then publishes the change. Export renders the
 * environment's evaluated configuration (the in-memory snapshot) as a document.
 */
export class FlagdService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly projectAccess: ProjectAccessService,
    private readonly environments: EnvironmentService,
    private readonly store: FlagdStore,
    private readonly audit: AuditStore,
    private readonly changes: ChangeBus,
    private readonly snapshots: SnapshotCache,
  ) {}

  /** Imports `doc` into the environment (`flags:write`); `dryRun` plans and writes nothing. */
  async import(actor: Actor, projectRef: ProjectRef, environmentRef: EnvironmentRef, doc: unknown, options: { dryRun: boolean }): Promise<FlagdImportReport> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'flags:write');
    const environment = await this.environments.find(this.db, project.id, environmentRef);
    if (!environment) throw new NotFoundError('Environment');
    const desired = readFlagdDocument(doc);
    const run = async (trx: Transaction<Database>): Promise<FlagdImportReport> => {
      const flags: FlagdImportReport['flags'] = [];
      const fields: Record<string, string> = {};
      const now = nowIso();
      const plans: Array<{ flag: DesiredFlag; existing: StoredFlagdFlag | null; action: FlagdAction }> = [];
      for (const f of desired) {
        const existing = await this.store.find(trx, project.id, environment.id, f.key);
        if (existing && existing.type !== f.type) fields[`flags.${f.key}.variants`] = `the flag "${f.key}" here is ${existing.type}; these variants make it ${f.type}, and a flag's type never changes`;
        const action: FlagdAction = !existing ? 'created' : canonical(comparable(existing)) === canonical(comparable(f)) && existing.status === 'active' ? 'unchanged' : 'replaced';
        plans.push({ flag: f, existing, action });
        flags.push({ key: f.key, action });
      }
      if (Object.keys(fields).length > 0) throw new ValidationError('The document would change the type of existing flags', fields);
      // The engine judges each flag as it will be stored (native configuration with flagd semantics).
      for (const { flag: f } of plans) {
        const config = {
          flags: {
            [f.key]: {
              type: f.type,
              variations: f.variations,
              defaultVariation: f.defaultVariant ?? Object.keys(f.variations)[0]!,
              environments: { [environment.key]: { enabled: f.enabled, offVariation: null, defaultVariation: f.defaultVariant, ...(f.targeting !== null ? { targeting: f.targeting } : {}) } },
            },
          },
        };
        for (const i of validate(config)) fields[i.path] ??= i.message;
      }
      if (Object.keys(fields).length > 0) throw new ValidationError('The document cannot be stored as it is', fields);
      if (!options.dryRun) {
        for (const p of plans) {
          if (p.action === 'unchanged') continue;
          const flagId = await this.store.write(trx, project.id, environment.id, p.flag, p.existing, actor.userId, now);
          await this.audit.record(trx, actor, {
            organizationId: project.organizationId,
            projectId: project.id,
            action: p.action === 'created' ? 'flag.flagd_created' : 'flag.flagd_replaced',
            resourceType: 'flag',
            resourceId: flagId,
            before: p.existing ? { key: p.existing.key, ...(comparable(p.existing) as object) } : null,
            after: { key: p.flag.key, environment: environment.key, type: p.flag.type, variations: p.flag.variations, defaultVariant: p.flag.defaultVariant, enabled: p.flag.enabled, targeting: p.flag.targeting },
          });
        }
      }
      const summary: Record<FlagdAction, number> = { created: 0, replaced: 0, unchanged: 0 };
      for (const f of flags) summary[f.action]++;
      return { dryRun: options.dryRun, environment: environment.key, flags, summary };
    };
    const report = await this.db.transaction().execute(run);
    if (!report.dryRun && report.summary.created + report.summary.replaced > 0) {
      // Variations are the flag's in every environment: every snapshot of the project may change.
      await this.changes.publish({ organizationId: project.organizationId, projectId: project.id, environmentIds: 'all', entity: 'flag', action: 'updated', key: null, actorUserId: actor.userId });
    }
    return report;
  }

  /** The environment as a flagd document (`flags:read`), from the snapshot it is evaluated with. */
  async export(actor: Actor, projectRef: ProjectRef, environmentRef: EnvironmentRef): Promise<FlagdExport & { environment: string }> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'flags:read');
    const environment = await this.environments.find(this.db, project.id, environmentRef);
    if (!environment) throw new NotFoundError('Environment');
    let snapshot = this.snapshots.get(environment.id);
    if (!snapshot) {
      await this.snapshots.refresh(project.id);
      snapshot = this.snapshots.get(environment.id);
    }
    if (!snapshot) throw new NotFoundError('Environment');
    return { ...toFlagdDocument(snapshot.config, environment.key), environment: environment.key };
  }
}
