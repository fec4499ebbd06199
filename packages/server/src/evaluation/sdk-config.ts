import type { FlagConfig, SegmentConfig, SnapshotConfig } from '@switchyard/engine';
import type { EnvironmentSnapshot } from './snapshot-cache.js';

/**
 * The configuration an SDK evaluates locally with `@switchyard/engine`: the engine's
 * `SnapshotConfig` of one environment (every served flag with only that environment's entry under
 * `environments[environment]`, and the project's segments), plus which environment, revision and
 * digest it is. No secrets, no audit data. It is the data of the stream's `put` event and the body
 * of `GET /api/v1/sdk/config`; `compile(config, { environment: config.environment })` evaluates it.
 */
export interface SdkConfig extends SnapshotConfig {
  /** The environment key (what `compile`'s `environment` option must be). */
  environment: string;
  /** The environment's revision: the same number means the same configuration on every instance. */
  revision: number;
  /** SHA-256 of the configuration; `GET /api/v1/sdk/config`'s strong ETag is `"<digest>"`. */
  digest: string;
}

/**
 * The data of a `patch` event (one flag's or one segment's new configuration) or a `delete` event
 * (its key; no `flag`/`segment`). `revision` and `digest` are the environment's once every event
 * of that revision has been applied.
 */
export type SdkChange =
  | { kind: 'flag'; key: string; revision: number; digest: string; flag: FlagConfig }
  | { kind: 'segment'; key: string; revision: number; digest: string; segment: SegmentConfig }
  | { kind: 'flag' | 'segment'; key: string; revision: number; digest: string };

/** The wire configuration of a snapshot (shares the snapshot's objects; serialise, do not mutate). */
export function sdkConfigOf(entry: EnvironmentSnapshot): SdkConfig {
  return { environment: entry.environmentKey, revision: entry.revision, digest: entry.digest, ...entry.config };
}
