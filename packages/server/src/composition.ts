import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connect.js';

/**
 * Every service the HTTP surfaces call, built once from the stores and collaborators they need.
 * This is the only place that wires implementations together.
 */
export interface Services {
  config: Config;
  database: DatabaseHandle;
}

/** Builds the services over an open, migrated database. */
export function createServices(config: Config, database: DatabaseHandle): Services {
  return { config, database };
}
