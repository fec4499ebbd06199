/** `@switchyard/sdk/server`: the client and the OpenFeature provider for `@openfeature/server-sdk`. */
export * from './index.js';
export { SwitchyardProvider } from './server-provider.js';
export type { SwitchyardProviderOptions } from './server-provider.js';
