import type { ApiKeyMap } from './api-key-map.js';
import { sdkConfigOf, type SdkChange } from './sdk-config.js';
import type { EnvironmentSnapshot, SnapshotCache, SnapshotSwap } from './snapshot-cache.js';

/** Where a stream's bytes go (the route wraps the HTTP response in one). */
export interface StreamSink {
  /** Writes an already-serialised chunk (the same Buffer goes to every subscriber of a change). */
  write(chunk: string | Buffer): void;
  /** Bytes written but not yet sent (the socket's buffer); a subscriber too far behind is dropped. */
  readonly pendingBytes: number;
  /** Ends the response, after `chunk` when given. Called at most once by the hub. */
  end(chunk?: string): void;
}

/** What a stream follows: an environment, and the API key it was opened with (null for a bearer token). */
export interface StreamTarget {
  environmentId: number;
  keyId: number | null;
}

/** Options for {@link StreamHub}. */
export interface StreamHubOptions {
  /** Interval of the `: heartbeat` comment (default 15 s). */
  heartbeatMs?: number;
  /** Most revision steps held per environment for `Last-Event-ID` resumption (default 100). */
  ringSize?: number;
  /** Most serialised bytes held per environment's ring (default 1 MiB); older steps go first. */
  ringBytes?: number;
  /** A subscriber whose unsent bytes exceed this is closed (it resumes with `Last-Event-ID`); default 4 MiB. */
  maxPendingBytes?: number;
  /** The `retry:` hint (ms) sent to every stream on shutdown (default 2000). */
  shutdownRetryMs?: number;
  /** Told how long writing one change to every subscriber of its environment took (metrics). */
  onFanout?: (seconds: number, subscribers: number) => void;
}

/** One revision step: the serialised events that take a client from revision `from` to `to`. */
interface Step {
  from: number;
  to: number;
  frames: string[];
  bytes: number;
}

interface Subscriber {
  readonly sink: StreamSink;
  readonly keyId: number | null;
  /** The revision this subscriber is at (after what was last written to it). */
  revision: number;
  closed: boolean;
}

interface Channel {
  readonly subscribers: Set<Subscriber>;
  readonly ring: Step[];
  ringBytes: number;
  /** The `put` frame of the current snapshot, serialised once for every stream that opens on it. */
  put: { entry: EnvironmentSnapshot; frame: string } | null;
}

/** What `open` did: how the stream started, and the function that ends it from the outside. */
export interface OpenedStream {
  /** `put`: a full configuration was sent; `resume`: only the missed events; `current`: nothing was missed. */
  start: 'put' | 'resume' | 'current';
  /** Removes the subscriber (call when the client goes away); idempotent. */
  close(): void;
}

/** A parsed `Last-Event-ID`: revision `R`, or `R.k` (k events into the step that starts at R). */
function parseEventId(raw: string | undefined): { revision: number; offset: number } | null {
  if (raw === undefined) return null;
  const m = /^(\d{1,15})(?:\.(\d{1,6}))?$/.exec(raw.trim());
  if (!m) return null;
  return { revision: Number(m[1]), offset: m[2] === undefined ? 0 : Number(m[2]) };
}

function frame(id: string, event: string, data: string): string {
  return `id: ${id}\nevent: ${event}\ndata: ${data}\n\n`;
}

/**
 * Server-Sent Events for SDKs, one channel per environment. A stream starts with a `put` (the
 * environment's whole `SdkConfig`), then gets a `patch` or `delete` for each flag or segment that
 * changes. Events are computed once per snapshot swap by diffing the previous and new
 * configuration, serialised once, and the same string is written to every subscriber; a stream
 * holds no configuration of its own. Event ids are revisions (see `SdkConfig.revision`): the last
 * event of a swap to revision R has id `R`; when one swap needs several events, those before the
 * last are `P.1`, `P.2`, … (P the previous revision), so ids increase as (revision, step) pairs.
 * The last steps of each environment are kept (bounded) so `Last-Event-ID` resumes without a full
 * resend; anything else gets a fresh `put`.
 *
 * It listens to the snapshot cache's swaps (which the cache announces after installing the new
 * snapshot, inside the change bus publish), so what a stream is sent always matches what
 * evaluation serves; and to the API-key map, closing a revoked key's streams at once.
 */
export class StreamHub {
  private readonly channels = new Map<number, Channel>();
  private readonly heartbeatMs: number;
  private readonly ringSize: number;
  private readonly ringBytesMax: number;
  private readonly maxPendingBytes: number;
  private readonly shutdownRetryMs: number;
  private readonly onFanout: ((seconds: number, subscribers: number) => void) | undefined;
  private timer: NodeJS.Timeout | null = null;
  private openCount = 0;
  private closing = false;

  constructor(
    private readonly snapshots: SnapshotCache,
    keys: ApiKeyMap,
    options: StreamHubOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.ringSize = options.ringSize ?? 100;
    this.ringBytesMax = options.ringBytes ?? 1024 * 1024;
    this.maxPendingBytes = options.maxPendingBytes ?? 4 * 1024 * 1024;
    this.shutdownRetryMs = options.shutdownRetryMs ?? 2000;
    this.onFanout = options.onFanout;
    snapshots.subscribe((swap) => this.onSwap(swap));
    keys.subscribe((identity) => {
      if (!identity.revoked) return;
      const channel = this.channels.get(identity.environmentId);
      if (!channel) return;
      for (const s of [...channel.subscribers]) if (s.keyId === identity.keyId) this.drop(channel, s);
    });
  }

  /** Open streams, all environments together. */
  get size(): number {
    return this.openCount;
  }

  /**
   * Starts a stream on `target`'s environment: writes the `put` (or, with a `lastEventId` whose
   * gap is still held, only the missed events) and subscribes it. Synchronous, so no swap can fall
   * between what it writes and the subscription. Throws when the environment is not held.
   */
  open(target: StreamTarget, sink: StreamSink, lastEventId?: string): OpenedStream {
    if (this.closing) throw new Error('the stream hub is closed');
    const entry = this.snapshots.get(target.environmentId);
    if (!entry) throw new Error(`environment ${target.environmentId} is not held`);
    const channel = this.channel(target.environmentId);
    const subscriber: Subscriber = { sink, keyId: target.keyId, revision: entry.revision, closed: false };
    const resume = parseEventId(lastEventId);
    let start: OpenedStream['start'] = 'put';
    if (resume && resume.revision === entry.revision && resume.offset === 0) {
      start = 'current';
    } else if (resume) {
      const missed = this.framesSince(channel, resume.revision, resume.offset, entry.revision);
      if (missed !== null) {
        start = 'resume';
        if (missed.length > 0) sink.write(missed.join(''));
      }
    }
    if (start === 'put') sink.write(this.putFrame(channel, entry));
    channel.subscribers.add(subscriber);
    this.openCount++;
    this.ensureHeartbeat();
    return { start, close: () => this.remove(channel, subscriber) };
  }

  /**
   * Shutdown: every stream gets a `retry:` hint and is ended; no stream opens afterwards.
   * Called from the shutdown signal, before the server waits for open connections.
   */
  close(): void {
    this.closing = true;
    const hint = `retry: ${this.shutdownRetryMs}\n\n`;
    for (const channel of this.channels.values()) {
      for (const s of [...channel.subscribers]) this.drop(channel, s, hint);
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private channel(environmentId: number): Channel {
    let channel = this.channels.get(environmentId);
    if (!channel) this.channels.set(environmentId, (channel = { subscribers: new Set(), ring: [], ringBytes: 0, put: null }));
    return channel;
  }

  private putFrame(channel: Channel, entry: EnvironmentSnapshot): string {
    if (channel.put?.entry !== entry) channel.put = { entry, frame: frame(String(entry.revision), 'put', JSON.stringify(sdkConfigOf(entry))) };
    return channel.put.frame;
  }

  /** The frames from (`revision`, `offset`) up to `current`, or null when the ring does not hold the whole gap. */
  private framesSince(channel: Channel, revision: number, offset: number, current: number): string[] | null {
    const i = channel.ring.findIndex((s) => s.from === revision);
    if (i < 0) return null;
    const out: string[] = [];
    let at = revision;
    for (let j = i; j < channel.ring.length; j++) {
      const step = channel.ring[j]!;
      if (step.from !== at) return null;
      const skip = j === i ? offset : 0;
      if (skip > step.frames.length) return null;
      for (let k = skip; k < step.frames.length; k++) out.push(step.frames[k]!);
      at = step.to;
      if (at === current) return out;
    }
    return null;
  }

  private onSwap(swap: SnapshotSwap): void {
    const channel = this.channels.get(swap.environmentId);
    const current = swap.current;
    if (current === null) {
      // The environment is gone: its streams end (a reconnect is refused, its keys went with it).
      if (channel) {
        for (const s of [...channel.subscribers]) this.drop(channel, s);
        this.channels.delete(swap.environmentId);
      }
      return;
    }
    const previous = swap.previous;
    // Channels (and their rings) exist only for environments that have had a stream.
    if (!channel || previous === null) return;
    const step = this.step(previous, current);
    channel.ring.push(step);
    channel.ringBytes += step.bytes;
    while (channel.ring.length > this.ringSize || (channel.ringBytes > this.ringBytesMax && channel.ring.length > 1)) {
      channel.ringBytes -= channel.ring.shift()!.bytes;
    }
    if (channel.subscribers.size === 0 || step.frames.length === 0) {
      for (const s of channel.subscribers) s.revision = current.revision;
      return;
    }
    const started = this.onFanout ? performance.now() : 0;
    // Encoded once: a thousand subscribers get the same bytes.
    const chunk = Buffer.from(step.frames.length === 1 ? step.frames[0]! : step.frames.join(''), 'utf8');
    for (const s of [...channel.subscribers]) {
      // Opened on the new snapshot already (between its install and this announcement).
      if (s.revision >= current.revision) continue;
      s.revision = current.revision;
      s.sink.write(chunk);
      if (s.sink.pendingBytes > this.maxPendingBytes) this.drop(channel, s);
    }
    this.onFanout?.((performance.now() - started) / 1000, channel.subscribers.size);
  }

  /** The events that turn `previous`'s configuration into `current`'s, serialised with their ids. */
  private step(previous: EnvironmentSnapshot, current: EnvironmentSnapshot): Step {
    const changes: Array<{ event: 'patch' | 'delete' | 'put'; data: SdkChange | null }> = [];
    const { revision, digest } = current;
    const before = previous.config;
    const after = current.config;
    const sameShape = previous.environmentKey === current.environmentKey && JSON.stringify(before.metadata) === JSON.stringify(after.metadata);
    if (!sameShape) {
      changes.push({ event: 'put', data: null });
    } else {
      for (const [key, flag] of Object.entries(after.flags)) {
        const old = before.flags[key];
        if (old === undefined || JSON.stringify(old) !== JSON.stringify(flag)) changes.push({ event: 'patch', data: { kind: 'flag', key, revision, digest, flag } });
      }
      for (const key of Object.keys(before.flags)) {
        if (!(key in after.flags)) changes.push({ event: 'delete', data: { kind: 'flag', key, revision, digest } });
      }
      const beforeSegments = before.segments ?? {};
      const afterSegments = after.segments ?? {};
      // Segments first on the wire: a flag patched in the same revision may refer to a new one.
      const segmentChanges: typeof changes = [];
      for (const [key, segment] of Object.entries(afterSegments)) {
        const old = beforeSegments[key];
        if (old === undefined || JSON.stringify(old) !== JSON.stringify(segment)) segmentChanges.push({ event: 'patch', data: { kind: 'segment', key, revision, digest, segment } });
      }
      for (const key of Object.keys(beforeSegments)) {
        if (!(key in afterSegments)) segmentChanges.push({ event: 'delete', data: { kind: 'segment', key, revision, digest } });
      }
      // Segment deletes last: nothing may refer to a segment when it goes.
      const segmentPatches = segmentChanges.filter((c) => c.event === 'patch');
      const segmentDeletes = segmentChanges.filter((c) => c.event === 'delete');
      changes.unshift(...segmentPatches);
      changes.push(...segmentDeletes);
    }
    const frames: string[] = [];
    let bytes = 0;
    changes.forEach((c, i) => {
      const id = i === changes.length - 1 ? String(revision) : `${previous.revision}.${i + 1}`;
      const data = c.event === 'put' ? JSON.stringify(sdkConfigOf(current)) : JSON.stringify(c.data);
      const f = frame(id, c.event, data);
      bytes += f.length;
      frames.push(f);
    });
    return { from: previous.revision, to: revision, frames, bytes };
  }

  private ensureHeartbeat(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.heartbeat(), this.heartbeatMs);
    this.timer.unref();
  }

  private heartbeat(): void {
    if (this.openCount === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    for (const channel of this.channels.values()) {
      for (const s of [...channel.subscribers]) {
        s.sink.write(': heartbeat\n\n');
        if (s.sink.pendingBytes > this.maxPendingBytes) this.drop(channel, s);
      }
    }
  }

  private remove(channel: Channel, s: Subscriber): void {
    if (s.closed) return;
    s.closed = true;
    if (channel.subscribers.delete(s)) this.openCount--;
  }

  private drop(channel: Channel, s: Subscriber, last?: string): void {
    if (s.closed) return;
    this.remove(channel, s);
    try {
      s.sink.end(last);
    } catch {
      // The socket is already gone.
    }
  }
}
