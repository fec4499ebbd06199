export type { paths, components, operations } from './v1.js';
import type { components } from './v1.js';

/** A named schema of the v1 API's OpenAPI document. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];
