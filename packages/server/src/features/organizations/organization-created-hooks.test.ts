import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceFixture, type ServiceFixture } from '../../testing/access-fixtures.js';
import { testDialects } from '../../testing/test-database.js';
import type { Organization } from './organization-store.js';

describe.each(testDialects())('OrganizationService.create: isSandbox and onCreated hooks (%s)', (dialect) => {
  let f: ServiceFixture;
  beforeAll(async () => {
    f = await createServiceFixture(dialect);
  });
  afterAll(async () => f?.destroy());

  it('stores isSandbox as given, runs the hooks after commit in order, and answers what the hooks changed', async () => {
    const seen: Array<[string, boolean, number | null]> = [];
    f.services.organizations.onCreated(async (org: Organization, actor) => {
      // After commit: the organisation and its admin are readable.
      const stored = await f.db.selectFrom('memberships').select('role').where('organization_id', '=', org.id).executeTakeFirst();
      seen.push([org.name, org.isSandbox, actor.userId]);
      expect(stored).toEqual({ role: 'admin' });
      if (org.isSandbox) await f.db.updateTable('organizations').set({ sandbox_expires_at: '2031-01-01T00:00:00.000Z' }).where('id', '=', org.id).execute();
    });
    f.services.organizations.onCreated(async (org) => {
      seen.push([`second:${org.name}`, org.isSandbox, null]);
    });
    const user = await f.newUser();
    const sandbox = await f.services.organizations.create(user.actor, { name: 'Play', isSandbox: true });
    expect(sandbox.organization).toMatchObject({ name: 'Play', isSandbox: true, sandboxExpiresAt: '2031-01-01T00:00:00.000Z' });
    const plain = await f.services.organizations.create(user.actor, { name: 'Real' });
    expect(plain.organization).toMatchObject({ isSandbox: false, sandboxExpiresAt: null });
    expect(seen).toEqual([['Play', true, user.userId], ['second:Play', true, null], ['Real', false, user.userId], ['second:Real', false, null]]);
    expect(await f.db.selectFrom('organizations').select(['name', 'is_sandbox']).where('name', 'in', ['Play', 'Real']).orderBy('name').execute()).toEqual([{ name: 'Play', is_sandbox: 1 }, { name: 'Real', is_sandbox: 0 }]);
  });
});
