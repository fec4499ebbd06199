/* global process */
// Runs `switchyard serve` from the TypeScript sources through Vite's SSR module loader, so tests
// can start real server processes without a build. Prints `listening <url>` once it listens.
import { createServer } from 'vite';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const vite = await createServer({
  root,
  configFile: false,
  logLevel: 'error',
  resolve: { conditions: ['source'] },
  server: { middlewareMode: true, hmr: false, watch: null },
  appType: 'custom',
  optimizeDeps: { noDiscovery: true, include: [] },
});
const { loadConfig } = await vite.ssrLoadModule('/packages/server/src/config.ts');
const { startServer } = await vite.ssrLoadModule('/packages/server/src/server.ts');
const running = await startServer(loadConfig(), {
  exit: (code) => {
    void vite.close().finally(() => process.exit(code));
  },
});
process.stdout.write(`listening ${running.url}\n`);
