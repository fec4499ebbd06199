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
}

/** Builds the services over an open, migrated database. */
export function createServices(config: Config, database: DatabaseHandle): Services {
  const db = database.db;
  const audit = new KyselyAuditStore();
  const organizations = new OrganizationService(db, new KyselyOrganizationStore(), audit);
  const tokens = new TokenService(db, database.dialect, new KyselySigningKeyStore(), audit, config.publicUrl);
  const accounts = new AccountService(db, new KyselyUserStore(), new KyselySessionStore(), new KyselyCallerStore(), tokens, organizations, audit, config);
  return { config, database, organizations, accounts, tokens };
}
