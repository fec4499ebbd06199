import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../domain/actor.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { createServiceFixture, userActor, type ServiceFixture } from '../testing/access-fixtures.js';
import { testDialects } from '../testing/test-database.js';

function machine(kind: 'client' | 'api_key', organizationId: number, scopes: string[]): Actor {
  return { kind, userId: null, credentialId: 7, organizationId, role: null, platformRole: null, scopes, sessionId: null };
}

describe.each(testDialects())('OrganizationEvaluationService (%s)', (dialect) => {
  let f: ServiceFixture;
  let owner: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let other: Awaited<ReturnType<ServiceFixture['newOwner']>>;

  beforeAll(async () => {
    f = await createServiceFixture(dialect);
    await f.services.snapshots.start();
    owner = await f.newOwner();
    other = await f.newOwner();
    await f.services.projects.create(owner.actor, { name: 'Web' });
    await f.services.flags.create(owner.actor, 'default', { key: 'checkout', type: 'boolean' });
    await f.services.targeting.setEnabled(owner.actor, 'default', 'checkout', 'production', true);
    await f.services.targeting.createRule(owner.actor, 'default', { flagKey: 'checkout', environment: 'production', conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'premium' }], serve: 'on' });
    await f.services.flags.create(owner.actor, 'default', { key: 'twin', type: 'boolean' });
    await f.services.flags.create(owner.actor, 'web', { key: 'twin', type: 'boolean' });
  });
  afterAll(async () => f?.destroy());

  it('evaluates by key from the snapshot with the engine: the kind is the step that decided', async () => {
    const evaluation = f.services.organizationEvaluation;
    expect(await evaluation.evaluate(owner.actor, { flagKey: 'checkout', context: { targetingKey: 'u', plan: 'premium' } })).toMatchObject({ flagKey: 'checkout', value: true, kind: 'RULE_MATCH', enabled: true });
    expect(await evaluation.evaluate(owner.actor, { flagKey: 'checkout', context: { targetingKey: 'u' } })).toMatchObject({ value: false, kind: 'FALLTHROUGH' });
    expect(await evaluation.evaluate(owner.actor, { flagKey: 'checkout', environment: 'staging', context: {} })).toMatchObject({ value: false, kind: 'OFF', enabled: false });
  });

  it('refuses unknown flags and environments (404), keys in several projects (409), deep contexts (422)', async () => {
    const evaluation = f.services.organizationEvaluation;
    await expect(evaluation.evaluate(owner.actor, { flagKey: 'missing' })).rejects.toMatchObject({ code: 'flag_not_found' });
    await expect(evaluation.evaluate(owner.actor, { flagKey: 'checkout', environment: 'moon' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(evaluation.evaluate(owner.actor, { flagKey: 'twin' })).rejects.toBeInstanceOf(ConflictError);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 12; i++) deep = { nested: deep };
    await expect(evaluation.evaluate(owner.actor, { flagKey: 'checkout', context: deep })).rejects.toBeInstanceOf(ValidationError);
  });

  it('users of the organisation and clients holding flags:evaluate may evaluate; other clients 403, API keys 403, outsiders 404', async () => {
    const evaluation = f.services.organizationEvaluation;
    const viewer = await f.newUser();
    await f.addMember(owner.organizationId, viewer.userId, 'viewer');
    expect((await evaluation.evaluate(userActor(viewer.userId, owner.organizationId), { flagKey: 'checkout' })).kind).toBe('FALLTHROUGH');
    expect((await evaluation.evaluate(machine('client', owner.organizationId, ['flags:evaluate']), { flagKey: 'checkout' })).kind).toBe('FALLTHROUGH');
    await expect(evaluation.evaluate(machine('client', owner.organizationId, ['flags:read']), { flagKey: 'checkout' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(evaluation.evaluate(machine('api_key', owner.organizationId, ['flags:evaluate']), { flagKey: 'checkout' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(evaluation.evaluate(machine('client', other.organizationId, ['flags:evaluate']), { flagKey: 'checkout' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(evaluation.evaluate(userActor(other.userId, owner.organizationId), { flagKey: 'checkout' })).rejects.toBeInstanceOf(NotFoundError);
  });
});
