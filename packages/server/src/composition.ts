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
import { AccountService } from './features/identity/account-service.js';
import { KyselyCallerStore, KyselySessionStore } from './features/identity/session-store.js';
import { KyselySigningKeyStore } from './features/identity/signing-key-store.js';
import { TokenService } from './features/identity/token-service.js';
import { KyselyUserStore } from './features/identity/user-store.js';
import { createServerMetrics, type ServerMetrics } from './features/operations/metrics.js';
import { ReadinessRegistry } from './features/operations/readiness.js';
import { InMemoryRateLimiter, type RateLimiter } from './features/rate-limits/rate-limiter.js';
import { InProcessChangeBus, type ChangeBus } from './evaluation/change-bus.js';

/**
 * Every service the HTTP surfaces call, built once from the stores and collaborators they need.
 * This is the only place that wires implementations together.
 */
export interface Services {
  config: Config;
  database: DatabaseHandle;
  organizations: OrganizationService;
  /** The one permission check every service makes (`require(actor, organizationId, permission)`). */
  access: AccessService;
  /** The permission check every project-scoped service makes (`require(actor, projectRef, permission)`). */
  projectAccess: ProjectAccessService;
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
}

/** Builds the services over an open, migrated database. */
export function createServices(config: Config, database: DatabaseHandle): Services {
  const db = database.db;
  const changes = new InProcessChangeBus((error, change) => {
    console.error('change listener failed', { change, error });
  });
  const audit = new KyselyAuditStore();
  const organizationStore = new KyselyOrganizationStore();
  const access = new AccessService(db, organizationStore, new KyselyRoleStore());
  const projectStore = new KyselyProjectStore();
  const projectMemberStore = new KyselyProjectMemberStore();
  const projectAccess = new ProjectAccessService(db, access, projectStore, projectMemberStore);
  const organizations = new OrganizationService(db, organizationStore, audit, access, projectStore);
  const tokens = new TokenService(db, database.dialect, new KyselySigningKeyStore(), audit, config.publicUrl);
  const userStore = new KyselyUserStore();
  const accounts = new AccountService(db, userStore, new KyselySessionStore(), new KyselyCallerStore(), tokens, organizations, audit, config);
  const outbox = new KyselyMailOutboxStore();
  const mailer = config.smtpUrl ? new SmtpMailer(db, outbox, config.smtpUrl, config.mailFrom) : new OutboxMailer(db, outbox);
  const members = new MemberService(db, access, organizationStore, audit);
  const roles = new RoleService(db, access, new KyselyRoleStore(), audit);
  const invitations = new InvitationService(db, access, organizationStore, new KyselyInvitationStore(), userStore, accounts, mailer, audit, config);
  const mailOutbox = new MailOutboxService(db, access, outbox);
  const bootstrap = new BootstrapService(db, userStore, accounts, organizations, config);
  const readiness = new ReadinessRegistry();
  readiness.register('database', async (): Promise<true> => {
    await database.ping();
    return true;
  });
  return { config, database, organizations, access, projectAccess, members, roles, invitations, mailer, mailOutbox, bootstrap, accounts, tokens, readiness, metrics: createServerMetrics(), rateLimiter: new InMemoryRateLimiter(), changes };
}
