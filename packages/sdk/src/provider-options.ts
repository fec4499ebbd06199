import { SwitchyardClient, type ClientOptions } from './client.js';

/** Options of the OpenFeature providers: a client's options, or a client already built. */
export type ProviderOptions = (ClientOptions | { client: SwitchyardClient }) & {
  /**
   * How long `initialize` waits for the first configuration before failing (the provider still
   * turns ready, emitting `Ready`, when it arrives later). Default 10,000 ms.
   */
  initializationTimeoutMs?: number;
};

/** Builds or adopts the client; `owned` says whether closing the provider closes it. */
export function clientOf(options: ProviderOptions): { client: SwitchyardClient; owned: boolean } {
  return 'client' in options ? { client: options.client, owned: false } : { client: new SwitchyardClient(options), owned: true };
}
