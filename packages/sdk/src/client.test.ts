// The client against a real running server: initialisation, local evaluation, stream updates,
// resumption, polling fallback, stale serving and bounded reconnection.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';
import { createClient, type ConfigurationChange, type SwitchyardClient } from './client.js';
import { startLiveServer, waitFor, type LiveServer } from './testing/live-server.js';

interface Call {
  url: string;
  headers: Record<string, string>;
  status?: number;
  at: number;
}

/** A fetch that records every request (and can refuse the stream, or cut the open one). */
function recordingFetch(options: { failStream?: () => boolean } = {}) {
  const calls: Call[] = [];
  const open = new Set<AbortController>();
  const f: typeof fetch = async (input, init) => {
    const url = String(input);
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    const call: Call = { url, headers, at: performance.now() };
    calls.push(call);
    if (url.endsWith('/api/v1/stream') && options.failStream?.()) {
      call.status = 503;
      return new Response('{"title":"stream disabled in this test"}', { status: 503 });
    }
    const mine = new AbortController();
    open.add(mine);
    init?.signal?.addEventListener('abort', () => mine.abort(), { once: true });
    const res = await fetch(input, { ...init, signal: mine.signal });
    call.status = res.status;
    if (!url.endsWith('/api/v1/stream')) open.delete(mine);
    return res;
  };
  return {
    fetch: f,
    calls,
    streams: () => calls.filter((c) => c.url.endsWith('/api/v1/stream')),
    polls: () => calls.filter((c) => c.url.endsWith('/api/v1/sdk/config')),
    /** Cuts every open stream, as a network failure would. */
    cut: () => {
      for (const c of open) c.abort();
      open.clear();
    },
  };
}

describe('backoffDelay', () => {
  it('grows exponentially, is never zero, never above the maximum, and jitters within the upper half', () => {
    const opts = { initialMs: 100, maxMs: 5_000 };
    expect(backoffDelay(0, opts, () => 0)).toBe(50);
    expect(backoffDelay(0, opts, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, opts, () => 0)).toBe(400);
    for (const attempt of [10, 100, 10_000]) {
      expect(backoffDelay(attempt, opts, () => 0.999999)).toBeLessThanOrEqual(5_000);
      expect(backoffDelay(attempt, opts, () => 0)).toBe(2_500);
    }
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4, opts)));
    expect(spread.size).toBeGreaterThan(10);
  });
});

describe('SwitchyardClient against a running server', () => {
  let s: LiveServer;
  let sdkKey: string;
  const clients: SwitchyardClient[] = [];
  const track = (c: SwitchyardClient) => (clients.push(c), c);
  const serve = (variation: 'on' | 'off') => s.api('PUT', '/api/v1/projects/default/flags/checkout/environments/production', { defaultServe: variation });

  beforeAll(async () => {
    s = await startLiveServer('sqlite');
    await s.api('POST', '/api/v1/projects/default/flags', { key: 'checkout', type: 'boolean', defaultValue: false });
    await s.api('POST', '/api/v1/projects/default/flags', {
      key: 'banner',
      type: 'string',
      variations: [
        { key: 'red', name: 'Red', value: 'red' },
        { key: 'blue', name: 'Blue', value: 'blue' },
      ],
      defaultValue: 'red',
    });
    await s.api('POST', '/api/v1/projects/default/flags/checkout/environments/production/enable');
    await s.api('POST', '/api/v1/projects/default/flags/banner/environments/production/enable');
    await s.api('POST', '/api/v1/projects/default/rules', {
      flag: 'banner',
      environment: 'production',
      conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'pro' }],
      serve: 'blue',
    });
    sdkKey = await s.key('default', 'production', 'sdk');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => s?.close());

  it('initialises from the stream, evaluates locally without a request per evaluation, and follows a change within a bound', async () => {
    await serve('off');
    const rec = recordingFetch();
    const client = track(createClient({ baseUrl: s.baseUrl, apiKey: sdkKey, fetch: rec.fetch }));
    await client.ready(5_000);
    expect(client.status).toBe('ready');
    expect(client.configuration?.environment).toBe('production');
    expect(client.evaluate('banner', { targetingKey: 'u1', plan: 'pro' })).toMatchObject({ value: 'blue', variant: 'blue', reason: 'TARGETING_MATCH', kind: 'RULE_MATCH' });
    expect(client.evaluate('banner', { targetingKey: 'u2', plan: 'free' })).toMatchObject({ value: 'red', reason: 'DEFAULT' });
    expect(client.evaluate('checkout', { targetingKey: 'u1' })).toMatchObject({ value: false, variant: 'off' });
    expect(client.evaluateTyped('checkout', 'string')).toMatchObject({ reason: 'ERROR', errorCode: 'TYPE_MISMATCH' });
    expect(client.evaluate('nope')).toMatchObject({ reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });

    const requests = rec.calls.length;
    for (let i = 0; i < 1_000; i++) client.evaluate('banner', { targetingKey: `u${i}`, plan: i % 2 ? 'pro' : 'free' });
    expect(rec.calls.length).toBe(requests);
    expect(rec.streams()).toHaveLength(1);
    expect(rec.polls()).toHaveLength(0);

    const changes: ConfigurationChange[] = [];
    client.on('change', (c) => changes.push(c));
    const before = performance.now();
    await serve('on');
    const took = await waitFor(() => client.evaluate('checkout').value === true, 1_000, 'the change over the stream');
    expect(took).toBeLessThan(1_000);
    expect(performance.now() - before).toBeLessThan(1_500);
    expect(changes.at(-1)).toMatchObject({ flagsChanged: ['checkout'], source: 'patch' });
    expect(changes.at(-1)!.revision).toBe(client.configuration!.revision);
    // Still one stream, no polling: the change came over it.
    expect(rec.streams()).toHaveLength(1);
    expect(rec.polls()).toHaveLength(0);
  });

  it('resumes with Last-Event-ID after the stream is cut, receiving only what it missed', async () => {
    await serve('off');
    const rec = recordingFetch();
    const client = track(createClient({ baseUrl: s.baseUrl, apiKey: sdkKey, fetch: rec.fetch, backoff: { initialMs: 400, maxMs: 400 }, pollIntervalMs: 60_000 }));
    await client.ready(5_000);
    const revision = client.configuration!.revision;
    const changes: ConfigurationChange[] = [];
    client.on('change', (c) => changes.push(c));

    rec.cut();
    await waitFor(() => !client.streaming, 1_000, 'the stream to drop');
    await serve('on');
    await waitFor(() => client.evaluate('checkout').value === true, 3_000, 'the missed change');
    await waitFor(() => client.streaming, 3_000, 'the stream to reopen');
    const second = rec.streams()[1]!;
    expect(second.headers['last-event-id']).toBe(String(revision));
    // The missed change arrived as a patch (a resume), or through the poll made at the drop.
    expect(changes.some((c) => c.source === 'patch' || c.source === 'poll')).toBe(true);
    expect(changes.some((c) => c.source === 'put')).toBe(false);
  });

  it('falls back to polling with If-None-Match when the stream endpoint fails, and picks up changes', async () => {
    await serve('off');
    const rec = recordingFetch({ failStream: () => true });
    const client = track(createClient({ baseUrl: s.baseUrl, apiKey: sdkKey, fetch: rec.fetch, pollIntervalMs: 150, backoff: { initialMs: 1_000, maxMs: 2_000 } }));
    await client.ready(5_000);
    expect(client.streaming).toBe(false);
    expect(client.evaluate('checkout').value).toBe(false);
    await waitFor(() => rec.polls().some((c) => c.status === 304), 2_000, 'a 304');
    const conditional = rec.polls().find((c) => c.status === 304)!;
    expect(conditional.headers['if-none-match']).toBe(`"${client.configuration!.digest}"`);

    const changes: ConfigurationChange[] = [];
    client.on('change', (c) => changes.push(c));
    await serve('on');
    await waitFor(() => client.evaluate('checkout').value === true, 2_000, 'the change through polling');
    expect(changes.at(-1)).toMatchObject({ flagsChanged: ['checkout'], source: 'poll' });
    expect(rec.streams().every((c) => c.status === 503)).toBe(true);
    expect(client.status).toBe('ready');
  });

  it('polls only when the stream is turned off', async () => {
    const rec = recordingFetch();
    const client = track(createClient({ baseUrl: s.baseUrl, apiKey: sdkKey, fetch: rec.fetch, stream: false, pollIntervalMs: 100 }));
    await client.ready(5_000);
    await waitFor(() => rec.polls().length >= 3, 2_000, 'three polls');
    expect(rec.streams()).toHaveLength(0);
  });

  it('stops for good when its key is revoked: the stream ends at once and the reconnection is refused', async () => {
    const { id, key } = await s.keyWithId('default', 'production', 'sdk');
    const client = track(createClient({ baseUrl: s.baseUrl, apiKey: key, backoff: { initialMs: 20, maxMs: 50 } }));
    await client.ready(5_000);
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    await s.api('POST', `/api/v1/projects/default/api-keys/${id}/revoke`);
    await waitFor(() => client.status === 'error', 3_000, 'the client to give up');
    expect(errors.at(-1)?.message).toMatch(/401/);
    // It still answers from the last configuration it had, which it knows to be stale now.
    expect(client.evaluate('checkout').variant).toBeDefined();
    expect(client.stale).toBe(true);
  });

  it('refuses an unknown key for good: ready() rejects and the client stops', async () => {
    const rec = recordingFetch();
    const client = track(createClient({ baseUrl: s.baseUrl, apiKey: 'sy_sdk_unknownunknownunknownunknown', fetch: rec.fetch, backoff: { initialMs: 20, maxMs: 20 } }));
    await expect(client.ready(5_000)).rejects.toThrow(/401/);
    expect(client.status).toBe('error');
    const n = rec.calls.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(rec.calls.length).toBe(n);
  });
});

describe('SwitchyardClient when the server goes away', () => {
  it('keeps serving the last good configuration, reports stale, and retries with bounded backoff', async () => {
    const s = await startLiveServer('sqlite');
    try {
      await s.api('POST', '/api/v1/projects/default/flags', { key: 'checkout', type: 'boolean', defaultValue: true });
      await s.api('POST', '/api/v1/projects/default/flags/checkout/environments/production/enable');
      const key = await s.key('default', 'production', 'sdk');
      const rec = recordingFetch();
      const maxMs = 200;
      const client = createClient({ baseUrl: s.baseUrl, apiKey: key, fetch: rec.fetch, backoff: { initialMs: 20, maxMs }, pollIntervalMs: 60_000, requestTimeoutMs: 1_000 });
      try {
        await client.ready(5_000);
        const stale: Error[] = [];
        client.on('stale', (e) => stale.push(e));
        await s.stop();
        await waitFor(() => client.status === 'stale', 3_000, 'stale');
        expect(stale).toHaveLength(1);
        expect(client.evaluate('checkout', { targetingKey: 'u1' })).toMatchObject({ value: true, variant: 'on' });

        // The server's shutdown `retry:` hint (2 s) sets the first delay; backoff takes over after it.
        const before = rec.streams().length;
        await waitFor(() => rec.streams().length > before, 3_000, 'a reconnection attempt');
        const from = rec.streams().length;
        await new Promise((r) => setTimeout(r, 1_500));
        const attempts = rec.streams().slice(from);
        // It keeps trying, at most `maxMs` (plus scheduling slack) apart, never in a tight loop.
        expect(attempts.length).toBeGreaterThanOrEqual(5);
        expect(attempts.length).toBeLessThan(1_500 / (maxMs / 2) + 3);
        for (let i = 1; i < attempts.length; i++) expect(attempts[i]!.at - attempts[i - 1]!.at).toBeLessThan(maxMs + 100);
        expect(client.status).toBe('stale');
      } finally {
        client.close();
      }
    } finally {
      await s.close();
    }
  });
});
