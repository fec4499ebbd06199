import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '@switchyard/engine';
import { newId, nowIso } from '../domain/ids.js';
import { createServiceFixture, type ServiceFixture } from '../testing/access-fixtures.js';
import { defaultProjectOf, insertFlag } from '../testing/targeting-fixtures.js';
import { testDialects } from '../testing/test-database.js';
import type { SnapshotSwap } from './snapshot-cache.js';

describe.each(testDialects())('SnapshotCache (%s)', (dialect) => {
  let f: ServiceFixture;
  let organizationId: number;
  let project: { id: number; environments: Record<string, number> };
  const swaps: SnapshotSwap[] = [];

  const publish = (environmentIds: number[] | 'all' = 'all') =>
    f.services.changes.publish({ organizationId, projectId: project.id, environmentIds, entity: 'flag', action: 'updated', key: null });
  const enable = async (flagId: number, env: string, extra: Partial<Record<'default_serve' | 'targets' | 'off_variation', string>> = {}) => {
    await f.db
      .insertInto('flag_environments')
      .values({ id: newId(), flag_id: flagId, environment_id: project.environments[env]!, enabled: 1, off_variation: null, default_serve: null, targets: '[]', prerequisites: '[]', targeting: null, version: 1, updated_at: nowIso(), ...extra })
      .execute();
  };

  beforeAll(async () => {
    f = await createServiceFixture(dialect);
    const owner = await f.newOwner();
    organizationId = owner.organizationId;
    project = await defaultProjectOf(f.db, organizationId);
    await f.services.snapshots.start();
    f.services.snapshots.subscribe((s) => void swaps.push(s));
  });
  afterAll(async () => f?.destroy());

  it('holds a snapshot for every environment after start, with a digest and revision 1', () => {
    for (const id of Object.values(project.environments)) {
      const entry = f.services.snapshots.get(id)!;
      expect(entry.projectId).toBe(project.id);
      expect(entry.organizationId).toBe(organizationId);
      expect(entry.revision).toBe(1);
      expect(entry.digest).toMatch(/^[0-9a-f]{64}$/);
      expect(entry.snapshot.keys).toEqual([]);
    }
    expect(f.services.snapshots.ready).toBe(true);
  });

  it('rebuilds on a change, swaps only environments whose configuration changed, and tells listeners', async () => {
    const flag = await insertFlag(f.db, project.id, 'a.b');
    await enable(flag.id, 'production', { default_serve: JSON.stringify({ variation: 'on' }) });
    const before = f.services.snapshots.get(project.environments.production!)!;
    swaps.length = 0;
    await publish();
    const after = f.services.snapshots.get(project.environments.production!)!;
    expect(after.revision).toBe(before.revision + 1);
    expect(after.digest).not.toBe(before.digest);
    expect(evaluate(after.snapshot, 'a.b', {})).toMatchObject({ value: true, kind: 'FALLTHROUGH' });
    expect(after.config.flags['a.b']!.environments).toEqual({ production: { enabled: true, defaultServe: { variation: 'on' } } });
    // Every environment got the (disabled) flag; each swapped once.
    expect(swaps.map((s) => s.environmentId).sort()).toEqual(Object.values(project.environments).sort());
    expect(swaps.find((s) => s.environmentId === project.environments.production)).toMatchObject({ previous: before, current: after });

    // Same configuration again: no swap, same revision and digest.
    swaps.length = 0;
    await publish();
    expect(swaps).toEqual([]);
    expect(f.services.snapshots.get(project.environments.production!)).toBe(after);
  });

  it('keeps serving the other flags when one flag’s stored configuration does not compile', async () => {
    const good = await insertFlag(f.db, project.id, 'good');
    await enable(good.id, 'production');
    const bad = await insertFlag(f.db, project.id, 'bad');
    await enable(bad.id, 'production', { default_serve: JSON.stringify({ variation: 'missing' }) });
    const dependent = await insertFlag(f.db, project.id, 'dependent');
    await f.db
      .insertInto('flag_environments')
      .values({ id: newId(), flag_id: dependent.id, environment_id: project.environments.production!, enabled: 1, off_variation: null, default_serve: null, targets: '[]', prerequisites: JSON.stringify([{ flag: 'bad', variation: 'on' }]), targeting: null, version: 1, updated_at: nowIso() })
      .execute();
    await publish();
    const entry = f.services.snapshots.get(project.environments.production!)!;
    expect([...entry.invalidFlags.keys()].sort()).toEqual(['bad', 'dependent']);
    expect(evaluate(entry.snapshot, 'good', {})).toMatchObject({ value: false, kind: 'FALLTHROUGH' });
    expect(entry.snapshot.has('bad')).toBe(false);
  });

  it('drops the snapshots of a deleted environment', async () => {
    const now = nowIso();
    const id = newId();
    await f.db.insertInto('environments').values({ id, project_id: project.id, key: 'qa', name: 'QA', color: null, position: 99, created_at: now, updated_at: now }).execute();
    await f.services.changes.publish({ organizationId, projectId: project.id, environmentIds: [id], entity: 'environment', action: 'created', key: 'qa' });
    expect(f.services.snapshots.get(id)?.environmentKey).toBe('qa');
    await f.db.deleteFrom('environments').where('id', '=', id).execute();
    swaps.length = 0;
    await f.services.changes.publish({ organizationId, projectId: project.id, environmentIds: [id], entity: 'environment', action: 'deleted', key: 'qa' });
    expect(f.services.snapshots.get(id)).toBeUndefined();
    expect(swaps).toEqual([expect.objectContaining({ environmentId: id, current: null })]);
  });
});
