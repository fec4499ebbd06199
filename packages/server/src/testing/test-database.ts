import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DatabaseHandle, type DatabaseTarget, type Dialect } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';

/**
 * The dialects the suite runs on: `SWITCHYARD_TEST_DIALECTS` (comma-separated), default both.
 * PostgreSQL is `TEST_POSTGRES_URL`, default the local server; an unreachable one fails the tests.
 */
export function testDialects(): Dialect[] {
  const raw = process.env.SWITCHYARD_TEST_DIALECTS ?? 'sqlite,postgres';
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const d of list) {
    if (d !== 'sqlite' && d !== 'postgres') throw new Error(`SWITCHYARD_TEST_DIALECTS: unknown dialect "${d}"`);
  }
  return list as Dialect[];
}

const adminUrl = () => process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh, empty, migrated database of its own, and the function that removes it again. */
export interface TestDatabase {
  handle: DatabaseHandle;
  target: DatabaseTarget;
  /** Closes the handle (if still open) and deletes the database. */
  destroy(): Promise<void>;
}

/** Creates an unmigrated target: a new SQLite file or a new PostgreSQL database. */
export async function createEmptyTarget(dialect: Dialect): Promise<{ target: DatabaseTarget; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-'));
    return {
      target: { dialect: 'sqlite', file: join(dir, 'switchyard.db') },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `switchyard_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    target: { dialect: 'postgres', url: url.toString(), poolSize: 5 },
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A migrated database for one test file or test; call `destroy()` in `afterAll`/`afterEach`. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const { target, drop } = await createEmptyTarget(dialect);
  const handle = openDatabase(target);
  await migrateToLatest(handle.db);
  let closed = false;
  const close = handle.close;
  handle.close = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  return {
    handle,
    target,
    destroy: async () => {
      await handle.close();
      await drop();
    },
  };
}
