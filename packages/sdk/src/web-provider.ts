/**
 * The OpenFeature provider for `@openfeature/web-sdk` (static context): resolutions are synchronous
 * local evaluations with the engine for the context the application set, on the configuration the
 * client keeps current over the stream. A context change needs no request, so `onContextChange`
 * reconciles nothing; a configuration change emits `ConfigurationChanged`.
 *
 * The configuration holds every rule of the environment (segment member lists included), so use an
 * `sdk` key of an environment whose targeting data may be seen by the browser's user.
 */
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/web-sdk';
import type { ExpectedType } from '@switchyard/engine';
import type { SwitchyardClient } from './client.js';
import { resolveWith } from './resolution.js';
import { clientOf, type ProviderOptions } from './provider-options.js';

/** Options of `SwitchyardWebProvider`. */
export type SwitchyardWebProviderOptions = ProviderOptions;

/** OpenFeature web provider for Switchyard. */
export class SwitchyardWebProvider implements Provider {
  readonly metadata = { name: 'switchyard-web' } as const;
  readonly runsOn = 'client' as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly hooks = [];
  /** The client behind the provider. */
  readonly client: SwitchyardClient;
  private readonly owned: boolean;
  private readonly timeoutMs: number;
  private settled = false;
  private readonly off: Array<() => void>;

  constructor(options: SwitchyardWebProviderOptions) {
    const { client, owned } = clientOf(options);
    this.client = client;
    this.owned = owned;
    this.timeoutMs = options.initializationTimeoutMs ?? 10_000;
    this.off = [
      client.on('change', (c) => this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: c.flagsChanged, metadata: { revision: c.revision, source: c.source } })),
      client.on('stale', (e) => this.events.emit(ProviderEvents.Stale, { message: e.message })),
      client.on('ready', () => {
        if (this.settled) this.events.emit(ProviderEvents.Ready);
      }),
      client.on('error', (e) => {
        if (client.status === 'error' && this.settled) this.events.emit(ProviderEvents.Error, { message: e.message, errorCode: ErrorCode.PROVIDER_FATAL });
      }),
    ];
  }

  async initialize(): Promise<void> {
    try {
      await this.client.ready(this.timeoutMs);
    } catch (error) {
      if (this.client.status === 'error') throw new ProviderFatalError((error as Error).message);
      throw error;
    } finally {
      this.settled = true;
    }
  }

  /** Local evaluation needs nothing fetched for a new context: no reconciling. */
  onContextChange(): void {}

  async onClose(): Promise<void> {
    this.off.forEach((f) => f());
    if (this.owned) this.client.close();
  }

  private resolve<T>(flagKey: string, defaultValue: T, expected: ExpectedType, context: EvaluationContext): ResolutionDetails<T> {
    return resolveWith(this.client, flagKey, defaultValue, expected, context) as ResolutionDetails<T>;
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): ResolutionDetails<boolean> {
    return this.resolve(flagKey, defaultValue, 'boolean', context);
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): ResolutionDetails<string> {
    return this.resolve(flagKey, defaultValue, 'string', context);
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): ResolutionDetails<number> {
    return this.resolve(flagKey, defaultValue, 'number', context);
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext): ResolutionDetails<T> {
    return this.resolve(flagKey, defaultValue, 'object', context);
  }
}
