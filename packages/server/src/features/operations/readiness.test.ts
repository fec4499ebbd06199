import { describe, expect, it } from 'vitest';
import { ReadinessRegistry } from './readiness.js';

describe('ReadinessRegistry', () => {
  it('is ready with no checks, and reports each check by name', async () => {
    const r = new ReadinessRegistry();
    expect(await r.evaluate()).toEqual({ ready: true, checks: {} });
    r.register('database', async () => true);
    r.register('snapshots', () => 'loading');
    r.register('cache', () => false);
    expect(await r.evaluate()).toEqual({ ready: false, checks: { database: 'ok', snapshots: 'loading', cache: 'not ready' } });
  });

  it('counts a throwing check and a hung check as not ready', async () => {
    const r = new ReadinessRegistry(50);
    r.register('boom', () => {
      throw new Error('connection refused');
    });
    r.register('hung', () => new Promise<true>(() => {}));
    const report = await r.evaluate();
    expect(report.ready).toBe(false);
    expect(report.checks).toEqual({ boom: 'connection refused', hung: 'no answer within 50 ms' });
  });

  it('unregisters, and a replaced check is not removed by the old unregister', async () => {
    const r = new ReadinessRegistry();
    const off = r.register('x', () => 'not yet');
    off();
    expect((await r.evaluate()).ready).toBe(true);
    const offOld = r.register('y', () => 'old');
    r.register('y', () => true);
    offOld();
    expect(await r.evaluate()).toEqual({ ready: true, checks: { y: 'ok' } });
  });

  it('is not ready once shutdown begins, and aborts the shutdown signal', async () => {
    const r = new ReadinessRegistry();
    r.register('database', () => true);
    let aborted = false;
    r.shutdownSignal.addEventListener('abort', () => (aborted = true));
    r.beginShutdown();
    r.beginShutdown();
    expect(aborted).toBe(true);
    expect(r.shuttingDown).toBe(true);
    expect(await r.evaluate()).toEqual({ ready: false, checks: { shutdown: 'shutting down', database: 'ok' } });
  });
});
