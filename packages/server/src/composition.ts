import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connect.js';
import { KyselyAuditStore } from './features/audit/audit-store.js';
import { KyselyOrganizationStore } from './features/organizations/organization-store.js';
import { OrganizationService } from './features/organizations/organization-service.js';

/**
 * Every service the HTTP surfaces call, built once from the stores and collaborators they need.
 * This is the only place that wires implementations together.
 */
export interface Services {
  config: Config;
  database: DatabaseHandle;
  organizations: OrganizationService;
}

/** Builds the services over an open, migrated database. */
export function createServices(config: Config, database: DatabaseHandle): Services {
  const db = database.db;
  const audit = new KyselyAuditStore();
  const organizations = new OrganizationService(db, new KyselyOrganizationStore(), audit);
  return { config, database, organizations };
}
