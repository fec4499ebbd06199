import { readFileSync } from 'node:fs';

/**
 * This server's version, from `@switchyard/server`'s package.json (one level above both `src/`
 * and `dist/`, so it is found in tests and in the build alike).
 */
export const serverVersion: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
