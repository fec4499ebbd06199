/**
 * What the server sends an SDK. The definition is the server's
 * (`packages/server/src/evaluation/sdk-config.ts`: `SdkConfig`, `SdkChange`); it is mirrored here
 * because the SDK must not depend on the server package, and `wire.test.ts` fails to type-check
 * the moment the two differ.
 *
 * - `GET /api/v1/sdk/config` and the stream's `put`: `SdkConfiguration`, the engine's
 *   `SnapshotConfig` of one environment plus `environment`, `revision` and `digest`.
 * - `patch`: one flag's or segment's new configuration; `delete`: its key. Their `revision` and
 *   `digest` are the environment's once every event of that revision has been applied.
 * - Event ids are revisions: `R`, or `P.k` for all but the last event of one revision.
 */
import type { FlagConfig, SegmentConfig, SnapshotConfig } from '@switchyard/engine';

/** One environment's configuration as served to SDKs; `compile(c, { environment: c.environment })` evaluates it. */
export interface SdkConfiguration extends SnapshotConfig {
  /** The environment key (what `compile`'s `environment` option must be). */
  environment: string;
  /** The environment's revision: the same number means the same configuration on every instance. */
  revision: number;
  /** SHA-256 of the configuration; `GET /api/v1/sdk/config`'s strong ETag is `"<digest>"`. */
  digest: string;
}

/** The data of a stream `patch` (with `flag` or `segment`) or `delete` (without) event. */
export type SdkChange =
  | { kind: 'flag'; key: string; revision: number; digest: string; flag: FlagConfig }
  | { kind: 'segment'; key: string; revision: number; digest: string; segment: SegmentConfig }
  | { kind: 'flag' | 'segment'; key: string; revision: number; digest: string };

/** The configuration endpoint's path. */
export const sdkConfigPath = '/api/v1/sdk/config';
/** The stream endpoint's path. */
export const streamPath = '/api/v1/stream';
