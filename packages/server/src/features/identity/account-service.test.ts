import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../domain/actor.js';
import { ConflictError, ValidationError } from '../../domain/errors.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('AccountService on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { ADMIN_SUPER_USER_EMAILS: 'root@example.test' });
  });
  afterAll(async () => t.close());
  const accounts = () => t.app.services.accounts;
  const db = () => t.database.handle.db;

  it('createAccount normalises the email, stores a hash and audits the creation', async () => {
    const user = await accounts().createAccount({ email: ' New@Example.Test ', password: 'password-1', name: ' Newton ', emailVerified: true }, { actor: systemActor });
    expect(user).toMatchObject({ email: 'new@example.test', name: 'Newton', emailVerified: true, status: 'active', platformRole: null });
    expect(user).not.toHaveProperty('passwordHash');
    const audit = await db().selectFrom('audit_events').selectAll().where('action', '=', 'user.created').where('resource_id', '=', String(user.id)).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_type).toBe('system');
    expect(audit[0]!.after).not.toContain('password');
  });

  it('createAccount refuses a taken email with email_taken, and bad input with the fields named', async () => {
    await accounts().createAccount({ email: 'taken@example.test', password: 'password-1' });
    await expect(accounts().createAccount({ email: 'TAKEN@example.test', password: 'password-2' })).rejects.toBeInstanceOf(ConflictError);
    const err = await accounts().createAccount({ email: 'nope', password: 'short' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).fields).toEqual({ email: 'is not a valid email address', password: 'must be at least 8 characters' });
  });

  it('an account without a password cannot log in', async () => {
    await accounts().createAccount({ email: 'sso-only@example.test', password: null });
    await expect(accounts().login({ email: 'sso-only@example.test', password: '' })).rejects.toMatchObject({ code: 'invalid_credentials' });
  });

  it('super_user is only for the configured emails', async () => {
    await expect(accounts().createAccount({ email: 'pretender@example.test', password: 'password-1', platformRole: 'super_user' })).rejects.toMatchObject({
      fields: { platformRole: expect.any(String) },
    });
    const root = await accounts().createAccount({ email: 'Root@example.test', password: 'password-1' });
    expect(root.platformRole).toBe('super_user');
  });

  it('prepareAccount hashes up front so the insert can run inside a caller transaction', async () => {
    const prepared = await accounts().prepareAccount({ email: 'prepared@example.test', password: 'password-1' });
    expect(prepared.passwordHash).toMatch(/^\$scrypt\$/);
    const user = await db().transaction().execute((trx) => accounts().createAccount(prepared, { trx }));
    expect(user.id).toBe(prepared.id);
    await expect(accounts().login({ email: 'prepared@example.test', password: 'password-1' })).resolves.toMatchObject({ user: { id: prepared.id } });
  });

  it('signup is all or nothing: an organisation that cannot be created leaves no account', async () => {
    await expect(accounts().signup({ email: 'atomic@example.test', password: 'password-1', organizationName: 'x'.repeat(201) })).rejects.toBeInstanceOf(ValidationError);
    expect(await db().selectFrom('users').select('id').where('email', '=', 'atomic@example.test').executeTakeFirst()).toBeUndefined();
    await expect(accounts().signup({ email: 'atomic@example.test', password: 'password-1' })).resolves.toMatchObject({ user: { email: 'atomic@example.test' } });
  });

  it('two simultaneous sign-ups for one email: one wins, the other gets email_taken', async () => {
    const results = await Promise.allSettled([
      accounts().signup({ email: 'race@example.test', password: 'password-1' }),
      accounts().signup({ email: 'Race@example.test', password: 'password-2' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'email_taken' });
    expect(await db().selectFrom('users').select('id').where('email', '=', 'race@example.test').execute()).toHaveLength(1);
    expect(await db().selectFrom('organizations').select('id').where('primary_email', '=', 'race@example.test').execute()).toHaveLength(1);
  });
});
