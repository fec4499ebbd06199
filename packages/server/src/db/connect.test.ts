import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomApp } from '../testing/custom-app.js';
import type { TestApp } from '../testing/test-app.js';
import { testDialects } from '../testing/test-database.js';

// Unheard, pg's pool turns an idle connection's error into an uncaught exception: the whole server
// would end when PostgreSQL restarts or a proxy closes idle connections.
describe.runIf(testDialects().includes('postgres'))('a pooled PostgreSQL connection that is closed while idle', () => {
  let t: TestApp;
  const logs: string[] = [];
  beforeAll(async () => {
    t = await createCustomApp('postgres', {
      env: { LOG_LEVEL: 'warn' },
      logStream: new Writable({
        write(chunk, _enc, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is logged as a warning and replaced; the server keeps answering from the database', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const target = t.database.target;
    if (target.dialect !== 'postgres') throw new Error('expected a PostgreSQL target');
    const admin = new pg.Client({ connectionString: target.url });
    await admin.connect();
    try {
      // The pool's connections (the LISTEN client names itself and reconnects on its own).
      const { rows } = await admin.query<{ terminated: boolean }>(
        `select pg_terminate_backend(pid) as terminated from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and application_name = '' and state = 'idle'`,
      );
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    const until = Date.now() + 5000;
    while (!logs.some((line) => line.includes('database connection lost')) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const warning = logs.map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message: string } }).find((l) => l.msg.includes('database connection lost'));
    expect(warning).toMatchObject({ level: 40, err: { message: expect.stringMatching(/terminating connection/) } });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
  });
});
