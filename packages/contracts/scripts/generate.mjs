/* global process */
// Loads the generator (and through it the server) from TypeScript sources with Vite's SSR loader,
// the way packages/server/src/testing/serve-from-source.mjs runs the server without a build.
import { createServer } from 'vite';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const vite = await createServer({
  root,
  configFile: false,
  logLevel: 'error',
  resolve: { conditions: ['source'] },
  server: { middlewareMode: true, hmr: false, watch: null },
  appType: 'custom',
  optimizeDeps: { noDiscovery: true, include: [] },
});
try {
  const { generateContracts } = await vite.ssrLoadModule('/packages/contracts/src/generate.ts');
  await writeFile(resolve(here, '../src/v1.ts'), await generateContracts());
  process.stdout.write('wrote packages/contracts/src/v1.ts\n');
} finally {
  await vite.close();
}
