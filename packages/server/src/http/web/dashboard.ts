import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the dashboard is served. */
export const dashboardPrefix = '/app';

/** packages/web/dist, the same from src/ (tests) and dist/ (production). */
export const defaultDashboardDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../web/dist');

const tags = ['dashboard'];
const text = (description: string) => ({ description, content: { 'text/plain': { schema: { type: 'string' } } } });
const html = {
  200: { description: 'The dashboard (HTML, or one of its files)', content: { 'text/html': { schema: { type: 'string' } } } },
  404: text('No such built file'),
  503: text('The dashboard is not built'),
};

/**
 * The dashboard (packages/web) at /app: its built files, and index.html for every other /app/*
 * path so client-side routes survive a reload. The directory is looked at per request, so a build
 * made while the server runs is picked up, and a server without one still starts.
 */
export const dashboardRoutes: FastifyPluginAsync<{ dir?: string }> = async (app, opts) => {
  const dir = opts.dir ?? defaultDashboardDir;
  // Only the reply.sendFile decorator; the routes below decide what is served.
  await app.register(fastifyStatic, { root: dir, serve: false });

  const sendIndex = (reply: FastifyReply) => {
    if (!existsSync(resolve(dir, 'index.html'))) {
      return reply.status(503).type('text/plain; charset=utf-8').header('Cache-Control', 'no-store')
        .send('The dashboard is not built. Run `npm run build -w @switchyard/web` (or `npm start`, which builds it), then reload.\n');
    }
    // index.html names the hashed bundles of the current build: always revalidated.
    return reply.header('Cache-Control', 'no-cache').sendFile('index.html', dir, { cacheControl: false });
  };

  app.get(dashboardPrefix, { schema: { operationId: 'getDashboardRoot', tags, summary: 'Redirects to /app/', hide: true, response: { 302: { description: 'To /app/', type: 'null' }, 503: text('The dashboard is not built') } } },
    async (_request, reply) => reply.redirect(`${dashboardPrefix}/`));

  app.get(`${dashboardPrefix}/*`, {
    schema: { operationId: 'getDashboard', tags, summary: 'The dashboard: a built file, or index.html for a client-side route', hide: true, response: html },
  }, async (request, reply) => {
    const rest = (request.params as { '*': string })['*'];
    const file = resolve(dir, rest);
    const inside = file.startsWith(dir + sep);
    if (rest !== '' && inside && existsSync(file) && statSync(file).isFile()) {
      // Vite names files under assets/ by content hash: a changed file is a new URL.
      const immutable = rest.startsWith('assets/');
      reply.header('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      return reply.sendFile(rest, dir, { cacheControl: false });
    }
    // A missing hashed asset is a 404, not the page (a script answered with HTML breaks loudly).
    if (rest.startsWith('assets/')) return reply.status(404).type('text/plain; charset=utf-8').send('Not found\n');
    return sendIndex(reply);
  });
};
