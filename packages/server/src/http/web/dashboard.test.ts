import Fastify from 'fastify';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { dashboardRoutes } from './dashboard.js';

describe('the dashboard at /app', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-web-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>Switchyard</title>');
    await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const appOver = async (root: string) => {
    const app = Fastify();
    await app.register(dashboardRoutes, { dir: root });
    return app;
  };

  it('serves hashed assets for a year and index.html revalidated, for any client-side route', async () => {
    const app = await appOver(dir);
    const asset = await app.inject({ url: '/app/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const url of ['/app/', '/app/projects/proj_1/flags/new-checkout']) {
      const page = await app.inject({ url });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.body).toContain('<title>Switchyard</title>');
    }
    expect((await app.inject({ url: '/app' })).headers.location).toBe('/app/');
    expect((await app.inject({ url: '/app/assets/missing-123.js' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/app/..%2f..%2fetc%2fpasswd' })).body).not.toContain('root:');
    await app.close();
  });

  it('answers 503 telling how to build when there is no build', async () => {
    const app = await appOver(join(dir, 'absent'));
    const res = await app.inject({ url: '/app/projects' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build -w @switchyard/web');
    await app.close();
  });

  describe('GET /', () => {
    let t: TestApp;
    beforeAll(async () => { t = await createTestApp('sqlite'); });
    afterAll(async () => t.close());

    it('sends browsers to /app/ and keeps {name, version} for API clients', async () => {
      const browser = await t.app.inject({ url: '/', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(browser.statusCode).toBe(302);
      expect(browser.headers.location).toBe('/app/');
      const client = await t.app.inject({ url: '/', headers: { accept: 'application/json' } });
      expect(client.statusCode).toBe(200);
      expect(client.json()).toEqual({ name: 'Switchyard', version: t.config.version });
    });
  });
});
