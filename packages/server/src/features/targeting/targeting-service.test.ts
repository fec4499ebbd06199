import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, evaluate } from '@switchyard/engine';
import { ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError } from '../../domain/errors.js';
import type { ConfigChange } from '../../evaluation/change-bus.js';
import { createServiceFixture, userActor, type ServiceFixture } from '../../testing/access-fixtures.js';
import { defaultProjectOf, insertFlag, type FlagFixture } from '../../testing/targeting-fixtures.js';
import { testDialects } from '../../testing/test-database.js';
import { configFor } from './engine-config.js';

describe.each(testDialects())('TargetingService (%s)', (dialect) => {
  let f: ServiceFixture;
  let owner: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let other: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let project: { id: number; environments: Record<string, number> };
  let flag: FlagFixture;
  const published: ConfigChange[] = [];

  beforeAll(async () => {
    f = await createServiceFixture(dialect);
    owner = await f.newOwner();
    other = await f.newOwner();
    project = await defaultProjectOf(f.db, owner.organizationId);
    flag = await insertFlag(f.db, project.id, 'checkout', { type: 'string', variations: { control: 'a', treatment: 'b', holdout: 'c' }, defaultVariation: 'control' });
    f.services.changes.subscribe((c) => void published.push(c));
  });
  afterAll(async () => f?.destroy());

  const rulesOf = (env: string) =>
    f.db.selectFrom('rules').selectAll().where('flag_id', '=', flag.id).where('environment_id', '=', project.environments[env]!).orderBy('priority').execute();

  it('replaceRuleSet replaces enabled, default serve and the ordered rules atomically, keeping ids it is given', async () => {
    const t = f.services.targeting;
    const env = project.environments.production!;
    const first = await t.replaceRuleSet(owner.actor, flag.id, env, {
      enabled: true,
      defaultVariation: 'control',
      rules: [
        { conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@company.com' }], serve: 'treatment' },
        { conditions: [{ attribute: 'country', operator: 'IN', value: ['NL', 'BE'] }], serve: 'holdout' },
      ],
    });
    expect(first).toMatchObject({ enabled: true, defaultServe: { variation: 'control' }, version: 1 });
    expect(first.rules.map((r) => [r.priority, r.serve])).toEqual([[1, { variation: 'treatment' }], [2, { variation: 'holdout' }]]);
    const [a, b] = first.rules;

    published.length = 0;
    const second = await t.replaceRuleSet(owner.actor, flag.id, env, {
      enabled: true,
      rules: [{ id: b!.id, conditions: b!.conditions, serve: 'holdout' }, { conditions: [], serve: 'control' }],
      rollout: { variations: [{ variation: 'control', weight: 50 }, { variation: 'treatment', weight: 50 }] },
    });
    expect(second.defaultServe).toEqual({ rollout: { variations: [{ variation: 'control', weight: 50 }, { variation: 'treatment', weight: 50 }] } });
    expect(second.rules[0]!.id).toBe(b!.id);
    expect(second.rules[0]!.priority).toBe(1);
    expect(second.rules.map((r) => r.id)).not.toContain(a!.id);
    expect((await rulesOf('production')).map((r) => r.id)).toEqual(second.rules.map((r) => r.id));
    expect(published).toEqual([{ organizationId: owner.organizationId, projectId: project.id, environmentIds: [env], entity: 'flag', action: 'updated', key: 'checkout', actorUserId: owner.userId }]);
    const event = await f.db.selectFrom('audit_events').selectAll().where('action', '=', 'flag.rules_replaced').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(event.resource_type).toBe('flag');
    expect(JSON.parse(event.after!)).toMatchObject({ environment: 'production', defaultServe: second.defaultServe });

    // What is stored is exactly the engine's configuration: it compiles and evaluates as configured.
    const stored = await f.services.targeting.getEnvironmentConfigById(owner.actor, flag.id, env);
    expect(stored).toEqual(second);
    const config = configFor('checkout', 'production', new Map(), [], {
      flag: { id: flag.id, projectId: project.id, key: 'checkout', type: 'string', defaultVariation: 'control', status: 'active', variations: { control: 'a', treatment: 'b', holdout: 'c' } },
      config: { enabled: true, rules: [{ id: 'r', conditions: b!.conditions, serve: { variation: 'holdout' } }] },
    });
    expect(evaluate(compile(config, { environment: 'production' }), 'checkout', { targetingKey: 'u', country: 'NL' }).variant).toBe('holdout');
  });

  it('replaceRuleSet leaves the old rules intact on any validation failure, naming the request fields', async () => {
    const t = f.services.targeting;
    const env = project.environments.production!;
    const before = await rulesOf('production');
    const stateBefore = await t.getEnvironmentConfigById(owner.actor, flag.id, env);
    const attempts: Array<[Parameters<typeof t.replaceRuleSet>[3], string]> = [
      [{ enabled: false, rules: [{ serve: 'control' }, { conditions: [{ attribute: 'x', operator: 'NOPE' as never, value: 1 }], serve: 'control' }] }, 'rules[1].conditions[0].operator'],
      [{ enabled: false, rules: [{ serve: 'missing' }] }, 'rules[0].serve'],
      [{ enabled: false, defaultVariation: 'missing', rules: [] }, 'defaultVariation'],
      [{ enabled: false, rules: [], rollout: { variations: [{ variation: 'control', weight: -1 }] } }, 'rollout.variations[0].weight'],
      [{ enabled: false, rules: [{ serve: 'control', conditions: Array.from({ length: 501 }, () => ({ attribute: 'a', operator: 'EXISTS' as const })) }] }, 'rules[0].conditions'],
    ];
    for (const [input, field] of attempts) {
      const err = await t.replaceRuleSet(owner.actor, flag.id, env, input).catch((e: unknown) => e);
      expect(err, field).toBeInstanceOf(ValidationError);
      expect(Object.keys((err as ValidationError).fields), field).toEqual([field]);
    }
    expect(await rulesOf('production')).toEqual(before);
    expect(await t.getEnvironmentConfigById(owner.actor, flag.id, env)).toEqual(stateBefore);
  });

  it('replaceRuleSet: another organisation’s flag is not found; a viewer is forbidden; a stale version is 412', async () => {
    const t = f.services.targeting;
    const env = project.environments.production!;
    await expect(t.replaceRuleSet(other.actor, flag.id, env, { enabled: false, rules: [] })).rejects.toBeInstanceOf(NotFoundError);
    await expect(t.getEnvironmentConfigById(other.actor, flag.id, env)).rejects.toBeInstanceOf(NotFoundError);
    const otherProject = await defaultProjectOf(f.db, other.organizationId);
    await expect(t.replaceRuleSet(owner.actor, flag.id, otherProject.environments.production!, { enabled: false, rules: [] })).rejects.toBeInstanceOf(NotFoundError);
    const viewer = await f.newUser();
    await f.addMember(owner.organizationId, viewer.userId, 'viewer');
    await expect(t.replaceRuleSet(userActor(viewer.userId, owner.organizationId), flag.id, env, { enabled: false, rules: [] })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(t.replaceRuleSet(owner.actor, flag.id, env, { enabled: false, rules: [] }, { ifMatch: 1 })).rejects.toBeInstanceOf(PreconditionFailedError);
  });

  it('by-id reads and replaceRuleSet pinned to a project: a flag of another project is not found; the flag’s default variation is reported', async () => {
    const t = f.services.targeting;
    const env = project.environments.staging!;
    const read = await t.getEnvironmentConfigById(owner.actor, flag.id, env, { projectRef: project.id });
    expect(read).toMatchObject({ flagId: flag.id, flagDefaultVariation: 'control' });
    const second = await f.services.projects.create(owner.actor, { key: 'second-project', name: 'Second' });
    const secondEnv = (await f.services.environments.list(owner.actor, second.id)).items[0]!.id;
    await expect(t.getEnvironmentConfigById(owner.actor, flag.id, env, { projectRef: second.id })).rejects.toThrow('Flag not found');
    await expect(t.getEnvironmentConfigById(owner.actor, flag.id, secondEnv, { projectRef: project.id })).rejects.toThrow('Environment not found');
    await expect(t.replaceRuleSet(owner.actor, flag.id, env, { enabled: true, rules: [] }, { projectRef: second.id })).rejects.toThrow('Flag not found');
    await expect(t.replaceRuleSet(other.actor, flag.id, env, { enabled: true, rules: [] }, { projectRef: project.id })).rejects.toThrow('Project not found');
    expect((await t.getEnvironmentConfigById(owner.actor, flag.id, env)).enabled).toBe(read.enabled);
    const done = await t.replaceRuleSet(owner.actor, flag.id, env, { enabled: true, rules: [{ serve: 'treatment' }] }, { projectRef: project.id });
    expect(done).toMatchObject({ enabled: true, rules: [{ serve: { variation: 'treatment' } }] });
  });

  it('setEnabled and getEnvironmentConfig take an environment id or key', async () => {
    const t = f.services.targeting;
    const on = await t.setEnabled(owner.actor, project.id, 'checkout', project.environments.staging!, true);
    expect(on).toMatchObject({ enabled: true, environment: { key: 'staging' } });
    const read = await t.getEnvironmentConfig(owner.actor, 'default', 'checkout', 'staging');
    expect(read.enabled).toBe(true);
    expect(read.version).toBe(on.version);
  });
});
