/**
 * `@switchyard/sdk`: a client that fetches an environment's configuration, evaluates locally with
 * `@switchyard/engine`, and stays current through the SSE stream (polling as fallback).
 * OpenFeature providers: `@switchyard/sdk/server` (`SwitchyardProvider`) and `@switchyard/sdk/web`
 * (`SwitchyardWebProvider`).
 */
export { createClient, SwitchyardClient, HttpStatusError } from './client.js';
export type { ClientOptions, ClientStatus, ClientEvents, ConfigurationChange, Logger } from './client.js';
export { backoffDelay, defaultBackoff } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { changedFlags } from './changes.js';
export { SseParser } from './sse-parser.js';
export type { SseEvent, SseHandlers } from './sse-parser.js';
export { sdkConfigPath, streamPath } from './wire.js';
export type { SdkConfiguration, SdkChange } from './wire.js';
export type { ProviderOptions } from './provider-options.js';
