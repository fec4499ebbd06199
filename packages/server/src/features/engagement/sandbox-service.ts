import type { JsonValue, ServeConfig, TargetConfig } from '@switchyard/engine';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { ChangeBus, ConfigChange } from '../../evaluation/change-bus.js';
import type { EvaluationCounters } from '../../evaluation/evaluation-counters.js';
import type { AccessService } from '../access/access-service.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { FlagStore, FlagType } from '../flags/flag-store.js';
import { emailProblem, normalizeEmail } from '../identity/email.js';
import type { Organization, OrganizationStore } from '../organizations/organization-store.js';
import type { ProjectStore } from '../projects/project-store.js';
import type { SegmentStore } from '../targeting/segment-store.js';
import type { TargetingStore } from '../targeting/targeting-store.js';
import type { SandboxStore, SandboxSubscription } from './sandbox-store.js';

/** The targeting keys the demo flags know. */
export const demoUsers = ['demo-user-1', 'demo-user-2', 'demo-user-3'] as const;

interface DemoFlag {
  key: string;
  name: string;
  description: string;
  type: FlagType;
  tags: string[];
  variations: Array<{ key: string; name: string; value: JsonValue }>;
  defaultVariation: string;
  /** Enabled in every environment, serving `serve`, with these individual targets. */
  enabled: boolean;
  serve: ServeConfig;
  targets: TargetConfig[];
}

/** What a sandbox tenant's default project is seeded with (and reset to). */
export const demoFlags: readonly DemoFlag[] = [
  {
    key: 'demo-new-checkout',
    name: 'Demo: new checkout',
    description: 'A boolean flag: off for everyone except demo-user-1',
    type: 'boolean',
    tags: ['demo'],
    variations: [
      { key: 'on', name: 'On', value: true },
      { key: 'off', name: 'Off', value: false },
    ],
    defaultVariation: 'off',
    enabled: true,
    serve: { variation: 'off' },
    targets: [{ variation: 'on', values: ['demo-user-1'] }],
  },
  {
    key: 'demo-banner-text',
    name: 'Demo: banner text',
    description: 'A string flag: a different banner for demo-user-2',
    type: 'string',
    tags: ['demo', 'ui'],
    variations: [
      { key: 'welcome', name: 'Welcome', value: 'Welcome to the sandbox!' },
      { key: 'holiday', name: 'Holiday', value: 'Happy holidays!' },
    ],
    defaultVariation: 'welcome',
    enabled: true,
    serve: { variation: 'welcome' },
    targets: [{ variation: 'holiday', values: ['demo-user-2'] }],
  },
  {
    key: 'demo-max-items',
    name: 'Demo: max items',
    description: 'A number flag, disabled: serves its default everywhere',
    type: 'number',
    tags: ['demo'],
    variations: [
      { key: 'ten', name: 'Ten', value: 10 },
      { key: 'fifty', name: 'Fifty', value: 50 },
    ],
    defaultVariation: 'ten',
    enabled: false,
    serve: { variation: 'ten' },
    targets: [],
  },
];

/** A sandbox's state: active until it expires. A tenant that is no sandbox is never active. */
export interface SandboxStatus {
  active: boolean;
  isSandbox: boolean;
  expiresAt: string | null;
}

const dayMs = 86_400_000;

/**
 * Sandbox tenants: seeded with demo flags when created with `isSandbox: true` (an organisation
 * `onCreated` hook), expiring after `SWITCHYARD_SANDBOX_DAYS`; their status, usage indicators and
 * demo data; reset to the demo state (refused for a tenant that is no sandbox); and subscriptions
 * to sandbox updates. Every route needs the tenant named by `X-Tenant-ID`.
 */
export class SandboxService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly store: SandboxStore,
    private readonly organizations: OrganizationStore,
    private readonly projects: ProjectStore,
    private readonly flags: FlagStore,
    private readonly targeting: TargetingStore,
    private readonly segments: SegmentStore,
    private readonly evaluationCounters: EvaluationCounters,
    private readonly audit: AuditStore,
    private readonly changes: ChangeBus,
    private readonly config: { sandboxDays: number },
    private readonly now: () => string = nowIso,
  ) {}

  /**
   * Makes `organizationId` a sandbox: sets its expiry and puts the demo flags in its default
   * project, inside the caller's transaction. Call `announce` after it commits.
   */
  async seed(trx: Transaction<Database>, actor: Actor, organizationId: number): Promise<void> {
    const now = this.now();
    const expiresAt = new Date(Date.parse(now) + this.config.sandboxDays * dayMs).toISOString();
    await this.store.markSandbox(trx, organizationId, expiresAt, now);
    const project = await this.projects.findDefaultProject(trx, organizationId);
    if (project) await this.seedFlags(trx, actor, project.id, now);
    await this.audit.record(trx, actor, {
      organizationId,
      projectId: project?.id ?? null,
      action: 'sandbox.seeded',
      resourceType: 'organization',
      resourceId: organizationId,
      after: { expiresAt, flags: demoFlags.map((f) => f.key) },
    });
  }

  /** Tells evaluation about a freshly seeded (or reset) sandbox's default project. */
  async announce(organizationId: number, actor?: Actor): Promise<void> {
    const project = await this.projects.findDefaultProject(this.db, organizationId);
    if (project) await this.changes.publish({ organizationId, projectId: project.id, environmentIds: 'all', entity: 'project', action: 'updated', key: project.key, actorUserId: actor?.userId ?? null });
  }

  /** The organisation `onCreated` hook: seeds an organisation created as a sandbox. */
  async onOrganizationCreated(organization: Organization, actor: Actor): Promise<void> {
    if (!organization.isSandbox) return;
    await this.db.transaction().execute((trx) => this.seed(trx, actor, organization.id));
    await this.announce(organization.id, actor);
  }

  async status(actor: Actor, organizationId: number | null): Promise<SandboxStatus> {
    const org = await this.organization(actor, organizationId, 'organization:read');
    return statusOf(org, this.now());
  }

  /** Flags in use (not archived) and evaluations counted so far in the tenant. */
  async indicators(actor: Actor, organizationId: number | null): Promise<{ flagsUsed: number; evaluations: number }> {
    const org = await this.organization(actor, organizationId, 'usage:read');
    const [flagsUsed, counts] = await Promise.all([this.store.countFlags(this.db, org.id), this.evaluationCounters.read({ organizationId: org.id })]);
    return { flagsUsed, evaluations: counts.reduce((sum, c) => sum + c.count, 0) };
  }

  /** The demo flag keys and demo targeting keys a sandbox is seeded with. */
  async demoData(actor: Actor, organizationId: number | null): Promise<{ flags: string[]; users: string[] }> {
    await this.organization(actor, organizationId, 'flags:read');
    return { flags: demoFlags.map((f) => f.key), users: [...demoUsers] };
  }

  /**
   * Back to the demo state: every project but the default one is deleted, the default project's
   * flags and segments are replaced by the demo flags. The expiry stays. 409 `not_sandbox` for a
   * tenant that is no sandbox.
   */
  async reset(actor: Actor, organizationId: number | null): Promise<void> {
    const changes: ConfigChange[] = [];
    await this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'organization:write', trx);
      await this.organizations.lock(trx, grant.organizationId);
      const org = (await this.organizations.findById(trx, grant.organizationId))!;
      if (!org.isSandbox) throw new ConflictError('Only a sandbox tenant can be reset to its demo state', 'not_sandbox');
      const now = this.now();
      let defaultProjectId: number | null = null;
      for (const project of await this.projects.listProjects(trx, org.id)) {
        if (project.isDefault) {
          defaultProjectId = project.id;
          continue;
        }
        await this.projects.deleteProject(trx, project.id);
        changes.push({ organizationId: org.id, projectId: project.id, environmentIds: 'all', entity: 'project', action: 'deleted', key: project.key, actorUserId: actor.userId });
      }
      if (defaultProjectId !== null) {
        for (const flag of await this.flags.listAll(trx, defaultProjectId)) await this.flags.deleteFlag(trx, flag.id);
        for (const segment of await this.segments.listAll(trx, defaultProjectId)) await this.segments.delete(trx, segment.id);
        await this.seedFlags(trx, actor, defaultProjectId, now);
        const project = (await this.projects.findById(trx, defaultProjectId))!;
        changes.push({ organizationId: org.id, projectId: project.id, environmentIds: 'all', entity: 'project', action: 'updated', key: project.key, actorUserId: actor.userId });
      }
      await this.audit.record(trx, actor, {
        organizationId: org.id,
        projectId: defaultProjectId,
        action: 'sandbox.reset',
        resourceType: 'organization',
        resourceId: org.id,
        after: { flags: demoFlags.map((f) => f.key) },
      });
    });
    for (const change of changes) await this.changes.publish(change);
  }

  /** Stores (or updates) a subscription to sandbox updates for `email`. */
  async subscribe(actor: Actor, organizationId: number | null, input: { email: string; name?: string | null }): Promise<{ subscription: SandboxSubscription; created: boolean }> {
    const org = await this.organization(actor, organizationId, 'organization:read');
    const email = normalizeEmail(input.email);
    const problem = emailProblem(email);
    const name = input.name?.trim() || null;
    const fields: Record<string, string> = {};
    if (problem) fields.email = problem;
    if (name && name.length > 200) fields.name = 'must be at most 200 characters';
    if (Object.keys(fields).length > 0) throw new ValidationError('The subscription is invalid', fields);
    const now = this.now();
    const id = newId();
    const subscription = await this.store.upsertSubscription(this.db, { id, organizationId: org.id, userId: actor.userId, email, name, createdAt: now, updatedAt: now });
    return { subscription, created: subscription.id === id };
  }

  private async organization(actor: Actor, organizationId: number | null, permission: Parameters<AccessService['require']>[2]): Promise<Organization> {
    const grant = await this.access.require(actor, organizationId, permission);
    const org = await this.organizations.findById(this.db, grant.organizationId);
    if (!org) throw new NotFoundError('Tenant');
    return org;
  }

  private async seedFlags(trx: Transaction<Database>, actor: Actor, projectId: number, now: string): Promise<void> {
    const environments = await this.projects.listEnvironments(trx, projectId);
    for (const demo of demoFlags) {
      const flagId = newId();
      await this.flags.insertFlag(trx, {
        id: flagId,
        projectId,
        key: demo.key,
        name: demo.name,
        description: demo.description,
        type: demo.type,
        defaultVariation: demo.defaultVariation,
        tags: demo.tags,
        status: 'active',
        metadata: null,
        version: 1,
        createdBy: actor.userId,
        createdAt: now,
        updatedAt: now,
        archivedAt: null,
      });
      for (const [position, v] of demo.variations.entries()) {
        await this.flags.insertVariation(trx, { id: newId(), flagId, key: v.key, name: v.name, value: v.value, description: null, weight: null, position, createdAt: now, updatedAt: now });
      }
      for (const env of environments) {
        await this.targeting.insertFlagEnvironment(trx, {
          id: newId(),
          flagId,
          environmentId: env.id,
          enabled: demo.enabled,
          offVariation: null,
          defaultServe: demo.serve,
          targets: demo.targets,
          prerequisites: [],
          targeting: null,
          version: 1,
          updatedAt: now,
        });
      }
    }
  }
}

/** Active while it is a sandbox whose expiry has not passed. */
export function statusOf(org: Organization, now: string): SandboxStatus {
  if (!org.isSandbox) return { active: false, isSandbox: false, expiresAt: null };
  return { active: org.sandboxExpiresAt === null || org.sandboxExpiresAt > now, isSandbox: true, expiresAt: org.sandboxExpiresAt };
}
