import type { ApiKeyView } from '../../features/api-keys/api-key-service.js';
import { formatId, parseId } from './ids.js';

/** The v1 body of an API key (never its secret or hash). */
export function toApiKeyBody(k: ApiKeyView) {
  return {
    id: formatId('apiKey', k.id),
    name: k.name,
    environment: k.environmentKey,
    environmentId: formatId('environment', k.environmentId),
    projectId: formatId('project', k.projectId),
    scope: k.scope,
    prefix: k.prefix,
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt,
    expiresAt: k.expiresAt,
    revokedAt: k.revokedAt,
  };
}

/** `env_12` or `12` names an environment by id; anything else is its key. */
export function environmentRefOf(raw: string): number | string {
  return parseId('environment', raw) ?? raw;
}
