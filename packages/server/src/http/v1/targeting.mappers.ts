import type { FastifyReply } from 'fastify';
import type { Segment } from '../../features/targeting/segment-store.js';
import type { RuleView } from '../../features/targeting/targeting-store.js';
import type { EnvironmentConfig } from '../../features/targeting/targeting-service.js';
import { NotFoundError } from '../../domain/errors.js';
import { formatId, parseId } from './ids.js';

/** A rule on the wire. */
export function toRuleBody(r: RuleView) {
  return {
    id: formatId('rule', r.id),
    flagKey: r.flagKey,
    environment: r.environmentKey,
    priority: r.priority,
    conditions: r.conditions,
    segments: r.segments,
    serve: r.serve,
    description: r.description,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** A flag's environment configuration on the wire. */
export function toFlagEnvironmentBody(c: EnvironmentConfig) {
  return {
    flagId: formatId('flag', c.flagId),
    flagKey: c.flagKey,
    projectId: formatId('project', c.projectId),
    environmentId: formatId('environment', c.environment.id),
    environment: c.environment.key,
    enabled: c.enabled,
    offVariation: c.offVariation,
    defaultServe: c.defaultServe,
    targets: c.targets,
    prerequisites: c.prerequisites,
    rules: c.rules.map(toRuleBody),
    version: c.version,
    updatedAt: c.updatedAt,
  };
}

/** A segment on the wire. */
export function toSegmentBody(s: Segment) {
  return {
    id: formatId('segment', s.id),
    key: s.key,
    name: s.name,
    description: s.description,
    projectId: formatId('project', s.projectId),
    conditions: s.conditions,
    included: s.included,
    excluded: s.excluded,
    version: s.version,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

/** The version an `If-Match` names (`"3"`, `W/"3"`, `3`); undefined when absent or `*`. */
export function ifMatchOf(headers: { 'if-match'?: string }): { ifMatch?: number } {
  const raw = headers['if-match'];
  if (raw === undefined || raw === '*') return {};
  return { ifMatch: Number(raw.replace(/^W\//, '').replace(/"/g, '')) };
}

/** Sets `ETag: "<version>"`. */
export function setEtag(reply: FastifyReply, version: number): void {
  reply.header('ETag', `"${version}"`);
}

/** A rule id from the path or body (`rule_1` or `1`); anything else is not found. */
export function ruleIdOf(raw: string): number {
  const id = parseId('rule', raw);
  if (id === null) throw new NotFoundError('Rule');
  return id;
}
