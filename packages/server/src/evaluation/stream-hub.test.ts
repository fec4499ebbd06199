import { compile, type SnapshotConfig } from '@switchyard/engine';
import { describe, expect, it } from 'vitest';
import type { ApiKeyIdentity, ApiKeyMap, ApiKeyMapListener } from './api-key-map.js';
import type { EnvironmentSnapshot, SnapshotCache, SnapshotListener } from './snapshot-cache.js';
import { StreamHub, type StreamSink } from './stream-hub.js';

/**
 * The hub against a stand-in snapshot cache (swaps are announced by hand), so the event
 * sequences of swaps the API cannot produce deterministically — several changes in one rebuild —
 * can be checked. The routes test covers the same hub end to end through real sockets.
 */
function harness(options: ConstructorParameters<typeof StreamHub>[2] = {}) {
  let current: EnvironmentSnapshot | undefined;
  const swapListeners: SnapshotListener[] = [];
  const keyListeners: ApiKeyMapListener[] = [];
  const snapshots = {
    get: (id: number) => (current?.environmentId === id ? current : undefined),
    subscribe: (l: SnapshotListener) => {
      swapListeners.push(l);
      return () => {};
    },
  } as unknown as SnapshotCache;
  const keys = { subscribe: (l: ApiKeyMapListener) => (keyListeners.push(l), () => {}) } as unknown as ApiKeyMap;
  const hub = new StreamHub(snapshots, keys, options);
  const entry = (revision: number, config: SnapshotConfig): EnvironmentSnapshot => ({
    environmentId: 1,
    environmentKey: 'production',
    projectId: 1,
    organizationId: 1,
    snapshot: compile(config, { environment: 'production' }),
    config,
    digest: `digest-${revision}`,
    revision,
    builtAt: new Date().toISOString(),
    invalidFlags: new Map(),
    inactiveFlags: new Set(),
  });
  return {
    hub,
    install(revision: number, config: SnapshotConfig) {
      const previous = current ?? null;
      current = entry(revision, config);
      for (const l of swapListeners) void l({ environmentId: 1, projectId: 1, previous, current });
    },
    revoke(keyId: number) {
      for (const l of keyListeners) l({ keyId, environmentId: 1, revoked: true } as ApiKeyIdentity);
    },
  };
}

function sink(pending = () => 0): StreamSink & { text: string; ended: boolean } {
  const s = {
    text: '',
    ended: false,
    write(chunk: string | Buffer) {
      s.text += chunk.toString();
    },
    get pendingBytes() {
      return pending();
    },
    end(chunk?: string) {
      if (chunk) s.text += chunk;
      s.ended = true;
    },
  };
  return s;
}

function events(text: string): Array<{ id: string; event: string; data: Record<string, unknown> }> {
  return text
    .split('\n\n')
    .filter((b) => b.includes('data: '))
    .map((b) => {
      const field = (name: string) => b.split('\n').find((l) => l.startsWith(`${name}: `))!.slice(name.length + 2);
      return { id: field('id'), event: field('event'), data: JSON.parse(field('data')) as Record<string, unknown> };
    });
}

const flag = (enabled: boolean, extra: Record<string, unknown> = {}) => ({
  type: 'boolean' as const,
  variations: { on: true, off: false },
  defaultVariation: 'off',
  environments: { production: { enabled, ...extra } },
});

describe('StreamHub', () => {
  it('turns a swap with several changes into ordered events: segment patches first, segment deletes last, ids P.1 … R', () => {
    const h = harness();
    h.install(4, { flags: { a: flag(false), b: flag(false) }, segments: { old: { included: ['x'] } } });
    const s = sink();
    expect(h.hub.open({ environmentId: 1, keyId: 7 }, s).start).toBe('put');
    h.install(5, { flags: { a: flag(true), c: flag(false) }, segments: { beta: { included: ['u'] } } });
    const got = events(s.text);
    expect(got.map((e) => [e.id, e.event, e.data.kind, e.data.key])).toEqual([
      ['4', 'put', undefined, undefined],
      ['4.1', 'patch', 'segment', 'beta'],
      ['4.2', 'patch', 'flag', 'a'],
      ['4.3', 'patch', 'flag', 'c'],
      ['4.4', 'delete', 'flag', 'b'],
      ['5', 'delete', 'segment', 'old'],
    ]);
    for (const e of got.slice(1)) expect(e.data).toMatchObject({ revision: 5, digest: 'digest-5' });
    // Unchanged flags are not sent.
    h.install(6, { flags: { a: flag(true), c: flag(true) }, segments: { beta: { included: ['u'] } } });
    expect(events(s.text).slice(6).map((e) => [e.id, e.data.key])).toEqual([['6', 'c']]);
  });

  it('resumes mid-revision, from a held revision, or not at all when the gap left the ring', () => {
    const h = harness({ ringSize: 2 });
    h.install(1, { flags: { a: flag(false) } });
    h.hub.open({ environmentId: 1, keyId: null }, sink());
    h.install(2, { flags: { a: flag(true), b: flag(true) } });
    const mid = sink();
    expect(h.hub.open({ environmentId: 1, keyId: null }, mid, '1.1').start).toBe('resume');
    expect(events(mid.text).map((e) => [e.id, e.data.key])).toEqual([['2', 'b']]);
    h.install(3, { flags: { a: flag(false), b: flag(true) } });
    const fromOne = sink();
    h.hub.open({ environmentId: 1, keyId: null }, fromOne, '1');
    expect(events(fromOne.text).map((e) => e.id)).toEqual(['1.1', '2', '3']);
    const current = sink();
    expect(h.hub.open({ environmentId: 1, keyId: null }, current, '3').start).toBe('current');
    expect(current.text).toBe('');
    h.install(4, { flags: { a: flag(true), b: flag(true) } });
    // Ring of 2: steps 2→3 and 3→4 are held, 1→2 no longer.
    const tooOld = sink();
    expect(h.hub.open({ environmentId: 1, keyId: null }, tooOld, '1').start).toBe('put');
    expect(events(tooOld.text).map((e) => [e.id, e.event])).toEqual([['4', 'put']]);
    // Every subscriber got each change once.
    expect(events(current.text).map((e) => e.id)).toEqual(['4']);
    expect(events(mid.text).map((e) => e.id)).toEqual(['2', '3', '4']);
  });

  it('closes a revoked key\'s streams only, drops a subscriber too far behind, and ends all with a retry hint on close', () => {
    const h = harness({ maxPendingBytes: 100, shutdownRetryMs: 1500 });
    h.install(1, { flags: { a: flag(false) } });
    const mine = sink();
    const other = sink();
    let backlog = 0;
    const slow = sink(() => backlog);
    h.hub.open({ environmentId: 1, keyId: 1 }, mine);
    h.hub.open({ environmentId: 1, keyId: 2 }, other);
    h.hub.open({ environmentId: 1, keyId: 3 }, slow);
    expect(h.hub.size).toBe(3);
    h.revoke(1);
    expect([mine.ended, other.ended]).toEqual([true, false]);
    backlog = 1000;
    h.install(2, { flags: { a: flag(true) } });
    expect(slow.ended).toBe(true);
    expect(h.hub.size).toBe(1);
    h.hub.close();
    expect(other.ended).toBe(true);
    expect(other.text.endsWith('retry: 1500\n\n')).toBe(true);
    expect(() => h.hub.open({ environmentId: 1, keyId: 2 }, sink())).toThrow();
  });
});
