/** `@switchyard/sdk/web`: the client and the OpenFeature provider for `@openfeature/web-sdk`. */
export * from './index.js';
export { SwitchyardWebProvider } from './web-provider.js';
export type { SwitchyardWebProviderOptions } from './web-provider.js';
