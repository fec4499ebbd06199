// The SDK's wire types mirror the server's single definition; this file stops type-checking
// (tsconfig.test.json) the moment the two drift apart, and the runtime check below keeps the paths in step.
import { describe, expect, it } from 'vitest';
import type { SdkChange as ServerSdkChange, SdkConfig as ServerSdkConfig } from '../../server/src/evaluation/sdk-config.js';
import { sdkConfigPath as serverSdkConfigPath, streamPath as serverStreamPath } from '../../server/src/http/v1/stream.routes.js';
import { sdkConfigPath, streamPath, type SdkChange, type SdkConfiguration } from './wire.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const configSame: Same<SdkConfiguration, ServerSdkConfig> = true;
const changeSame: Same<SdkChange, ServerSdkChange> = true;

describe('wire types', () => {
  it('match the server: configuration, change events and paths', () => {
    expect(configSame && changeSame).toBe(true);
    expect(sdkConfigPath).toBe(serverSdkConfigPath);
    expect(streamPath).toBe(serverStreamPath);
  });
});
