import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { startServer } from './server.js';
import { createTestApp } from './testing/test-app.js';
import { createEmptyTarget, testDialects } from './testing/test-database.js';

describe.each(testDialects())('startServer on %s', (dialect) => {
  it('listens, and shutdown drains, fires the shutdown signal, closes the database and resolves 0', async () => {
    const { target, drop } = await createEmptyTarget(dialect);
    const exits: number[] = [];
    try {
      const config = { ...loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' }), database: target };
      const server = await startServer(config, { handleSignals: false, exit: (code) => exits.push(code) });
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

      let signalled = false;
      server.app.services.readiness.shutdownSignal.addEventListener('abort', () => (signalled = true));
      const first = server.shutdown('test');
      expect(server.shutdown('again')).toBe(first);
      expect(await first).toBe(0);
      expect(signalled).toBe(true);
      await expect(server.app.services.database.ping()).rejects.toThrow();
      await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
      // Exiting is the signal handler's business, not shutdown's.
      expect(exits).toEqual([]);
    } finally {
      await drop();
    }
  });

  it('answers requests that arrive while draining with a 503 problem and Connection: close', async () => {
    const t = await createTestApp(dialect);
    try {
      t.app.services.readiness.beginShutdown();
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/version' });
      expect(res.statusCode).toBe(503);
      expect(res.headers.connection).toBe('close');
      expect(res.headers['retry-after']).toBe('5');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 503, code: 'shutting_down' });
    } finally {
      await t.close();
    }
  });
});
