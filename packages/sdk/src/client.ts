/**
 * The Switchyard client: holds one environment's configuration, compiled with the engine, and
 * evaluates locally — no request per evaluation. It stays current through the SSE stream
 * (`put`, `patch`, `delete`, resuming with `Last-Event-ID`), polls `/api/v1/sdk/config` with
 * `If-None-Match` while the stream is unavailable, and keeps serving the last good configuration
 * (reporting itself stale) while the server cannot be reached. Runs on Node 20 and in browsers:
 * it needs only `fetch`, streams, `TextDecoder` and timers.
 */
import {
  compile,
  evaluate as engineEvaluate,
  evaluateAll as engineEvaluateAll,
  evaluateTyped as engineEvaluateTyped,
  type EvaluationResult,
  type ExpectedType,
  type Snapshot,
  type SnapshotConfig,
} from '@switchyard/engine';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { changedFlags } from './changes.js';
import { SseParser, type SseEvent } from './sse-parser.js';
import { sdkConfigPath, streamPath, type SdkChange, type SdkConfiguration } from './wire.js';

/** Where the client reports what happens; `console` and pino loggers fit. */
export interface Logger {
  debug?(message: string, ...details: unknown[]): void;
  info?(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

/** Options of `createClient`. */
export interface ClientOptions {
  /** The server's base URL, e.g. `https://flags.example.com`. */
  baseUrl: string;
  /** An API key of scope `sdk` (or `stream`/`server` where the server allows it); sent as `X-API-Key`. */
  apiKey: string;
  /** Stay current through the SSE stream (default true); false polls only. */
  stream?: boolean;
  /** How often to poll while the stream is unavailable (or disabled), in ms. Default 30,000. */
  pollIntervalMs?: number;
  /** Reconnection backoff bounds (stream reconnects and failed polls). */
  backoff?: BackoffOptions;
  /** A stream silent for this long (no event, no heartbeat) is treated as dead, in ms. Default 45,000 (the server beats every 15 s). */
  heartbeatTimeoutMs?: number;
  /** Timeout of one configuration request, in ms. Default 10,000. */
  requestTimeoutMs?: number;
  /** The fetch implementation. Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Where to log. Default: nowhere (listen to the client's events instead). */
  logger?: Logger;
}

/**
 * - `initializing`: no configuration yet.
 * - `ready`: serving a configuration the server confirmed (stream open, or the last poll succeeded).
 * - `stale`: serving the last good configuration while the server cannot be reached.
 * - `error`: the server refused the key (401/403); the client stopped trying.
 * - `closed`: `close()` was called.
 */
export type ClientStatus = 'initializing' | 'ready' | 'stale' | 'error' | 'closed';

/** A configuration change that was applied. */
export interface ConfigurationChange {
  /** Keys of the flags whose evaluation may differ (changed, added, removed, or depending on what changed). */
  flagsChanged: string[];
  /** The configuration's revision afterwards. */
  revision: number;
  /** What brought it. */
  source: 'put' | 'patch' | 'delete' | 'poll';
}

/** What the client emits. */
export interface ClientEvents {
  /** The first configuration arrived, or the server is reachable again after `stale`. */
  ready: [];
  /** A new configuration is in place. */
  change: [ConfigurationChange];
  /** The server cannot be reached; the last good configuration is still served. */
  stale: [Error];
  /** Something failed: fatal when `status` is `error` (the key was refused), otherwise informative. */
  error: [Error];
}

/** The server answered with a status the client cannot work with. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    detail: string,
  ) {
    super(`${url} answered ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'HttpStatusError';
  }
}

const silent: Logger = { warn: () => {}, error: () => {} };

type Timer = ReturnType<typeof setTimeout>;
type Listener<A extends unknown[]> = (...args: A) => void;

interface Installed {
  readonly configuration: SdkConfiguration;
  readonly snapshot: Snapshot;
}

const notReady = (flagKey: string): EvaluationResult =>
  Object.freeze({
    flagKey,
    value: undefined,
    variant: undefined,
    reason: 'ERROR',
    kind: 'ERROR',
    errorCode: 'GENERAL',
    errorMessage: 'the client has no configuration yet',
    ruleId: undefined,
    metadata: Object.freeze({}),
  });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the shape of a configuration document just enough to compile it safely. */
function asConfiguration(value: unknown): SdkConfiguration {
  if (!isObject(value) || typeof value['environment'] !== 'string' || !isObject(value['flags'])) {
    throw new Error('the server sent a configuration without environment and flags');
  }
  return {
    ...(value as unknown as SnapshotConfig),
    environment: value['environment'],
    revision: typeof value['revision'] === 'number' ? value['revision'] : 0,
    digest: typeof value['digest'] === 'string' ? value['digest'] : '',
  };
}

/** The engine's part of a wire configuration. */
function engineConfigOf(c: SnapshotConfig): SnapshotConfig {
  return { flags: c.flags, ...(c.segments ? { segments: c.segments } : {}), ...(c.metadata ? { metadata: c.metadata } : {}) };
}

/**
 * A client for one environment (the one the API key belongs to). Build it with `createClient`,
 * await `ready()`, then evaluate as often as needed: every evaluation is local.
 */
export class SwitchyardClient {
  private readonly base: string;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly logger: Logger;
  private readonly useStream: boolean;
  private readonly pollIntervalMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly listeners: { [K in keyof ClientEvents]: Array<Listener<ClientEvents[K]>> } = { ready: [], change: [], stale: [], error: [] };

  private installed: Installed | undefined;
  /** The revision being received over the stream, until its last event. */
  private pending: SdkConfiguration | undefined;
  private currentStatus: ClientStatus = 'initializing';
  private etag: string | undefined;
  private lastEventId: string | undefined;
  private retryHintMs: number | undefined;
  private streamAttempt = 0;
  private pollAttempt = 0;
  private streamOpen = false;
  private streamController: AbortController | undefined;
  private streamTimer: Timer | undefined;
  private pollTimer: Timer | undefined;
  private heartbeatTimer: Timer | undefined;
  private polling = false;
  private readyWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private fatal: Error | undefined;

  constructor(options: ClientOptions) {
    if (!options.baseUrl) throw new TypeError('baseUrl is required');
    if (!options.apiKey) throw new TypeError('apiKey is required');
    this.base = options.baseUrl.replace(/\/+$/, '');
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('no fetch implementation: pass options.fetch');
    // Bound, so a browser's window.fetch is not called with another `this`.
    this.fetchImpl = f.bind(globalThis);
    this.logger = options.logger ?? silent;
    this.useStream = options.stream ?? true;
    this.pollIntervalMs = Math.max(100, options.pollIntervalMs ?? 30_000);
    this.heartbeatTimeoutMs = Math.max(100, options.heartbeatTimeoutMs ?? 45_000);
    this.requestTimeoutMs = Math.max(100, options.requestTimeoutMs ?? 10_000);
    this.backoff = options.backoff ?? {};
    this.apiKey = options.apiKey;
    if (this.useStream) this.connectStream();
    else void this.poll();
  }

  private readonly apiKey: string;

  /** Where the client stands; see `ClientStatus`. */
  get status(): ClientStatus {
    return this.currentStatus;
  }

  /**
   * True when the configuration served may be out of date: the server could not be reached, or it
   * refused the key after a configuration had arrived (nothing will update it any more).
   */
  get stale(): boolean {
    return this.currentStatus === 'stale' || (this.currentStatus === 'error' && this.installed !== undefined);
  }

  /** The configuration in use (as received over the wire, patches applied), if any. */
  get configuration(): SdkConfiguration | undefined {
    return this.installed?.configuration;
  }

  /** The compiled snapshot in use, if any. */
  get snapshot(): Snapshot | undefined {
    return this.installed?.snapshot;
  }

  /** Whether the stream is open right now. */
  get streaming(): boolean {
    return this.streamOpen;
  }

  /**
   * Resolves once a configuration is in place; rejects when the server refuses the key, when the
   * client is closed first, or after `timeoutMs` (if given) without one.
   */
  ready(timeoutMs?: number): Promise<void> {
    if (this.installed) return Promise.resolve();
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.currentStatus === 'closed') return Promise.reject(new Error('the client is closed'));
    return new Promise<void>((resolve, reject) => {
      let timer: Timer | undefined;
      const waiter = {
        resolve: () => {
          if (timer) clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          if (timer) clearTimeout(timer);
          reject(e);
        },
      };
      this.readyWaiters.push(waiter);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
          reject(new Error(`no configuration within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /**
   * Evaluates one flag locally.
   * @param flagKey - the flag key
   * @param context - the evaluation context (`targetingKey` plus attributes)
   * @returns the engine's result (an error result with `GENERAL` before the first configuration)
   */
  evaluate(flagKey: string, context?: unknown): EvaluationResult {
    const snapshot = this.installed?.snapshot;
    return snapshot ? engineEvaluate(snapshot, flagKey, context) : notReady(flagKey);
  }

  /**
   * Evaluates one flag locally and checks the value's type (`TYPE_MISMATCH` otherwise).
   * @param flagKey - the flag key
   * @param expected - the value type the caller expects
   * @param context - the evaluation context
   * @returns the engine's result
   */
  evaluateTyped(flagKey: string, expected: ExpectedType, context?: unknown): EvaluationResult {
    const snapshot = this.installed?.snapshot;
    return snapshot ? engineEvaluateTyped(snapshot, flagKey, expected, context) : notReady(flagKey);
  }

  /**
   * Evaluates every flag locally.
   * @param context - the evaluation context
   * @returns one result per flag (none before the first configuration)
   */
  evaluateAll(context?: unknown): EvaluationResult[] {
    const snapshot = this.installed?.snapshot;
    return snapshot ? engineEvaluateAll(snapshot, context) : [];
  }

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void {
    (this.listeners[event] as Array<Listener<ClientEvents[K]>>).push(listener);
    return () => this.off(event, listener);
  }

  /** Removes a listener. */
  off<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): void {
    const list = this.listeners[event] as Array<Listener<ClientEvents[K]>>;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  /** Stops streaming and polling. The last configuration stays readable. */
  close(): void {
    if (this.currentStatus === 'closed') return;
    this.currentStatus = 'closed';
    this.streamOpen = false;
    this.streamController?.abort();
    this.clearTimers();
    for (const w of this.readyWaiters.splice(0)) w.reject(new Error('the client is closed'));
  }

  // --- events -------------------------------------------------------------------------------

  private emit<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]): void {
    for (const listener of [...(this.listeners[event] as Array<Listener<ClientEvents[K]>>)]) {
      try {
        listener(...args);
      } catch (error) {
        this.logger.error(`a "${event}" listener threw`, error);
      }
    }
  }

  private get closed(): boolean {
    return this.currentStatus === 'closed' || this.currentStatus === 'error';
  }

  /** The server confirmed the configuration in use. */
  private markFresh(): void {
    if (!this.installed || this.closed) return;
    if (this.currentStatus === 'ready') return;
    const recovering = this.currentStatus === 'stale';
    this.currentStatus = 'ready';
    if (recovering) this.logger.info?.('the server is reachable again');
    this.emit('ready');
  }

  /** The server could not be reached. */
  private markUnreachable(error: Error): void {
    if (this.closed) return;
    this.logger.warn(`server unreachable: ${error.message}`);
    if (this.installed && this.currentStatus === 'ready') {
      this.currentStatus = 'stale';
      this.emit('stale', error);
    } else if (!this.installed) {
      this.emit('error', error);
    }
  }

  private markFatal(error: Error): void {
    if (this.closed) return;
    this.logger.error(`giving up: ${error.message}`);
    this.fatal = error;
    this.currentStatus = 'error';
    this.streamOpen = false;
    this.streamController?.abort();
    this.clearTimers();
    for (const w of this.readyWaiters.splice(0)) w.reject(error);
    this.emit('error', error);
  }

  // --- configuration ------------------------------------------------------------------------

  /** Compiles and installs a configuration; false (and the old one kept) when it does not compile. */
  private install(configuration: SdkConfiguration, source: ConfigurationChange['source']): boolean {
    let snapshot: Snapshot;
    try {
      snapshot = compile(engineConfigOf(configuration), { environment: configuration.environment });
    } catch (error) {
      this.logger.error('the configuration received does not compile; keeping the previous one', error);
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
      return false;
    }
    const previous = this.installed;
    this.installed = Object.freeze({ configuration, snapshot });
    if (!previous) {
      this.currentStatus = 'ready';
      for (const w of this.readyWaiters.splice(0)) w.resolve();
      this.emit('ready');
      return true;
    }
    this.markFresh();
    const flagsChanged = changedFlags(previous.configuration, configuration);
    if (flagsChanged.length > 0 || previous.configuration.revision !== configuration.revision) {
      this.emit('change', { flagsChanged, revision: configuration.revision, source });
    }
    return true;
  }

  /**
   * Applies one `patch`/`delete` to the working copy of the revision being received. Events of one
   * revision are applied together, when its last event (an id without `.`) arrives: the states in
   * between need not compile (a flag may name a prerequisite patched after it).
   */
  private applyChange(change: SdkChange, kind: 'patch' | 'delete', eventId: string | undefined): boolean {
    const current = this.installed?.configuration;
    if (!current || !isObject(change) || typeof change.key !== 'string') return false;
    const working = this.pending ?? { ...current, flags: { ...current.flags }, segments: { ...(current.segments ?? {}) } };
    const segments = working.segments!;
    if (change.kind === 'flag') {
      if (kind === 'delete') delete working.flags[change.key];
      else if ('flag' in change && isObject(change.flag)) working.flags[change.key] = change.flag;
      else return false;
    } else if (change.kind === 'segment') {
      if (kind === 'delete') delete segments[change.key];
      else if ('segment' in change && isObject(change.segment)) segments[change.key] = change.segment;
      else return false;
    } else {
      return false;
    }
    if (eventId !== undefined && eventId.includes('.')) {
      this.pending = working;
      return true;
    }
    this.pending = undefined;
    const { segments: finalSegments, ...rest } = working;
    const next: SdkConfiguration = {
      ...rest,
      ...(finalSegments && Object.keys(finalSegments).length > 0 ? { segments: finalSegments } : {}),
      revision: typeof change.revision === 'number' ? change.revision : current.revision,
      digest: typeof change.digest === 'string' ? change.digest : '',
    };
    return this.install(next, kind);
  }

  // --- stream -------------------------------------------------------------------------------

  private connectStream(): void {
    if (this.closed) return;
    this.streamTimer = undefined;
    const controller = new AbortController();
    this.streamController = controller;
    // Only headers a browser's CORS preflight must allow anyway: the key and, when resuming, Last-Event-ID.
    const headers: Record<string, string> = { 'X-API-Key': this.apiKey, Accept: 'text/event-stream' };
    // Resume only from what we hold: without a configuration there is nothing to patch.
    if (this.installed && this.lastEventId !== undefined) headers['Last-Event-ID'] = this.lastEventId;
    const url = this.base + streamPath;
    void (async () => {
      try {
        const response = await this.fetchImpl(url, { headers, signal: controller.signal, cache: 'no-store' });
        if (!response.ok || !response.body) {
          const detail = await response.text().catch(() => '');
          const error = new HttpStatusError(response.status, url, detail.slice(0, 200));
          if (response.status === 401 || response.status === 403) this.markFatal(error);
          // Rate limited: wait at least as long as the server asks.
          const retryAfter = Number(response.headers.get('retry-after'));
          if (response.status === 429 && Number.isFinite(retryAfter) && retryAfter > 0) this.retryHintMs = Math.min(retryAfter * 1000, 300_000);
          throw error;
        }
        await this.readStream(response.body, controller);
        if (!controller.signal.aborted) throw new Error('the stream ended');
      } catch (error) {
        if (this.closed || this.streamController !== controller) return;
        this.streamDown(error instanceof Error ? error : new Error(String(error)));
      }
    })();
  }

  private async readStream(body: ReadableStream<Uint8Array>, controller: AbortController): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let failure: Error | undefined;
    const parser = new SseParser(
      {
        onEvent: (event) => {
          try {
            this.onStreamEvent(event, controller);
          } catch (error) {
            failure = error instanceof Error ? error : new Error(String(error));
            controller.abort();
          }
        },
        onRetry: (ms) => {
          this.retryHintMs = ms;
        },
      },
      this.lastEventId,
    );
    this.armHeartbeat(controller);
    const onAbort = () => void reader.cancel().catch(() => {});
    controller.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.armHeartbeat(controller);
        parser.push(decoder.decode(value, { stream: true }));
        if (failure) throw failure;
      }
    } finally {
      controller.signal.removeEventListener('abort', onAbort);
      if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
      this.heartbeatTimer = undefined;
    }
    if (failure) throw failure;
  }

  private armHeartbeat(controller: AbortController): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.logger.warn(`no stream traffic for ${this.heartbeatTimeoutMs} ms; reconnecting`);
      controller.abort();
      if (!this.closed && this.streamController === controller) this.streamDown(new Error('stream heartbeat timeout'));
    }, this.heartbeatTimeoutMs);
  }

  private onStreamEvent(event: SseEvent, controller: AbortController): void {
    if (this.streamController !== controller || this.closed) return;
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      throw new Error(`the stream sent a "${event.event}" event that is not JSON`);
    }
    let applied: boolean;
    switch (event.event) {
      case 'put':
        this.pending = undefined;
        applied = this.install(asConfiguration(data), 'put');
        break;
      case 'patch':
      case 'delete':
        applied = this.applyChange(data as SdkChange, event.event, event.id);
        break;
      default:
        this.logger.debug?.(`ignoring stream event "${event.event}"`);
        return;
    }
    if (!applied) {
      // We can no longer follow the sequence: start over with a full `put`.
      this.lastEventId = undefined;
      throw new Error(`could not apply the stream's "${event.event}" event; resynchronising`);
    }
    // Resume only from a whole revision: what is pending dies with this connection.
    if (this.pending === undefined && event.id !== undefined) this.lastEventId = event.id;
    if (!this.streamOpen) {
      this.streamOpen = true;
      this.streamAttempt = 0;
      this.retryHintMs = undefined;
      this.stopPolling();
      this.logger.info?.('stream open');
    }
    this.markFresh();
  }

  private streamDown(error: Error): void {
    if (this.closed) return;
    const wasOpen = this.streamOpen;
    this.streamOpen = false;
    this.pending = undefined;
    this.streamController?.abort();
    // Whoever notices second (the read loop after a heartbeat timeout) finds it handled.
    this.streamController = undefined;
    this.logger.warn(`stream ${wasOpen ? 'lost' : 'unavailable'}: ${error.message}`);
    // Poll at once: it tells whether the server is reachable at all and fetches what we missed.
    this.startPolling();
    const delay = Math.max(this.retryHintMs ?? 0, backoffDelay(this.streamAttempt++, this.backoff));
    this.retryHintMs = undefined;
    if (this.streamTimer) clearTimeout(this.streamTimer);
    this.streamTimer = setTimeout(() => this.connectStream(), delay);
  }

  // --- polling ------------------------------------------------------------------------------

  private startPolling(): void {
    if (this.polling || this.closed) return;
    this.polling = true;
    void this.poll();
  }

  private stopPolling(): void {
    this.polling = false;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** One request to `/api/v1/sdk/config`; schedules the next while polling is on (always without a stream). */
  private async poll(): Promise<void> {
    if (this.closed) return;
    this.pollTimer = undefined;
    let next: number;
    try {
      await this.fetchConfiguration();
      this.pollAttempt = 0;
      this.markFresh();
      next = this.pollIntervalMs;
    } catch (error) {
      if (this.closed) return;
      const e = error instanceof Error ? error : new Error(String(error));
      if (e instanceof HttpStatusError && (e.status === 401 || e.status === 403)) {
        this.markFatal(e);
        return;
      }
      this.markUnreachable(e);
      next = Math.min(this.pollIntervalMs, backoffDelay(this.pollAttempt++, this.backoff));
    }
    if (this.closed || (this.useStream && (!this.polling || this.streamOpen))) return;
    this.pollTimer = setTimeout(() => void this.poll(), next);
  }

  private async fetchConfiguration(): Promise<void> {
    const url = this.base + sdkConfigPath;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.requestTimeoutMs);
    try {
      const headers: Record<string, string> = { 'X-API-Key': this.apiKey, Accept: 'application/json' };
      if (this.etag !== undefined && this.installed) headers['If-None-Match'] = this.etag;
      const response = await this.fetchImpl(url, { headers, signal: controller.signal, cache: 'no-store' });
      if (response.status === 304) return;
      if (!response.ok) throw new HttpStatusError(response.status, url, (await response.text().catch(() => '')).slice(0, 200));
      const configuration = asConfiguration(await response.json());
      if (this.closed) return;
      if (this.installed && configuration.digest !== '' && this.installed.configuration.digest === configuration.digest) {
        this.etag = response.headers.get('etag') ?? undefined;
        return;
      }
      if (this.install(configuration, 'poll')) this.etag = response.headers.get('etag') ?? undefined;
    } catch (error) {
      if (controller.signal.aborted && !this.closed) throw new Error(`${url} did not answer within ${this.requestTimeoutMs} ms`);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private clearTimers(): void {
    for (const t of [this.streamTimer, this.pollTimer, this.heartbeatTimer]) if (t) clearTimeout(t);
    this.streamTimer = this.pollTimer = this.heartbeatTimer = undefined;
    this.polling = false;
  }
}

/**
 * Creates a client and starts fetching the configuration (stream first, polling as fallback).
 *
 * ```ts
 * const client = createClient({ baseUrl: 'http://localhost:8080', apiKey: process.env.SWITCHYARD_SDK_KEY! });
 * await client.ready();
 * const { value } = client.evaluate('new-checkout', { targetingKey: 'user-1', plan: 'pro' });
 * ```
 */
export function createClient(options: ClientOptions): SwitchyardClient {
  return new SwitchyardClient(options);
}
