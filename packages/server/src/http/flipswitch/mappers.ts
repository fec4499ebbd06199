import type { ConditionConfig, RolloutConfig, ServeConfig } from '@switchyard/engine';
import { ValidationError } from '../../domain/errors.js';
import type { ApiKeyView } from '../../features/api-keys/api-key-service.js';
import type { AuditLogEntry } from '../../features/audit/audit-query-service.js';
import type { FlagView } from '../../features/flags/flag-service.js';
import type { FlagType } from '../../features/flags/flag-store.js';
import type { AccountOverview } from '../../features/identity/account-service.js';
import type { ProjectView } from '../../features/projects/project-service.js';
import type { Environment } from '../../features/projects/project-store.js';
import type { Segment } from '../../features/targeting/segment-store.js';
import type { EnvironmentConfig, RuleSetInput } from '../../features/targeting/targeting-service.js';
import type { RuleView } from '../../features/targeting/targeting-store.js';
import { formatOrganizationId, formatUserId } from './ids.js';

/** Flipswitch's flag types: `object` is our `json`. */
export type FlipswitchFlagType = 'boolean' | 'string' | 'number' | 'object';

export function toDomainFlagType(type: FlipswitchFlagType): FlagType {
  return type === 'object' ? 'json' : type;
}

export function toWireFlagType(type: FlagType): FlipswitchFlagType {
  return type === 'json' ? 'object' : type;
}

export function toMeBody(me: AccountOverview) {
  return { id: formatUserId(me.user.id), email: me.user.email, name: me.user.name, organizationId: formatOrganizationId(me.activeOrganizationId) };
}

export function toProjectBody(p: ProjectView) {
  return { id: p.id, key: p.key, name: p.name, description: p.description, organizationId: formatOrganizationId(p.organizationId)! };
}

export function toEnvironmentBody(e: Environment) {
  return { id: e.id, key: e.key, name: e.name, projectId: e.projectId };
}

export function toFlagBody(v: FlagView) {
  const f = v.flag;
  return {
    id: f.id,
    key: f.key,
    name: f.name,
    type: toWireFlagType(f.type),
    defaultValue: v.defaultValue,
    description: f.description,
    variants: f.variations.map((x) => ({ key: x.key, name: x.name, value: x.value })),
  };
}

/** The wire rollout: `{variants: [{variant, weight}], bucketBy}`. */
export interface WireRollout {
  variants: Array<{ variant: string; weight: number }>;
  bucketBy?: string;
}

function toWireRollout(r: RolloutConfig): WireRollout & { bucketBy: string } {
  return { variants: r.variations.map((v) => ({ variant: v.variation, weight: v.weight })), bucketBy: r.bucketBy ?? 'targetingKey' };
}

function toDomainRollout(r: WireRollout): RolloutConfig {
  return { variations: r.variants.map((v) => ({ variation: v.variant, weight: v.weight })), ...(r.bucketBy !== undefined ? { bucketBy: r.bucketBy } : {}) };
}

function toRuleBody(r: RuleView) {
  const serve = r.serve;
  return {
    id: r.id,
    priority: r.priority,
    conditions: r.conditions,
    variant: 'variation' in serve ? serve.variation : null,
    percentageRollout: 'rollout' in serve ? toWireRollout(serve.rollout) : null,
    segments: r.segments,
    description: r.description,
  };
}

/**
 * A flag's rules in one environment. `defaultVariant` is what serves when no rule matches: the
 * environment's default serve, else the flag's default variant — which is also what a default
 * `percentageRollout` falls back to for a subject without its `bucketBy` attribute.
 */
export function toFlagRulesBody(c: EnvironmentConfig) {
  const serve: ServeConfig | null = c.defaultServe;
  return {
    enabled: c.enabled,
    defaultVariant: serve && 'variation' in serve ? serve.variation : c.flagDefaultVariation,
    rules: c.rules.map(toRuleBody),
    percentageRollout: serve && 'rollout' in serve ? toWireRollout(serve.rollout) : null,
  };
}

/** The PUT body of a flag's rules. */
export interface PutFlagRules {
  enabled: boolean;
  defaultVariant?: string | null;
  rules: Array<{
    id?: number;
    priority?: number;
    conditions?: Array<{ attribute?: string; operator: string; value?: unknown; ignoreCase?: boolean }>;
    variant?: string;
    percentageRollout?: WireRollout;
    segments?: string[];
    description?: string | null;
  }>;
  percentageRollout?: WireRollout | null;
}

/**
 * The PUT body as the domain's rule set, in priority order (ascending `priority`, ties and rules
 * without one in array order), with `order[i]` = the body index of the i-th rule, so errors can
 * name the field the caller wrote. A rule must serve exactly one of `variant` and `percentageRollout`.
 */
export function toRuleSetInput(body: PutFlagRules): { input: RuleSetInput; order: number[] } {
  const fields: Record<string, string> = {};
  body.rules.forEach((r, i) => {
    if ((r.variant === undefined) === (r.percentageRollout === undefined)) fields[`rules[${i}].variant`] = 'give exactly one of variant and percentageRollout';
  });
  if (Object.keys(fields).length > 0) throw new ValidationError(`Invalid flag rules: ${Object.entries(fields).map(([f, m]) => `${f}: ${m}`).join('; ')}`, fields);
  const order = body.rules.map((_, i) => i).sort((a, b) => (body.rules[a]!.priority ?? a + 1) - (body.rules[b]!.priority ?? b + 1) || a - b);
  const rules = order.map((i) => {
    const r = body.rules[i]!;
    const serve: ServeConfig = r.percentageRollout !== undefined ? { rollout: toDomainRollout(r.percentageRollout) } : { variation: r.variant! };
    return {
      ...(r.id !== undefined ? { id: r.id } : {}),
      conditions: (r.conditions ?? []) as ConditionConfig[],
      ...(r.segments !== undefined ? { segments: r.segments } : {}),
      ...(r.description !== undefined ? { description: r.description } : {}),
      // A bare variant key, so the engine's complaints land on the rule's `variant`.
      serve: 'variation' in serve ? serve.variation : serve,
    };
  });
  return {
    input: {
      enabled: body.enabled,
      defaultVariation: body.defaultVariant ?? null,
      rules,
      rollout: body.percentageRollout ? toDomainRollout(body.percentageRollout) : null,
    },
    order,
  };
}

/** A domain field of a rule-set write (`rules[2].serve`, `rollout.variations[0].variation`) as the caller named it. */
export function wireRuleField(field: string, order: readonly number[]): string {
  return field
    .replace(/^rules\[(\d+)\]/, (_, i: string) => `rules[${order[Number(i)] ?? i}]`)
    .replace(/^(rules\[\d+\])\.serve\.rollout/, '$1.percentageRollout')
    .replace(/^(rules\[\d+\])\.serve(\.variation)?$/, '$1.variant')
    .replace(/^rollout/, 'percentageRollout')
    .replace(/\.variations/g, '.variants')
    .replace(/\]\.variation$/, '].variant')
    .replace(/^defaultVariation$/, 'defaultVariant');
}

/** A rule-set ValidationError renamed to the request's fields; anything else unchanged. */
export function toWireRuleError(err: unknown, order: readonly number[]): unknown {
  if (!(err instanceof ValidationError) || Object.keys(err.fields).length === 0) return err;
  const fields: Record<string, string> = {};
  for (const [f, m] of Object.entries(err.fields)) {
    const w = wireRuleField(f, order);
    fields[w] = fields[w] ? `${fields[w]}; ${m}` : m;
  }
  const summary = Object.entries(fields)
    .slice(0, 5)
    .map(([f, m]) => `${f}: ${m}`)
    .join('; ');
  return new ValidationError(`Invalid flag rules: ${summary}`, fields, err.code);
}

export function toSegmentBody(s: Segment) {
  return { id: s.id, key: s.key, name: s.name, description: s.description, conditions: s.conditions };
}

export function toApiKeyBody(k: ApiKeyView) {
  return { id: k.id, name: k.name, prefix: k.prefix, createdAt: k.createdAt };
}

function show(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * An audit entry: `action` as `FLAG_UPDATED` (our `flag.updated`), `details.changes` as
 * `"field: before -> after"` lines. For a per-environment flag change the environment is context
 * (`details.environment`), not a change.
 */
export function toAuditEntryBody(e: AuditLogEntry) {
  const environment = e.resourceType === 'flag' && typeof e.after?.environment === 'string' && !(e.before && 'environment' in e.before) ? e.after.environment : undefined;
  const changes = Object.entries(e.changes)
    .filter(([field]) => !(environment !== undefined && field === 'environment'))
    .map(([field, c]) => `${field}: ${show(c.from)} -> ${show(c.to)}`);
  return {
    id: e.id,
    action: e.action.toUpperCase().replace(/\./g, '_'),
    userId: e.actorType === 'user' && e.actorId !== null ? formatUserId(e.actorId) : null,
    userName: e.actorType === 'user' ? e.userName : null,
    resourceType: e.resourceType,
    resourceId: e.resourceId,
    details: { flagKey: e.flagKey, ...(environment !== undefined ? { environment } : {}), changes },
    timestamp: e.createdAt,
  };
}
