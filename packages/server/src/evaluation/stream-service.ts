import type { Actor } from '../domain/actor.js';
import { NotFoundError, UnauthorizedError, ValidationError } from '../domain/errors.js';
import type { ProjectAccessService } from '../features/projects/project-access.js';
import type { EvaluationService } from './evaluation-service.js';
import { sdkConfigOf, type SdkConfig } from './sdk-config.js';
import type { EnvironmentSnapshot, SnapshotCache } from './snapshot-cache.js';
import type { OpenedStream, StreamHub, StreamSink, StreamTarget } from './stream-hub.js';

/** Which environment a bearer-token caller asks for (an API key names its own). */
export interface SdkEnvironmentQuery {
  /** Project id (`proj_…`, digits) or key. */
  project?: string | undefined;
  /** Environment id (`env_…`, digits) or key. */
  environment?: string | undefined;
}

/** The environment a caller may follow, resolved and checked. */
export interface ResolvedSdkEnvironment {
  target: StreamTarget;
  entry: EnvironmentSnapshot;
}

function environmentIdOf(ref: string): number | null {
  const digits = ref.startsWith('env_') ? ref.slice(4) : ref;
  if (!/^[1-9]\d{0,15}$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * What SDKs read: the stream (`GET /api/v1/stream`) and the polled configuration
 * (`GET /api/v1/sdk/config`). Callers are an API key of scope sdk or stream (a server key is 403)
 * or a bearer token holding `flags:read` in the project named by `project` and `environment`.
 * Both serve the snapshot cache's configuration; no database read except the bearer's access check.
 */
export class SdkDeliveryService {
  constructor(
    private readonly evaluation: EvaluationService,
    private readonly projectAccess: ProjectAccessService,
    private readonly snapshots: SnapshotCache,
    private readonly hub: StreamHub,
  ) {}

  /** The environment `actor` may follow (401/403/404/422 as domain errors). */
  async resolve(actor: Actor | null, query: SdkEnvironmentQuery): Promise<ResolvedSdkEnvironment> {
    if (actor === null) throw new UnauthorizedError('Send X-API-Key: <sdk or stream key>, or a bearer token with project and environment', 'unauthorized');
    if (actor.kind === 'api_key') {
      const { identity, environment } = this.evaluation.target(actor, 'stream');
      return { target: { environmentId: identity.environmentId, keyId: identity.keyId }, entry: environment };
    }
    const missing: Record<string, string> = {};
    if (!query.project) missing.project = 'is required with a bearer token';
    if (!query.environment) missing.environment = 'is required with a bearer token';
    if (Object.keys(missing).length > 0) throw new ValidationError('Name the project and environment to follow', missing);
    const { project } = await this.projectAccess.require(actor, query.project!, 'flags:read');
    const ref = query.environment!;
    const held = this.snapshots.forProject(project.id);
    const id = environmentIdOf(ref);
    const entry = (id !== null ? held.find((e) => e.environmentId === id) : undefined) ?? held.find((e) => e.environmentKey === ref);
    if (!entry) throw new NotFoundError('Environment');
    return { target: { environmentId: entry.environmentId, keyId: null }, entry };
  }

  /** The environment's configuration now, for polling clients (ETag: `"<digest>"`). */
  async config(actor: Actor | null, query: SdkEnvironmentQuery): Promise<SdkConfig> {
    const { target } = await this.resolve(actor, query);
    // Re-read: the access check may have awaited a swap.
    const entry = this.snapshots.get(target.environmentId);
    if (!entry) throw new NotFoundError('Environment');
    return sdkConfigOf(entry);
  }

  /** Starts a stream on a resolved environment (see `StreamHub.open`). */
  open(target: StreamTarget, sink: StreamSink, lastEventId?: string): OpenedStream {
    if (!this.snapshots.get(target.environmentId)) throw new NotFoundError('Environment');
    return this.hub.open(target, sink, lastEventId);
  }

  /** Open streams on this instance. */
  get openStreams(): number {
    return this.hub.size;
  }
}
