// The client's handling of stream events, with a scripted stream: revisions applied whole,
// flagsChanged through segments and prerequisites, resynchronisation on an event it cannot apply.
import type { FlagConfig, SnapshotConfig } from '@switchyard/engine';
import { afterEach, describe, expect, it } from 'vitest';
import { changedFlags } from './changes.js';
import { createClient, type ConfigurationChange, type SwitchyardClient } from './client.js';
import { waitFor } from './testing/live-server.js';

const bool = (env: FlagConfig['environments'][string]): FlagConfig => ({ type: 'boolean', variations: { on: true, off: false }, defaultVariation: 'off', environments: { production: env } });

/** A fetch whose stream responses are pushed by the test, one connection after the other. */
function scriptedStream() {
  const connections: Array<{ headers: Record<string, string>; send: (text: string) => void; end: () => void }> = [];
  const encoder = new TextEncoder();
  const f: typeof fetch = async (input, init) => {
    // Polls (made while the stream is down) find the server unavailable.
    if (!String(input).endsWith('/api/v1/stream')) return new Response('unavailable', { status: 503 });
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    init?.signal?.addEventListener('abort', () => {
      try {
        controller.error(new Error('aborted'));
      } catch {
        // already closed
      }
    });
    connections.push({
      headers: Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v])),
      send: (text) => controller.enqueue(encoder.encode(text)),
      end: () => controller.close(),
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
  return { fetch: f, connections };
}

const event = (id: string, type: string, data: unknown) => `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

describe('stream events', () => {
  let client: SwitchyardClient | undefined;
  afterEach(() => client?.close());

  it('applies the events of one revision together (the states between need not compile), then resumes from the last whole revision', async () => {
    const s = scriptedStream();
    client = createClient({ baseUrl: 'http://sdk.test', apiKey: 'k', fetch: s.fetch, backoff: { initialMs: 10, maxMs: 10 }, pollIntervalMs: 60_000 });
    await waitFor(() => s.connections.length === 1, 1_000, 'the stream');
    const put = { environment: 'production', revision: 4, digest: 'd4', flags: { base: bool({ enabled: true, defaultServe: { variation: 'on' } }) } };
    s.connections[0]!.send(event('4', 'put', put));
    await client.ready(1_000);
    const changes: ConfigurationChange[] = [];
    client.on('change', (c) => changes.push(c));

    // `dependent` names `gate` as a prerequisite before `gate` exists: only the whole revision compiles.
    const dependent = bool({ enabled: true, prerequisites: [{ flag: 'gate', variation: 'on' }], defaultServe: { variation: 'on' } });
    const gate = bool({ enabled: true, defaultServe: { variation: 'on' } });
    s.connections[0]!.send(event('4.1', 'patch', { kind: 'flag', key: 'dependent', revision: 5, digest: 'd5', flag: dependent }));
    await new Promise((r) => setTimeout(r, 20));
    expect(changes).toHaveLength(0);
    expect(client.evaluate('dependent').errorCode).toBe('FLAG_NOT_FOUND');
    s.connections[0]!.send(event('5', 'patch', { kind: 'flag', key: 'gate', revision: 5, digest: 'd5', flag: gate }));
    await waitFor(() => changes.length === 1, 1_000, 'the revision');
    expect(changes[0]).toEqual({ flagsChanged: ['dependent', 'gate'], revision: 5, source: 'patch' });
    expect(client.evaluate('dependent')).toMatchObject({ value: true, variant: 'on' });
    expect(client.configuration).toMatchObject({ revision: 5, digest: 'd5' });

    // Cut mid-revision: what was pending is dropped, and the resume starts from revision 5.
    s.connections[0]!.send(event('5.1', 'delete', { kind: 'flag', key: 'base', revision: 6, digest: 'd6' }));
    s.connections[0]!.end();
    await waitFor(() => s.connections.length === 2, 1_000, 'the reconnection');
    expect(s.connections[1]!.headers['last-event-id']).toBe('5');
    expect(client.evaluate('base').value).toBe(true);
  });

  it('reconnects a stream that falls silent (no heartbeat), resuming', async () => {
    const s = scriptedStream();
    client = createClient({ baseUrl: 'http://sdk.test', apiKey: 'k', fetch: s.fetch, heartbeatTimeoutMs: 150, backoff: { initialMs: 10, maxMs: 10 }, pollIntervalMs: 60_000 });
    await waitFor(() => s.connections.length === 1, 1_000, 'the stream');
    s.connections[0]!.send(event('3', 'put', { environment: 'production', revision: 3, digest: 'd3', flags: {} }));
    await client.ready(1_000);
    // Heartbeats keep it open past the timeout.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 75));
      s.connections[0]!.send(': heartbeat\n\n');
    }
    expect(s.connections).toHaveLength(1);
    const took = await waitFor(() => s.connections.length === 2, 1_000, 'the reconnection');
    expect(took).toBeLessThan(400);
    expect(s.connections[1]!.headers['last-event-id']).toBe('3');
  });

  it('resynchronises with a fresh put when an event cannot be applied', async () => {
    const s = scriptedStream();
    client = createClient({ baseUrl: 'http://sdk.test', apiKey: 'k', fetch: s.fetch, backoff: { initialMs: 10, maxMs: 10 }, pollIntervalMs: 60_000 });
    await waitFor(() => s.connections.length === 1, 1_000, 'the stream');
    s.connections[0]!.send(event('1', 'put', { environment: 'production', revision: 1, digest: 'd1', flags: { a: bool({ enabled: true }) } }));
    await client.ready(1_000);
    // A prerequisite on a flag that does not exist: the configuration does not compile.
    s.connections[0]!.send(event('2', 'patch', { kind: 'flag', key: 'b', revision: 2, digest: 'd2', flag: bool({ enabled: true, prerequisites: [{ flag: 'nope', variation: 'on' }] }) }));
    await waitFor(() => s.connections.length === 2, 1_000, 'the reconnection');
    expect(s.connections[1]!.headers['last-event-id']).toBeUndefined();
    expect(client.configuration?.revision).toBe(1);
    expect(client.evaluate('a').variant).toBe('off');
  });
});

describe('changedFlags', () => {
  it('names changed, added and removed flags, users of a changed segment, and their prerequisite dependents', () => {
    const before: SnapshotConfig = {
      flags: {
        plain: bool({ enabled: true }),
        same: bool({ enabled: false }),
        seg: bool({ enabled: true, rules: [{ id: 'r', segments: ['beta'], serve: { variation: 'on' } }] }),
        cond: bool({ enabled: true, rules: [{ id: 'r', conditions: [{ operator: 'IN_SEGMENT', value: ['beta'] }], serve: { variation: 'on' } }] }),
        child: bool({ enabled: true, prerequisites: [{ flag: 'seg', variation: 'on' }] }),
        grandchild: bool({ enabled: true, prerequisites: [{ flag: 'child', variation: 'on' }] }),
        gone: bool({ enabled: true }),
      },
      segments: { beta: { included: ['a'] }, other: { included: ['b'] } },
    };
    const after: SnapshotConfig = {
      ...before,
      flags: { ...before.flags, plain: bool({ enabled: false }), added: bool({ enabled: true }) },
      segments: { beta: { included: ['a', 'c'] }, other: { included: ['b'] } },
    };
    delete after.flags['gone'];
    expect(changedFlags(before, after)).toEqual(['added', 'child', 'cond', 'gone', 'grandchild', 'plain', 'seg']);
    expect(changedFlags(before, before)).toEqual([]);
    expect(changedFlags(before, { ...before, metadata: { team: 'x' } })).toHaveLength(7);
  });
});
