import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.js';
import { lazySerializers } from './lazy-serializers.js';

const item = { type: 'object', properties: { id: { type: 'string' }, count: { type: 'integer' } }, required: ['id'] } as const;

async function tinyApp(extraRoutes: (app: ReturnType<typeof Fastify>) => void = () => {}) {
  const serializers = lazySerializers();
  const app = Fastify({ schemaController: { compilersFactory: { buildSerializer: serializers.buildSerializer } } });
  app.get('/a', { schema: { response: { 200: item } } }, async () => ({ id: 'a', count: '7', secret: 'not in the schema' }));
  app.get('/b', { schema: { response: { 200: item, 404: item } } }, async () => ({ id: 'b' }));
  extraRoutes(app);
  await app.ready();
  return { app, serializers };
}

describe('lazySerializers', () => {
  it('serializes as fast-json-stringify does: schema fields only, coerced to their types', async () => {
    const { app } = await tinyApp();
    try {
      const res = await app.inject({ method: 'GET', url: '/a' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toBe('{"id":"a","count":7}');
      // A second answer reuses the compiled serializer and says the same.
      expect((await app.inject({ method: 'GET', url: '/a' })).body).toBe('{"id":"a","count":7}');
    } finally {
      await app.close();
    }
  });

  it('compiles a schema on first use only; compileAll compiles the rest once', async () => {
    const { app, serializers } = await tinyApp();
    try {
      await app.inject({ method: 'GET', url: '/a' });
      // Left: the HEAD route Fastify adds for /a, and /b's 200 and 404 for GET and HEAD.
      expect(serializers.compileAll()).toBe(5);
      expect(serializers.compileAll()).toBe(0);
      expect((await app.inject({ method: 'GET', url: '/b' })).body).toBe('{"id":"b"}');
    } finally {
      await app.close();
    }
  });

  it('lets a schema that cannot compile start the app, and compileAll finds it', async () => {
    const { app, serializers } = await tinyApp((a) => {
      a.get('/broken', { schema: { response: { 200: { $ref: 'nowhere#' } } } }, async () => ({}));
    });
    try {
      expect(() => serializers.compileAll()).toThrow(/nowhere/);
    } finally {
      await app.close();
    }
  });
});

describe('the app’s response schemas', () => {
  it('all compile (start-up no longer proves it)', async () => {
    const t = await createTestApp('sqlite');
    try {
      // Every route declares its answers, errors included: well over a thousand serializers.
      expect(t.app.compileAllSerializers()).toBeGreaterThan(1000);
      expect(t.app.compileAllSerializers()).toBe(0);
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/version' });
      expect(res.statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
