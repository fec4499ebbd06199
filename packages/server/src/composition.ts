import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connect.js';
import { KyselyAuditStore } from './features/audit/audit-store.js';
import { KyselyOrganizationStore } from './features/organizations/organization-store.js';
import { OrganizationService } from './features/organizations/organization-service.js';
import { AccountService } from './features/identity/account-service.js';
import { KyselyCallerStore, KyselySessionStore } from './features/identity/session-store.js';
import { KyselySigningKeyStore } from './features/identity/signing-key-store.js';
import { TokenService } from './features/identity/token-service.js';
import { KyselyUserStore } from './features/identity/user-store.js';
import { createServerMetrics, type ServerMetrics } from './features/operations/metrics.js';
import { ReadinessRegistry } from './features/operations/readiness.js';
import { InMemoryRateLimiter, type RateLimiter } from './features/rate-limits/rate-limiter.js';

/**
 * Every service the HTTP surfaces call, built once from the stores and collaborators they need.
 * This is the only place that wires implementations together.
 */
export interface Services {
  config: Config;
  database: DatabaseHandle;
  organizations: OrganizationService;
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
}

/** Builds the services over an open, migrated database. */
export function createServices(config: Config, database: DatabaseHandle): Services {
  const db = database.db;
  const audit = new KyselyAuditStore();
  const organizations = new OrganizationService(db, new KyselyOrganizationStore(), audit);
  const tokens = new TokenService(db, database.dialect, new KyselySigningKeyStore(), audit, config.publicUrl);
  const accounts = new AccountService(db, new KyselyUserStore(), new KyselySessionStore(), new KyselyCallerStore(), tokens, organizations, audit, config);
  const readiness = new ReadinessRegistry();
  readiness.register('database', async (): Promise<true> => {
    await database.ping();
    return true;
  });
  return { config, database, organizations, accounts, tokens, readiness, metrics: createServerMetrics(), rateLimiter: new InMemoryRateLimiter() };
}
