import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type pg from 'pg';
import { requireWhenUsed } from '../require-when-used.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

/** How to reach the database: an SQLite file (the embedded default) or a PostgreSQL URL. */
export type DatabaseTarget =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'postgres'; url: string; poolSize?: number };

/** An open database: the Kysely handle plus what the rest of the server needs to know about it. */
export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Answers when the database can run a query; used by `/readyz`. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Where a pooled PostgreSQL connection's error goes when no query is running on it (the server
   * restarted, an admin or a proxy closed it): the pool drops that connection and opens a new one
   * for the next query. Until set, a process warning.
   */
  onConnectionError(listener: (error: Error) => void): void;
}

/** The PostgreSQL driver, loaded on first use: an SQLite server never holds it. */
export const loadPg = (): typeof pg => requireWhenUsed('pg') as typeof pg;

// int8 (20) comes back as a string from pg by default; our ids stay below 2^53, so a number is exact.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number(value);
    return loadPg().types.getTypeParser(oid, format as 'text');
  },
};

/** Opens the database named by `target`. SQLite runs in WAL mode with `synchronous=FULL`. */
export function openDatabase(target: DatabaseTarget): DatabaseHandle {
  if (target.dialect === 'sqlite') {
    if (target.file !== ':memory:') mkdirSync(dirname(target.file), { recursive: true });
    const sqlite = new BetterSqlite3(target.file);
    sqlite.pragma('journal_mode = WAL');
    // FULL: an acknowledged write survives a power cut, not just a process crash.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return {
      db,
      dialect: 'sqlite',
      ping: async () => {
        await sql`select 1`.execute(db);
      },
      close: () => db.destroy(),
      // better-sqlite3 reports every error through the query that met it.
      onConnectionError: () => {},
    };
  }
  const pool = new (loadPg().Pool)({
    connectionString: target.url,
    max: target.poolSize ?? 10,
    types: pgTypes,
  });
  // pg's pool emits 'error' for an idle connection that fails; unheard, that error would end the process.
  let connectionError = (error: Error) => process.emitWarning(`PostgreSQL connection lost: ${error.message}`);
  pool.on('error', (error) => connectionError(error));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
    onConnectionError: (listener) => {
      connectionError = listener;
    },
  };
}
