import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { openDatabase, type DatabaseHandle } from '../../db/connect.js';
import { KyselyAuditStore } from '../audit/audit-store.js';
import { authHeader, signUp } from '../../testing/auth.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/test-database.js';
import { KyselySigningKeyStore } from './signing-key-store.js';
import { TokenService } from './token-service.js';

const issuer = 'http://localhost:8080';

describe.each(testDialects())('signing keys on %s', (dialect) => {
  let database: TestDatabase;
  const extra: DatabaseHandle[] = [];
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    for (const h of extra) await h.close();
    await database.destroy();
  });

  const service = (handle: DatabaseHandle) =>
    new TokenService(handle.db, handle.dialect, new KyselySigningKeyStore(), new KyselyAuditStore(), issuer);

  it('concurrent first starts create exactly one active key, and every instance verifies the others', async () => {
    const handles = [database.handle, openDatabase(database.target), openDatabase(database.target), openDatabase(database.target)];
    extra.push(...handles.slice(1));
    const services = handles.map(service);
    // Connections open first, so the four starts really race for the empty table.
    await Promise.all(handles.map((h) => h.ping()));
    await Promise.all(services.map((s) => s.ready()));

    const keys = await database.handle.db.selectFrom('signing_keys').selectAll().execute();
    expect(keys).toHaveLength(1);
    expect(keys[0]!.algorithm).toBe('ES256');
    const audit = await database.handle.db.selectFrom('audit_events').selectAll().where('action', '=', 'signing_key.created').execute();
    expect(audit).toHaveLength(1);

    for (const signer of services) {
      const { token } = await signer.issueAccessToken({ userId: 11, sessionId: 22, organizationId: 33 });
      for (const verifier of services) {
        await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ userId: 11, sessionId: 22, organizationId: 33 });
      }
    }
    const jwks = await services[3]!.jwks();
    expect(jwks.keys.map((k) => k.kid)).toEqual([keys[0]!.id]);
  });

  it('refuses a token for another audience or issuer', async () => {
    const ours = service(database.handle);
    const other = new TokenService(database.handle.db, dialect, new KyselySigningKeyStore(), new KyselyAuditStore(), 'https://elsewhere.example');
    const { token } = await other.issueAccessToken({ userId: 1, sessionId: 2, organizationId: null });
    await expect(ours.verifyAccessToken(token)).rejects.toMatchObject({ code: 'invalid_token' });
    expect(ours.claimsToBeOurs(token)).toBe(true); // same key id: it is ours, and it is wrong
  });
});

describe.each(testDialects())('restarting the server on %s', (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
  });
  afterAll(async () => database.destroy());

  it('keeps its signing keys: tokens issued before a restart still verify after it', async () => {
    const config = { ...loadConfig({ LOG_LEVEL: 'silent' }), database: database.target };
    // Each instance owns its own connection to the same database, as two processes would.
    const firstDb = openDatabase(database.target);
    const first = await buildApp(config, { database: firstDb, logger: false });
    const u = await signUp(first);
    const jwksBefore = (await first.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    await first.close();
    await firstDb.close();

    const secondDb = openDatabase(database.target);
    const second = await buildApp(config, { database: secondDb, logger: false });
    try {
      const res = await second.inject({ method: 'GET', url: '/api/v1/auth/me', headers: authHeader(u.accessToken) });
      expect(res.statusCode).toBe(200);
      expect(res.json().user.id).toBe(`usr_${u.userId}`);
      const jwksAfter = (await second.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
      expect(jwksAfter).toEqual(jwksBefore);
      const refreshed = await second.inject({ method: 'POST', url: '/api/v1/auth/refresh-token', payload: { refreshToken: u.refreshToken } });
      expect(refreshed.statusCode).toBe(200);
      expect(await database.handle.db.selectFrom('signing_keys').select('id').execute()).toHaveLength(1);
    } finally {
      await second.close();
      await secondDb.close();
    }
  });
});
