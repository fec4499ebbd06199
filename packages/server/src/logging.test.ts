import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from './logging.js';
import { createCustomApp } from './testing/custom-app.js';
import type { TestApp } from './testing/test-app.js';
import { testDialects } from './testing/test-database.js';

describe('redactUrl', () => {
  it('replaces secret query values and keeps the rest', () => {
    expect(redactUrl('/api/v1/stream?api_key=sk_live_1&env=prod')).toBe('/api/v1/stream?api_key=[REDACTED]&env=prod');
    expect(redactUrl('/x?Token=abc&TOKEN&code=xyz')).toBe('/x?Token=[REDACTED]&TOKEN&code=[REDACTED]');
    expect(redactUrl('/plain/path')).toBe('/plain/path');
  });
});

describe.each(testDialects())('request logs on %s', (dialect) => {
  let t: TestApp;
  const lines: string[] = [];
  const logs = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  beforeAll(async () => {
    t = await createCustomApp(dialect, {
      logStream: new Writable({
        write(chunk, _enc, done) {
          lines.push(...String(chunk).split('\n').filter(Boolean));
          done();
        },
      }),
      extend: (app) => {
        // A careless handler that logs everything it was given: redaction must still hold.
        app.post('/api/v1/__test/log-everything', async (request) => {
          request.log.info({ headers: request.headers, body: request.body }, 'dumping the request');
          request.log.info(request.body as object, 'dumping the body at top level');
          return { ok: true };
        });
      },
    });
  });
  afterAll(async () => t.close());

  it('logs each request with its request id', async () => {
    await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'req_logs1' } });
    const mine = logs().filter((l) => l.reqId === 'req_logs1');
    expect(mine.map((l) => l.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
    const completed = mine.find((l) => l.msg === 'request completed') as { res: { statusCode: number }; responseTime: number };
    expect(completed.res.statusCode).toBe(200);
    expect(typeof completed.responseTime).toBe('number');
  });

  it('never writes credential headers, secret body fields or secret query values', async () => {
    const secrets = {
      authorization: 'Bearer eyJhbGciOi.header-secret-1',
      cookie: 'sid=cookie-secret-2',
      apiKey: 'sk_header-secret-3',
      password: 'body-secret-4',
      newPassword: 'body-secret-5',
      refreshToken: 'body-secret-6',
      clientSecret: 'body-secret-7',
      nestedToken: 'body-secret-8',
      query: 'query-secret-9',
    };
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/__test/log-everything?token=${secrets.query}&page=2`,
      headers: {
        authorization: secrets.authorization,
        cookie: secrets.cookie,
        'x-api-key': secrets.apiKey,
        'user-agent': 'visible-agent/1.0',
        'x-request-id': 'req_logs2',
      },
      payload: {
        email: 'visible@example.test',
        password: secrets.password,
        newPassword: secrets.newPassword,
        refreshToken: secrets.refreshToken,
        client: { clientSecret: secrets.clientSecret, deeper: { token: secrets.nestedToken } },
      },
    });
    expect(res.statusCode).toBe(200);
    const output = lines.join('\n');
    // The capture works and the request was logged, including the harmless parts…
    expect(output).toContain('visible-agent/1.0');
    expect(output).toContain('visible@example.test');
    expect(output).toContain('page=2');
    expect(output).toContain('[REDACTED]');
    // …and none of the secrets.
    for (const secret of Object.values(secrets)) expect(output).not.toContain(secret);
  });
});
