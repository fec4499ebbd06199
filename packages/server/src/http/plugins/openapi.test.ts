import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';
import { docsPrefix } from './openapi.js';

describe.each(testDialects())('OpenAPI on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  // Every route of the real app, as Fastify reported them to the onRoute hook — including the
  // ones other slices add later. Only the Swagger UI's own static routes are exempt.
  const apiRoutes = () => t.app.routeIndex.all().filter((r) => r.url !== docsPrefix && !r.url.startsWith(`${docsPrefix}/`));

  it('collects the routes (sanity: the check below is not vacuous)', () => {
    const urls = apiRoutes().map((r) => r.url);
    expect(urls).toEqual(expect.arrayContaining(['/', '/health', '/healthz', '/readyz', '/metrics', '/api/v1/version', '/api/v1/openapi.json']));
  });

  it('every route declares an operationId, tags and a response schema', () => {
    const missing: string[] = [];
    for (const route of apiRoutes()) {
      const methods = Array.isArray(route.method) ? route.method.join(',') : route.method;
      const name = `${methods} ${route.url}`;
      const schema = route.schema as { operationId?: unknown; tags?: unknown; response?: Record<string, unknown> } | undefined;
      if (typeof schema?.operationId !== 'string' || schema.operationId === '') missing.push(`${name}: operationId`);
      if (!Array.isArray(schema?.tags) || schema.tags.length === 0) missing.push(`${name}: tags`);
      if (!schema?.response || Object.keys(schema.response).length === 0) missing.push(`${name}: response schema`);
    }
    expect(missing).toEqual([]);
  });

  it('operationIds are unique', () => {
    const seen = new Map<string, string>();
    const duplicates: string[] = [];
    for (const route of apiRoutes()) {
      if (route.method === 'HEAD') continue; // Fastify's automatic HEAD twin shares its GET's schema
      const id = (route.schema as { operationId?: string } | undefined)?.operationId;
      if (!id) continue;
      const name = `${String(route.method)} ${route.url}`;
      if (seen.has(id)) duplicates.push(`${id}: ${seen.get(id)} and ${name}`);
      seen.set(id, name);
    }
    expect(duplicates).toEqual([]);
  });

  it('GET /api/v1/openapi.json is an OpenAPI 3.1 document of the routes', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Switchyard API', version: t.config.version });
    expect(doc.paths['/readyz'].get.operationId).toBe('getReadiness');
    expect(Object.keys(doc.paths['/readyz'].get.responses).sort()).toEqual(['200', '503']);
    expect(doc.paths['/metrics'].get.responses['200'].content).toHaveProperty('text/plain');
    expect(doc.components.securitySchemes).toHaveProperty('bearerAuth');
    // The UI's own routes are not operations.
    expect(Object.keys(doc.paths).some((p) => p.startsWith(docsPrefix))).toBe(false);
  });

  it('serves the Swagger UI at /docs', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('swagger');
  });
});
