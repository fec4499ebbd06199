import type { ConditionConfig } from '@switchyard/engine';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import { checkKey } from '../../domain/keys.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { ChangeBus } from '../../evaluation/change-bus.js';
import type { AuditStore } from '../audit/audit-store.js';
import { pageOf, type Page, type PageRequest } from '../organizations/member-service.js';
import type { ProjectAccessService, ProjectRef } from '../projects/project-access.js';
import { checkConfig, engineRuleId, toEngineSegment } from './engine-config.js';
import type { Segment, SegmentStore } from './segment-store.js';
import type { TargetingStore } from './targeting-store.js';
import { MAX_CONDITIONS_PER_RULE, type WriteOptions } from './targeting-service.js';

/** A new segment. */
export interface NewSegment {
  key: string;
  name: string;
  description?: string | null;
  conditions?: ConditionConfig[];
  included?: string[];
  excluded?: string[];
}

/** PATCH semantics: absent = unchanged, null = cleared. The key never changes (rules refer to it). */
export interface SegmentChanges {
  name?: string;
  description?: string | null;
  conditions?: ConditionConfig[] | null;
  included?: string[] | null;
  excluded?: string[] | null;
}

/** A segment reference as callers give it: `seg_1`, `1`, or its key. */
export type SegmentRef = string | number;

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) throw new ValidationError('Segment name must be 1 to 200 characters', { name: 'must be 1 to 200 characters' });
  return trimmed;
}

function checkDescription(d: string | null | undefined): string | null {
  if (d === undefined || d === null) return null;
  if (d.length > 2000) throw new ValidationError('description must be at most 2000 characters', { description: 'must be at most 2000 characters' });
  return d;
}

function checkConditions(c: readonly unknown[] | null | undefined): void {
  if (c && c.length > MAX_CONDITIONS_PER_RULE) {
    throw new ValidationError(`A segment may have at most ${MAX_CONDITIONS_PER_RULE} conditions`, { conditions: `must have at most ${MAX_CONDITIONS_PER_RULE} conditions (got ${c.length})` });
  }
}

/** The engine judges a segment on its own: conditions (no segment operators inside), key lists. */
function validateSegment(s: Pick<Segment, 'key' | 'included' | 'excluded' | 'conditions'>): void {
  checkConfig({ flags: {}, segments: { [s.key]: toEngineSegment(s) } }, null, [{ engine: `segments.${s.key}`, request: '' }]);
}

function segmentFields(s: Segment): Record<string, unknown> {
  return { key: s.key, name: s.name, description: s.description, conditions: s.conditions, included: s.included, excluded: s.excluded };
}

/**
 * Segments of a project: reusable audiences that rules name. Writes are validated by the engine,
 * audited (resource type `segment`) and published as a change to every environment.
 */
export class SegmentService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly projectAccess: ProjectAccessService,
    private readonly segments: SegmentStore,
    private readonly targeting: TargetingStore,
    private readonly audit: AuditStore,
    private readonly changes: ChangeBus,
  ) {}

  /** Segments by key. */
  async list(actor: Actor, projectRef: ProjectRef, page?: PageRequest): Promise<Page<Segment>> {
    const bounds = pageOf(page);
    const { project } = await this.projectAccess.require(actor, projectRef, 'flags:read');
    return this.segments.list(this.db, project.id, bounds);
  }

  async get(actor: Actor, projectRef: ProjectRef, ref: SegmentRef): Promise<Segment> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'flags:read');
    const segment = await this.segments.find(this.db, project.id, ref);
    if (!segment) throw new NotFoundError('Segment');
    return segment;
  }

  async create(actor: Actor, projectRef: ProjectRef, input: NewSegment): Promise<Segment> {
    checkKey('key', input.key);
    const name = checkName(input.name);
    const description = checkDescription(input.description);
    checkConditions(input.conditions);
    const now = nowIso();
    const draft = { key: input.key, conditions: input.conditions ?? [], included: input.included ?? [], excluded: input.excluded ?? [] };
    let created: { segment: Segment; organizationId: number };
    try {
      created = await this.db.transaction().execute(async (trx) => {
        const { project } = await this.projectAccess.require(actor, projectRef, 'segments:write', trx);
        validateSegment(draft);
        if (await this.segments.find(trx, project.id, input.key)) {
          throw new ConflictError(`A segment with key "${input.key}" already exists`, 'segment_exists', { key: input.key });
        }
        const s: Segment = { id: newId(), projectId: project.id, name, description, ...draft, version: 1, createdAt: now, updatedAt: now };
        await this.segments.insert(trx, s);
        await this.audit.record(trx, actor, {
          organizationId: project.organizationId,
          projectId: project.id,
          action: 'segment.created',
          resourceType: 'segment',
          resourceId: s.id,
          after: segmentFields(s),
        });
        return { segment: s, organizationId: project.organizationId };
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new ConflictError(`A segment with key "${input.key}" already exists`, 'segment_exists', { key: input.key });
      }
      throw e;
    }
    await this.publish(created.organizationId, created.segment, 'created');
    return created.segment;
  }

  /** Changes a segment (If-Match: its `version`). */
  async update(actor: Actor, projectRef: ProjectRef, ref: SegmentRef, changes: SegmentChanges, options: WriteOptions = {}): Promise<Segment> {
    const name = changes.name === undefined ? undefined : checkName(changes.name);
    const description = changes.description === undefined ? undefined : checkDescription(changes.description);
    checkConditions(changes.conditions);
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.db.transaction().execute(async (trx) => {
        const { project } = await this.projectAccess.require(actor, projectRef, 'segments:write', trx);
        const current = await this.segments.find(trx, project.id, ref);
        if (!current) throw new NotFoundError('Segment');
        if (options.ifMatch !== undefined && options.ifMatch !== current.version) {
          throw new PreconditionFailedError(`Segment "${current.key}" has changed since version ${options.ifMatch} (now ${current.version})`, 'precondition_failed', { version: current.version });
        }
        const next: Segment = { ...current };
        if (name !== undefined) next.name = name;
        if (description !== undefined) next.description = description;
        if (changes.conditions !== undefined) next.conditions = changes.conditions ?? [];
        if (changes.included !== undefined) next.included = changes.included ?? [];
        if (changes.excluded !== undefined) next.excluded = changes.excluded ?? [];
        const before: Record<string, unknown> = {};
        const after: Record<string, unknown> = {};
        const a = segmentFields(current);
        const b = segmentFields(next);
        for (const k of Object.keys(b)) {
          if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) {
            before[k] = a[k];
            after[k] = b[k];
          }
        }
        if (Object.keys(after).length === 0) return { segment: current, changed: false, organizationId: project.organizationId };
        validateSegment(next);
        next.version = current.version + 1;
        next.updatedAt = nowIso();
        if (!(await this.segments.update(trx, next, current.version))) return null;
        await this.audit.record(trx, actor, {
          organizationId: project.organizationId,
          projectId: project.id,
          action: 'segment.updated',
          resourceType: 'segment',
          resourceId: current.id,
          before,
          after: { key: current.key, ...after },
        });
        return { segment: next, changed: true, organizationId: project.organizationId };
      });
      if (outcome === null) {
        if (attempt < 5) continue;
        throw new PreconditionFailedError('The segment kept changing while it was being written; try again');
      }
      if (outcome.changed) await this.publish(outcome.organizationId, outcome.segment, 'updated');
      return outcome.segment;
    }
  }

  /** Deletes a segment; refused (409 `segment_in_use`, rules named in `details.rules`) while a rule uses it. */
  async delete(actor: Actor, projectRef: ProjectRef, ref: SegmentRef, options: WriteOptions = {}): Promise<Segment> {
    const deleted = await this.db.transaction().execute(async (trx) => {
      const { project } = await this.projectAccess.require(actor, projectRef, 'segments:write', trx);
      // FOR UPDATE: a rule write naming this segment holds it FOR SHARE until it commits.
      const current = await this.segments.find(trx, project.id, ref, true);
      if (!current) throw new NotFoundError('Segment');
      if (options.ifMatch !== undefined && options.ifMatch !== current.version) {
        throw new PreconditionFailedError(`Segment "${current.key}" has changed since version ${options.ifMatch} (now ${current.version})`, 'precondition_failed', { version: current.version });
      }
      const users = await this.targeting.rulesUsingSegment(trx, project.id, current.key);
      if (users.length > 0) {
        const named = users.slice(0, 10).map((u) => `${engineRuleId(u.ruleId)} (flag "${u.flagKey}" in "${u.environmentKey}")`);
        throw new ConflictError(
          `Segment "${current.key}" is used by ${users.length} rule(s): ${named.join(', ')}${users.length > 10 ? ', …' : ''}; remove it from them first`,
          'segment_in_use',
          { rules: users.map((u) => ({ ruleId: engineRuleId(u.ruleId), flagKey: u.flagKey, environment: u.environmentKey })) },
        );
      }
      await this.segments.delete(trx, current.id);
      await this.audit.record(trx, actor, {
        organizationId: project.organizationId,
        projectId: project.id,
        action: 'segment.deleted',
        resourceType: 'segment',
        resourceId: current.id,
        before: segmentFields(current),
      });
      return { segment: current, organizationId: project.organizationId };
    });
    await this.publish(deleted.organizationId, deleted.segment, 'deleted');
    return deleted.segment;
  }

  /** After the commit: a segment can change what every environment of its project serves. */
  private async publish(organizationId: number, segment: Segment, action: 'created' | 'updated' | 'deleted'): Promise<void> {
    await this.changes.publish({ organizationId, projectId: segment.projectId, environmentIds: 'all', entity: 'segment', action, key: segment.key });
  }
}
