import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase } from './connect.js';
import { migrateToLatest } from './migrate.js';
import { migrations } from './migrations/index.js';
import { createEmptyTarget, testDialects } from '../testing/test-database.js';

describe.each(testDialects())('migrations on %s', (dialect) => {
  it('run up from empty, record every migration, and are a no-op the second time', async () => {
    const { target, drop } = await createEmptyTarget(dialect);
    const handle = openDatabase(target);
    try {
      const applied = await migrateToLatest(handle.db);
      expect(applied).toEqual(Object.keys(migrations));
      expect(await migrateToLatest(handle.db)).toEqual([]);
      const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(handle.db);
      expect(rows.rows.map((r) => r.name)).toEqual(Object.keys(migrations).sort());
    } finally {
      await handle.close();
      await drop();
    }
  });

  it('stores 53-bit ids exactly and reads them back as numbers', async () => {
    const { target, drop } = await createEmptyTarget(dialect);
    const handle = openDatabase(target);
    try {
      await migrateToLatest(handle.db);
      const id = 2 ** 53 - 1;
      const now = new Date().toISOString();
      await handle.db
        .insertInto('organizations')
        .values({ id, name: 'Big', primary_email: null, contact_name: null, is_sandbox: 0, sandbox_expires_at: null, plan: 'self-hosted', created_at: now, updated_at: now })
        .execute();
      const row = await handle.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow();
      expect(row.id).toBe(id);
      expect(typeof row.id).toBe('number');
    } finally {
      await handle.close();
      await drop();
    }
  });
});
