/**
 * Maps an engine result to OpenFeature's resolution details, shared by the server and the web
 * provider. Kept free of OpenFeature imports: the engine's error codes are spelled exactly as
 * OpenFeature's, so the providers only narrow the type.
 */
import type { EvaluationResult, ExpectedType, FlagMetadata, JsonValue } from '@switchyard/engine';
import type { SwitchyardClient } from './client.js';

/** OpenFeature's `ResolutionDetails`, structurally. */
export interface Resolution<T> {
  value: T;
  variant?: string;
  reason: string;
  errorCode?: string;
  errorMessage?: string;
  flagMetadata: Record<string, string | number | boolean>;
}

/**
 * Converts a context as OpenFeature hands it (values may be `Date`s) into what the server would
 * receive as JSON, so that local and remote evaluation see the same attributes.
 */
export function toEngineContext(context: unknown): unknown {
  if (context instanceof Date) return context.toISOString();
  if (Array.isArray(context)) return context.map(toEngineContext);
  if (context === null || typeof context !== 'object') return context;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context as Record<string, unknown>)) if (v !== undefined) out[k] = toEngineContext(v);
  return out;
}

function metadataOf(result: EvaluationResult): Record<string, string | number | boolean> {
  return { ...(result.metadata as FlagMetadata) };
}

/**
 * Resolves a flag locally through the client.
 * @param client - the client holding the configuration
 * @param flagKey - the flag key
 * @param defaultValue - the caller's default, served on errors and when the flag yields no value
 * @param expected - the value type the caller expects (a mismatch is `TYPE_MISMATCH`)
 * @param context - the evaluation context
 * @returns OpenFeature resolution details; reason `STALE` for a value served from a configuration
 *   the client knows may be out of date
 */
export function resolveWith<T>(client: SwitchyardClient, flagKey: string, defaultValue: T, expected: ExpectedType, context: unknown): Resolution<T> {
  if (client.configuration === undefined) {
    return {
      value: defaultValue,
      reason: 'ERROR',
      errorCode: client.status === 'error' ? 'PROVIDER_FATAL' : 'PROVIDER_NOT_READY',
      errorMessage: 'no configuration has been received yet',
      flagMetadata: {},
    };
  }
  const result = client.evaluateTyped(flagKey, expected, toEngineContext(context));
  if (result.errorCode !== undefined) {
    return { value: defaultValue, reason: 'ERROR', errorCode: result.errorCode, errorMessage: result.errorMessage, flagMetadata: metadataOf(result) };
  }
  if (result.variant === undefined) {
    // The flag defers to the code default (flagd DISABLED, or no default variant): no variant.
    return { value: defaultValue, reason: result.reason, flagMetadata: metadataOf(result) };
  }
  return {
    value: result.value as JsonValue as T,
    variant: result.variant,
    reason: client.stale ? 'STALE' : result.reason,
    flagMetadata: metadataOf(result),
  };
}
