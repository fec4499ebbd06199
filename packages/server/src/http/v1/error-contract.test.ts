import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import type { LightMyRequestResponse } from 'fastify';
import { createCustomApp } from '../../testing/custom-app.js';
import type { TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';
import { NotFoundError } from '../../domain/errors.js';

const problemKeys = ['type', 'title', 'status', 'detail', 'instance', 'code', 'message', 'details'];

function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  for (const key of problemKeys) expect(body).toHaveProperty(key);
  expect(body).toMatchObject({ status, code, instance: res.headers['x-request-id'] });
  expect(body.message).toBe(body.detail);
  expect(res.body).not.toMatch(/\bat .+:\d+:\d+/); // no stack frames
  expect(res.body).not.toContain('"stack"');
  return body;
}

describe.each(testDialects())('v1 error contract on %s', (dialect) => {
  let t: TestApp;
  const logs: string[] = [];
  beforeAll(async () => {
    t = await createCustomApp(dialect, {
      logStream: new Writable({
        write(chunk, _enc, done) {
          logs.push(String(chunk));
          done();
        },
      }),
      extend: (app) => {
        app.post('/api/v1/__test/echo', {
          schema: {
            body: Type.Object({ name: Type.String({ minLength: 1 }), count: Type.Integer() }),
            querystring: Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1 })) }),
            response: { 200: Type.Object({ name: Type.String() }) },
          },
        }, async (request) => ({ name: (request.body as { name: string }).name }));
        app.get('/api/v1/__test/items/:id', {
          schema: { params: Type.Object({ id: Type.String({ pattern: '^[0-9]+$' }) }), response: { 200: Type.Object({}) } },
        }, async () => ({}));
        app.get('/api/v1/__test/boom', async () => {
          throw new Error('db password=hunter2 at /srv/secret/path');
        });
        app.get('/api/v1/__test/missing', async () => {
          throw new NotFoundError('Flag');
        });
      },
    });
  });
  afterAll(async () => t.close());

  const post = (payload: string, contentType = 'application/json', url = '/api/v1/__test/echo') =>
    t.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });

  it('a valid request passes (the test route works)', async () => {
    const res = await post(JSON.stringify({ name: 'x', count: 1 }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'x' });
  });

  it('malformed JSON is a 400 malformed_json problem', async () => {
    const body = expectProblem(await post('{"name": "x",'), 400, 'malformed_json');
    expect(body.title).toBe('Bad Request');
  });

  it('an empty JSON body is a 400 problem', async () => {
    expectProblem(await post(''), 400, 'bad_request');
  });

  it('an unknown content type is a 415 problem', async () => {
    const body = expectProblem(await post('name=x', 'application/x-unknown'), 415, 'unsupported_media_type');
    expect(body.title).toBe('Unsupported Media Type');
  });

  it('a body over 1 MiB is a 413 problem', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024), count: 1 });
    const body = expectProblem(await post(big), 413, 'payload_too_large');
    expect(body.title).toBe('Content Too Large');
  });

  it('a body that breaks the schema is 422 with each field in errors', async () => {
    const body = expectProblem(await post(JSON.stringify({ name: '' })), 422, 'validation_failed');
    expect(Object.keys(body.errors).sort()).toEqual(['count', 'name']);
    expect(body.errors.count).toBe('is required');
    expect(body.details).toEqual({ fields: body.errors });
  });

  it('a bad query string or path parameter is a 400 bad_request', async () => {
    const q = expectProblem(await post(JSON.stringify({ name: 'x', count: 1 }), 'application/json', '/api/v1/__test/echo?page=0'), 400, 'bad_request');
    expect(q.errors).toHaveProperty('page');
    const p = expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/__test/items/abc' }), 400, 'bad_request');
    expect(p.errors).toHaveProperty('id');
  });

  it('a wrong method on an existing path is 405 with Allow', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/api/v1/__test/echo' });
    const body = expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.allow).toBe('POST');
    expect(body.title).toBe('Method Not Allowed');
    const get = await t.app.inject({ method: 'POST', url: '/api/v1/__test/items/123?x=1' });
    expectProblem(get, 405, 'method_not_allowed');
    expect(get.headers.allow).toBe('GET, HEAD');
    const health = await t.app.inject({ method: 'PUT', url: '/health' });
    expectProblem(health, 405, 'method_not_allowed');
    expect(health.headers.allow).toBe('GET, HEAD');
  });

  it('an unknown route is a 404 problem', async () => {
    const body = expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/__test/nope' }), 404, 'not_found');
    expect(body.title).toBe('Not Found');
    expectProblem(await t.app.inject({ method: 'POST', url: '/nothing/here' }), 404, 'not_found');
  });

  it('a bad URL is a 400 problem', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/__test/items/%E0%A4%A' }), 400, 'bad_request');
  });

  it('a domain error is rendered with its status and code', async () => {
    const body = expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/__test/missing' }), 404, 'not_found');
    expect(body.detail).toBe('Flag not found');
  });

  it('an unexpected error is a generic 500, logged with the error', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/__test/boom', headers: { 'x-request-id': 'req_boom1' } });
    const body = expectProblem(res, 500, 'internal_error');
    expect(body.detail).toBe('An unexpected error occurred');
    expect(res.body).not.toContain('hunter2');
    const line = logs.map((l) => JSON.parse(l)).find((l) => l.reqId === 'req_boom1' && l.level === 50);
    expect(line?.err?.message).toContain('/srv/secret/path');
    expect(line?.err?.stack).toBeTruthy();
  });
});
