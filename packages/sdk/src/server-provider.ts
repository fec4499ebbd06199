/**
 * The OpenFeature provider for `@openfeature/server-sdk` (dynamic context): every resolution is a
 * local evaluation with the engine on the configuration the client keeps current.
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
} from '@openfeature/server-sdk';
import type { ExpectedType } from '@switchyard/engine';
import type { SwitchyardClient } from './client.js';
import { clientOf, type ProviderOptions } from './provider-options.js';
import { resolveWith } from './resolution.js';

/** Options of `SwitchyardProvider`. */
export type SwitchyardProviderOptions = ProviderOptions;

/**
 * OpenFeature server provider for Switchyard.
 *
 * ```ts
 * await OpenFeature.setProviderAndWait(new SwitchyardProvider({ baseUrl, apiKey }));
 * const enabled = await OpenFeature.getClient().getBooleanValue('new-checkout', false, { targetingKey: 'user-1' });
 * ```
 */
export class SwitchyardProvider implements Provider {
  readonly metadata = { name: 'switchyard' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly hooks = [];
  /** The client behind the provider (its configuration, status and events). */
  readonly client: SwitchyardClient;
  private readonly owned: boolean;
  private readonly timeoutMs: number;
  private settled = false;
  private readonly off: Array<() => void>;

  constructor(options: SwitchyardProviderOptions) {
    const { client, owned } = clientOf(options);
    this.client = client;
    this.owned = owned;
    this.timeoutMs = options.initializationTimeoutMs ?? 10_000;
    // Ready is emitted by the SDK when `initialize` resolves; ours only marks later recoveries.
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
      // A refused key will not fix itself: FATAL rather than ERROR.
      if (this.client.status === 'error') throw new ProviderFatalError((error as Error).message);
      throw error;
    } finally {
      this.settled = true;
    }
  }

  async onClose(): Promise<void> {
    this.off.forEach((f) => f());
    if (this.owned) this.client.close();
  }

  private resolve<T>(flagKey: string, defaultValue: T, expected: ExpectedType, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    return Promise.resolve(resolveWith(this.client, flagKey, defaultValue, expected, context) as ResolutionDetails<T>);
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return this.resolve(flagKey, defaultValue, 'boolean', context);
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return this.resolve(flagKey, defaultValue, 'string', context);
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return this.resolve(flagKey, defaultValue, 'number', context);
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    return this.resolve(flagKey, defaultValue, 'object', context);
  }
}
