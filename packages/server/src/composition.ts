import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connect.js';
import { KyselyAuditStore } from './features/audit/audit-store.js';
import { KyselyOrganizationStore } from './features/organizations/organization-store.js';
import { OrganizationService } from './features/organizations/organization-service.js';
import { AccessService } from './features/access/access-service.js';
import { KyselyRoleStore } from './features/access/role-store.js';
import { RoleService } from './features/access/role-service.js';
import { KyselyMailOutboxStore } from './features/mail/mail-outbox-store.js';
import { MailOutboxService } from './features/mail/mail-outbox-service.js';
import { OutboxMailer, SmtpMailer, type Mailer } from './features/mail/mailer.js';
import { BootstrapService } from './features/organizations/bootstrap-service.js';
import { KyselyInvitationStore } from './features/organizations/invitation-store.js';
import { InvitationService } from './features/organizations/invitation-service.js';
import { MemberService } from './features/organizations/member-service.js';
import { KyselyProjectStore } from './features/projects/project-store.js';
import { KyselyProjectMemberStore } from './features/projects/project-member-store.js';
import { ProjectAccessService } from './features/projects/project-access.js';
import { ProjectService } from './features/projects/project-service.js';
import { EnvironmentService } from './features/projects/environment-service.js';
import { ProjectMemberService } from './features/projects/project-member-service.js';
import { KyselyFlagStore } from './features/flags/flag-store.js';
import { FlagService } from './features/flags/flag-service.js';
import { KyselyAuditQueryStore } from './features/audit/audit-query-store.js';
import { AuditQueryService } from './features/audit/audit-query-service.js';
import { AccountService } from './features/identity/account-service.js';
import { KyselyCallerStore, KyselySessionStore } from './features/identity/session-store.js';
import { KyselySigningKeyStore } from './features/identity/signing-key-store.js';
import { TokenService } from './features/identity/token-service.js';
import { KyselyUserStore } from './features/identity/user-store.js';
import { createServerMetrics, type ServerMetrics } from './features/operations/metrics.js';
import { ReadinessRegistry } from './features/operations/readiness.js';
import { InMemoryRateLimiter, type RateLimiter } from './features/rate-limits/rate-limiter.js';
import { InProcessChangeBus, type ChangeBus } from './evaluation/change-bus.js';
import { SnapshotBuilder } from './evaluation/snapshot-builder.js';
import { SnapshotCache } from './evaluation/snapshot-cache.js';
import { ApiKeyMap } from './evaluation/api-key-map.js';
import { Gauge, Histogram } from 'prom-client';
import { KyselyRevisionStore, type RevisionStore } from './evaluation/revision-store.js';
import { StreamHub } from './evaluation/stream-hub.js';
import { SdkDeliveryService } from './evaluation/stream-service.js';
import { PostgresChangeRelay } from './evaluation/pg-change-relay.js';
import { RedisRateLimiter } from './features/rate-limits/redis-rate-limiter.js';
import { EvaluationCounters } from './evaluation/evaluation-counters.js';
import { EvaluationService } from './evaluation/evaluation-service.js';
import { OfrepService } from './evaluation/ofrep-service.js';
import { FlagdService } from './features/flagd/flagd-service.js';
import { KyselyFlagdStore } from './features/flagd/flagd-store.js';
import { FlagValuesService } from './evaluation/flag-values-service.js';
import { KyselyUsageStore } from './features/usage/usage-store.js';
import { UsageService } from './features/usage/usage-service.js';
import { KyselyEntitlementStore } from './features/plans/entitlement-store.js';
import { EntitlementService } from './features/plans/entitlement-service.js';
import { planCatalog, planInForce } from './features/plans/plans.js';
import { KyselyBillingStore } from './features/billing/billing-store.js';
import { BillingService } from './features/billing/billing-service.js';
import { KyselyExportStore } from './features/exports/export-store.js';
import { ExportService } from './features/exports/export-service.js';
import { ImportService } from './features/exports/import-service.js';
import { KyselyDeletionStore } from './features/account-deletion/deletion-store.js';
import { AccountDeletionService } from './features/account-deletion/account-deletion-service.js';
import { KyselyApiKeyStore } from './features/api-keys/api-key-store.js';
import { ApiKeyService } from './features/api-keys/api-key-service.js';
import { KyselyTargetingStore } from './features/targeting/targeting-store.js';
import { KyselySegmentStore } from './features/targeting/segment-store.js';
import { TargetingService } from './features/targeting/targeting-service.js';
import { SegmentService } from './features/targeting/segment-service.js';
import { OrganizationEvaluationService } from './evaluation/organization-evaluation-service.js';
import { TenantEnvironmentService } from './features/projects/tenant-environment-service.js';
import { TenantUsageService } from './features/organizations/tenant-usage-service.js';
import { KyselyOAuthClientStore } from './features/oauth-clients/oauth-client-store.js';
import { OAuthClientService } from './features/oauth-clients/oauth-client-service.js';
import { IdTokenVerifier } from './features/identity/id-token-verifier.js';
import { KyselyExternalIdentityStore } from './features/identity/external-identity-store.js';
import { ExternalSignInService } from './features/identity/external-sign-in-service.js';
import { KyselyPasswordResetStore } from './features/identity/password-reset-store.js';
import { PasswordService } from './features/identity/password-service.js';

import { KyselyIdempotencyStore } from './features/idempotency/idempotency-store.js';
import { IdempotencyService } from './features/idempotency/idempotency-service.js';
import { KyselyProductTourStore } from './features/engagement/product-tour-store.js';
import { ProductTourService } from './features/engagement/product-tour-service.js';
import { KyselyNotificationStore } from './features/engagement/notification-store.js';
import { NotificationService } from './features/engagement/notification-service.js';
import { FcmPushSender, UndeliveredPushSender } from './features/engagement/push-sender.js';
import { KyselySandboxStore } from './features/engagement/sandbox-store.js';
import { SandboxService } from './features/engagement/sandbox-service.js';
import { KyselyPlatformStore } from './features/platform/platform-store.js';
import { PlatformAdminService } from './features/platform/platform-admin-service.js';
import type { AuditStore } from './features/audit/audit-store.js';
import type { OrganizationStore } from './features/organizations/organization-store.js';
import type { ProjectStore } from './features/projects/project-store.js';
import type { FlagStore } from './features/flags/flag-store.js';
import type { TargetingStore } from './features/targeting/targeting-store.js';
import type { SegmentStore } from './features/targeting/segment-store.js';
import type { UserStore } from './features/identity/user-store.js';

/**
 * Every service the HTTP surfaces call, built once from the stores and collaborators they need.
 * This is the only place that wires implementations together.
 */
export interface Services extends EngagementServices, TenantServices, BillingServices {
  config: Config;
  database: DatabaseHandle;
  organizations: OrganizationService;
  /** The one permission check every service makes (`require(actor, organizationId, permission)`). */
  access: AccessService;
  /** The permission check every project-scoped service makes (`require(actor, projectRef, permission)`). */
  projectAccess: ProjectAccessService;
  /** Projects: list (with flag counts), create with the organisation's environments, change, delete. */
  projects: ProjectService;
  /** A project's environments. */
  environments: EnvironmentService;
  /** Project roles (admin, member). */
  projectMembers: ProjectMemberService;
  /** Flags and variations, keyed by project + key or by flag id; every surface uses this one. */
  flags: FlagService;
  /** Audit log and flag history. */
  auditQuery: AuditQueryService;
  members: MemberService;
  roles: RoleService;
  invitations: InvitationService;
  /** Outgoing mail: the outbox table, and SMTP when `SMTP_URL` is set. */
  mailer: Mailer;
  mailOutbox: MailOutboxService;
  /** Creates the first admin from `SWITCHYARD_ADMIN_*`; `buildApp` runs it on start. */
  bootstrap: BootstrapService;
  /** Accounts and sign-in (identity slice). */
  accounts: AccountService;
  /** The server's own access tokens and signing keys (identity slice). */
  tokens: TokenService;
  /** `/readyz` checks; register one for anything that must load before serving (e.g. snapshots). */
  readiness: ReadinessRegistry;
  /** This instance's Prometheus registry and HTTP metrics. */
  metrics: ServerMetrics;
  /** Counts `/api/v1` requests per credential; in memory until a shared one is configured. */
  rateLimiter: RateLimiter;
  /**
   * Configuration changes (flags, rules, segments, environments, API keys): every write that changes
   * what evaluation sees publishes here AFTER its transaction commits, and awaits it. The snapshot
   * cache subscribes first, so the next evaluate after the write's response sees the change.
   */
  changes: ChangeBus;
  /** One compiled engine snapshot per environment (+ digest, revision, config); swaps announced via `subscribe`. */
  snapshots: SnapshotCache;
  /** Stored per-environment revisions (`environment_revisions`): the same number names the same configuration on every instance. */
  revisions: RevisionStore;
  /** SDK streams: one channel per environment, events serialised once per swap, `Last-Event-ID` rings. */
  streams: StreamHub;
  /** `GET /api/v1/stream` and `GET /api/v1/sdk/config`: who may follow which environment, and its configuration. */
  sdkDelivery: SdkDeliveryService;
  /** With PostgreSQL: carries changes between instances (LISTEN/NOTIFY) and checks revisions; null on SQLite. */
  changeRelay: PostgresChangeRelay | null;
  /** Every API key in memory by SHA-256: what identifies `X-API-Key` without a query. */
  apiKeyMap: ApiKeyMap;
  /** Evaluation counts per environment, flag, variation and UTC day; `read` for usage. */
  evaluationCounters: EvaluationCounters;
  /** Evaluate with an API key, from memory (`target` resolves a key's environment snapshot). */
  evaluation: EvaluationService;
  /** Flag values by API key with no targeting context (ToggleSmartly's get-values), from memory. */
  flagValues: FlagValuesService;
  /** OpenFeature OFREP evaluations by API key (memory only). */
  ofrep: OfrepService;
  /** flagd documents in and out of a project environment. */
  flagd: FlagdService;
  /** Togul's `/usage`: evaluations per day, flag and environment, and resource counts against the plan's limits. */
  usage: UsageService;
  /** Togul's `/exports`: background export jobs of an organisation or project, and their documents. */
  exports: ExportService;
  /** Togul's `/imports`: applies an export document (dry run or one transaction). */
  imports: ImportService;
  /** Togul's `/account-deletion`: requests with a grace period, and the erasure job (`runDue`). */
  accountDeletions: AccountDeletionService;
  /** `/projects/{id}/api-keys`: create (secret once), list, get, revoke. */
  apiKeys: ApiKeyService;
  /** Per-environment flag configuration (enable/disable, serves, targets, prerequisites) and ordered rules. */
  targeting: TargetingService;
  /** Project segments that rules refer to. */
  segments: SegmentService;
  /** OAuth2 clients (secret once, hashed), the client-credentials grant, and machine-token actors. */
  oauthClients: OAuthClientService;
  /** Sign-in with external OIDC / Firebase ID tokens (signup, login, signin/*) and ID tokens as bearer tokens. */
  externalSignIn: ExternalSignInService;
  /** Forgot / reset password (mailed single-use link) and changing one's own password. */
  passwords: PasswordService;
}

/** Platform and engagement services (issue 5): idempotency keys, product tours, notifications, sandbox, platform admin. */
export interface EngagementServices {
  /** `Idempotency-Key` claims and stored first responses (the idempotency plugin's). */
  idempotency: IdempotencyService;
  /** `/users/{userId}/product-tours/{tourKey}`: a user's own tours (platform admins: anyone's). */
  productTours: ProductTourService;
  /** The caller's notifications and push devices; admin sends; flag-change notifications (change bus). */
  notifications: NotificationService;
  /** Sandbox tenants: seeding on creation (`organizations.onCreated`), status, indicators, reset, subscriptions. */
  sandbox: SandboxService;
  /** `/admin/…`: platform users and roles, platform invitations, every tenant. */
  platformAdmin: PlatformAdminService;
}

/** What the engagement services need from the rest of the composition. */
interface EngagementDependencies {
  access: AccessService;
  audit: AuditStore;
  changes: ChangeBus;
  evaluationCounters: EvaluationCounters;
  mailer: Mailer;
  organizations: OrganizationService;
  users: UserStore;
  organizationStore: OrganizationStore;
  projectStore: ProjectStore;
  flagStore: FlagStore;
  targetingStore: TargetingStore;
  segmentStore: SegmentStore;
}

/** Plans, quotas and Stripe billing (issue 8). */
export interface BillingServices {
  /** Plans in force, `requireWithinLimit` / `requireFeature` (wired into flags, environments, invitations, API keys), evaluation quota, plan-based rate limits. */
  entitlements: EntitlementService;
  /** Stripe Checkout / Billing Portal sessions, the subscription, webhooks (409 `billing_disabled` without `STRIPE_SECRET_KEY`). */
  billing: BillingService;
}

/** IntelliToggle's tenant-level services (issue 5, flags and tenants). */
export interface TenantServices {
  /** Evaluate a flag by key with a bearer token (user or OAuth client with `flags:evaluate`), from memory. */
  organizationEvaluation: OrganizationEvaluationService;
  /** The organisation's default environment list, applied to every project. */
  tenantEnvironments: TenantEnvironmentService;
  /** Flags, evaluations this month and members of an organisation. */
  tenantUsage: TenantUsageService;
}

/** Builds the services over an open, migrated database. */
export function createServices(config: Config, database: DatabaseHandle): Services {
  const db = database.db;
  const changes = new InProcessChangeBus((error, change) => {
    console.error('change listener failed', { change, error });
  });
  // The snapshot cache subscribes to the bus before anything else does (see `changes`).
  const revisions = new KyselyRevisionStore(db);
  // Before the snapshot cache: other instances are notified first and rebuild while this one does.
  const changeRelay = database.dialect === 'postgres' && config.database.dialect === 'postgres'
    ? new PostgresChangeRelay(db, changes, revisions, { url: config.database.url, revisionCheckMs: config.revisionCheckSeconds * 1000 })
    : null;
  const snapshots = new SnapshotCache(new SnapshotBuilder(db, database.dialect), changes, undefined, undefined, revisions);
  const apiKeyStore = new KyselyApiKeyStore();
  const apiKeyMap = new ApiKeyMap(db, apiKeyStore, changes);
  const evaluationCounters = new EvaluationCounters(db);
  const evaluation = new EvaluationService(apiKeyMap, snapshots, evaluationCounters);
  const flagValues = new FlagValuesService(apiKeyMap, evaluation);
  const ofrep = new OfrepService(evaluation, evaluationCounters);
  const audit = new KyselyAuditStore();
  const organizationStore = new KyselyOrganizationStore(planOfFor(config));
  const access = new AccessService(db, organizationStore, new KyselyRoleStore());
  const projectStore = new KyselyProjectStore();
  const projectMemberStore = new KyselyProjectMemberStore();
  const projectAccess = new ProjectAccessService(db, access, projectStore, projectMemberStore);
  const organizations = new OrganizationService(db, organizationStore, audit, access, projectStore);
  const flagStore = new KyselyFlagStore();
  const projects = new ProjectService(db, access, projectAccess, projectStore, organizationStore, flagStore, audit, changes);
  const environments = new EnvironmentService(db, projectAccess, projectStore, audit, changes);
  const flagd = new FlagdService(db, projectAccess, environments, new KyselyFlagdStore(database.dialect), audit, changes, snapshots);
  const projectMembers = new ProjectMemberService(db, projectAccess, projectMemberStore, organizationStore, audit);
  const flags = new FlagService(db, projectAccess, projectStore, flagStore, audit, changes);
  const auditQuery = new AuditQueryService(db, projectAccess, flags, flagStore, new KyselyAuditQueryStore());
  const tokens = new TokenService(db, database.dialect, new KyselySigningKeyStore(), audit, config.publicUrl);
  const userStore = new KyselyUserStore();
  const accountDeletions = new AccountDeletionService(db, access, new KyselyDeletionStore(), audit, changes, config.deletionGraceDays);
  const accounts = new AccountService(db, userStore, new KyselySessionStore(), new KyselyCallerStore(), tokens, organizations, audit, config);
  accounts.usePendingDeletions(accountDeletions);
  const outbox = new KyselyMailOutboxStore();
  const mailer = config.smtpUrl ? new SmtpMailer(db, outbox, config.smtpUrl, config.mailFrom) : new OutboxMailer(db, outbox);
  const members = new MemberService(db, access, organizationStore, audit);
  const roles = new RoleService(db, access, new KyselyRoleStore(), audit);
  const invitations = new InvitationService(db, access, organizationStore, new KyselyInvitationStore(), userStore, accounts, mailer, audit, config);
  const mailOutbox = new MailOutboxService(db, access, outbox);
  const bootstrap = new BootstrapService(db, userStore, accounts, organizations, config);
  const targetingStore = new KyselyTargetingStore(database.dialect);
  const segmentStore = new KyselySegmentStore(database.dialect);
  const targeting = new TargetingService(db, projectAccess, targetingStore, segmentStore, audit, changes);
  const segments = new SegmentService(db, projectAccess, segmentStore, targetingStore, audit, changes);
  const apiKeys = new ApiKeyService(db, projectAccess, projectStore, apiKeyStore, audit, changes);
  const entitlements = new EntitlementService(db, new KyselyEntitlementStore(database.dialect), evaluationCounters, {
    plans: config.billing.plans,
    billingEnabled: config.billing.stripe !== null,
    defaultPlan: config.billing.defaultPlan,
    evaluationOverageGracePercent: config.billing.evaluationOverageGracePercent,
    defaultRequestsPerMinute: config.rateLimitPerMinute,
    defaultEvaluationRequestsPerMinute: config.billing.evaluationRateLimitPerMinute,
  });
  for (const service of [flags, environments, invitations, apiKeys]) service.useEntitlements(entitlements);
  const billing = new BillingService(db, access, new KyselyBillingStore(), entitlements, audit, config.billing.stripe, config.billing.defaultPlan);
  const usage = new UsageService(db, access, new KyselyUsageStore(), evaluationCounters, planCatalog(config.billing.plans, (stored) => entitlements.effectivePlanId(stored)), projectAccess, flagStore, environments);
  const exportStore = new KyselyExportStore();
  const exports = new ExportService(db, database.dialect, access, projectAccess, exportStore, audit);
  const imports = new ImportService(db, access, exportStore, audit, changes);
  const oauthClients = new OAuthClientService(db, access, new KyselyOAuthClientStore(), tokens, audit);
  const externalSignIn = new ExternalSignInService(db, new IdTokenVerifier(config.externalIssuers), new KyselyExternalIdentityStore(), userStore, new KyselySessionStore(), accounts, audit);
  const passwords = new PasswordService(db, userStore, new KyselySessionStore(), new KyselyPasswordResetStore(), mailer, audit, config);
  const engagement = createEngagementServices(config, db, { access, audit, changes, evaluationCounters, mailer, organizations, users: userStore, organizationStore, projectStore, flagStore, targetingStore, segmentStore });
  const tenancy: TenantServices = {
    organizationEvaluation: new OrganizationEvaluationService(projectAccess, snapshots, evaluation),
    tenantEnvironments: new TenantEnvironmentService(db, access, organizationStore, projectStore, audit, changes),
    tenantUsage: new TenantUsageService(db, access, organizationStore, projectStore, flagStore, evaluationCounters),
  };
  tenancy.tenantEnvironments.useEntitlements(entitlements);
  const readiness = new ReadinessRegistry();
  const metrics = createServerMetrics();
  const fanout = new Histogram({
    name: 'switchyard_sse_fanout_seconds',
    help: 'Time to write one configuration change to every stream of its environment',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [metrics.registry],
  });
  const streams = new StreamHub(snapshots, apiKeyMap, { heartbeatMs: config.streamHeartbeatMs, onFanout: (seconds) => fanout.observe(seconds) });
  new Gauge({ name: 'switchyard_sse_streams_open', help: 'Open SDK streams on this instance', registers: [metrics.registry], collect() { this.set(streams.size); } });
  // Streams end with a retry hint as soon as draining begins, so they do not hold the shutdown open.
  readiness.shutdownSignal.addEventListener('abort', () => streams.close(), { once: true });
  const sdkDelivery = new SdkDeliveryService(evaluation, projectAccess, snapshots, streams);
  const rateLimiter = config.redisUrl ? new RedisRateLimiter({ url: config.redisUrl, fallback: new InMemoryRateLimiter() }) : new InMemoryRateLimiter();
  readiness.register('snapshots', () => (snapshots.ready && apiKeyMap.ready ? true : 'loading snapshots and API keys'));
  readiness.register('database', async (): Promise<true> => {
    await database.ping();
    return true;
  });
  return { config, database, organizations, access, projectAccess, projects, environments, projectMembers, flags, auditQuery, members, roles, invitations, mailer, mailOutbox, bootstrap, accounts, tokens, readiness, metrics, rateLimiter, changes, snapshots, revisions, streams, sdkDelivery, changeRelay, apiKeyMap, evaluationCounters, evaluation, flagValues, ofrep, flagd, usage, exports, imports, accountDeletions, apiKeys, targeting, segments, oauthClients, externalSignIn, passwords, entitlements, billing, ...engagement, ...tenancy };
}

/** Bodies show the plan in force, not the stored key (`self-hosted` for an organisation that never bought one). */
function planOfFor(config: Config): (stored: string) => string {
  const billing = { enabled: config.billing.stripe !== null, defaultPlan: config.billing.defaultPlan };
  return (stored) => planInForce(stored, billing);
}

/** Issue 5's platform and engagement services. */
function createEngagementServices(config: Config, db: DatabaseHandle['db'], d: EngagementDependencies): EngagementServices {
  const idempotency = new IdempotencyService(db, new KyselyIdempotencyStore(), undefined, undefined, (error) => console.error('could not purge expired idempotency keys', error));
  const productTours = new ProductTourService(db, new KyselyProductTourStore(), d.users);
  const push = config.fcm ? new FcmPushSender(config.fcm) : new UndeliveredPushSender();
  const notifications = new NotificationService(db, new KyselyNotificationStore(), d.users, d.organizationStore, d.projectStore, d.flagStore, d.access, push, (error, what) => console.error(`${what} failed`, error));
  // Flag changes notify in the background: the listener only queues, so writes do not wait for it.
  d.changes.subscribe((change) => notifications.onConfigChange(change));
  const sandbox = new SandboxService(db, d.access, new KyselySandboxStore(), d.organizationStore, d.projectStore, d.flagStore, d.targetingStore, d.segmentStore, d.evaluationCounters, d.audit, d.changes, config);
  d.organizations.onCreated((organization, actor) => sandbox.onOrganizationCreated(organization, actor));
  const platformAdmin = new PlatformAdminService(db, d.access, new KyselyPlatformStore(planOfFor(config)), d.users, new KyselySessionStore(), d.mailer, d.audit, config);
  return { idempotency, productTours, notifications, sandbox, platformAdmin };
}
