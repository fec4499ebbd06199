import { compile, CompileError, type Snapshot, type SnapshotConfig } from '@switchyard/engine';
import { digestOf } from './canonical-json.js';
import type { ChangeBus, ConfigChange } from './change-bus.js';
import type { RevisionStore } from './revision-store.js';
import type { EnvironmentConfig, SnapshotBuilder } from './snapshot-builder.js';

/** One environment's compiled snapshot: immutable, swapped whole when its configuration changes. */
export interface EnvironmentSnapshot {
  readonly environmentId: number;
  readonly environmentKey: string;
  readonly projectId: number;
  readonly organizationId: number;
  /** What the engine evaluates. */
  readonly snapshot: Snapshot;
  /** The configuration it was compiled from (flags that failed to compile left out). */
  readonly config: SnapshotConfig;
  /** SHA-256 of the canonical JSON of `config` (and of `invalidFlags`): strong ETags, stream resumption. */
  readonly digest: string;
  /**
   * Numbers this environment's successive configurations, from 1; only a changed digest bumps it.
   * With a `RevisionStore` (the app's) it is the stored, instance-independent revision, so the same
   * number names the same configuration on every instance and after restarts; without one it
   * counts swaps in this process.
   */
  readonly revision: number;
  /** When this snapshot was built (ISO-8601). */
  readonly builtAt: string;
  /** Flags whose stored configuration the engine refused, with why; evaluating one is an error, not "not found". */
  readonly invalidFlags: ReadonlyMap<string, string>;
  /** Keys of flags whose status is `inactive` (served as disabled; listed by no surface that shows only active flags). */
  readonly inactiveFlags: ReadonlySet<string>;
}

/** A snapshot replaced (`previous` → `current`), added (`previous` null) or removed (`current` null). */
export interface SnapshotSwap {
  environmentId: number;
  projectId: number;
  previous: EnvironmentSnapshot | null;
  current: EnvironmentSnapshot | null;
}

/** Called after every swap; streams send their patch from it. */
export type SnapshotListener = (swap: SnapshotSwap) => void | Promise<void>;

/** Where the cache reports what it could not do; defaults to nothing. */
export interface SnapshotCacheLogger {
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

const silent: SnapshotCacheLogger = { warn: () => {}, error: () => {} };

/**
 * The engine keeps any problem from compiling; the server must keep serving the rest. Drop the
 * flags (and segments) named in the issues and try again; what remains compiles, since a flag
 * that depended on a dropped one is named in the next round.
 */
function compileLeniently(config: SnapshotConfig, environment: string): { snapshot: Snapshot; config: SnapshotConfig; invalid: Map<string, string> } {
  const invalid = new Map<string, string>();
  let current: SnapshotConfig = config;
  for (let round = 0; round < 50; round++) {
    try {
      return { snapshot: compile(current, { environment }), config: current, invalid };
    } catch (error) {
      if (!(error instanceof CompileError)) throw error;
      const flags = { ...current.flags };
      const segments = { ...(current.segments ?? {}) };
      // Longest key first: flag keys may contain dots, so `flags.a.b.type` names `a.b` if it exists.
      const flagKeys = Object.keys(flags).sort((a, b) => b.length - a.length);
      const segmentKeys = Object.keys(segments).sort((a, b) => b.length - a.length);
      let dropped = 0;
      for (const issue of error.issues) {
        const flag = flagKeys.find((k) => issue.path === `flags.${k}` || issue.path.startsWith(`flags.${k}.`));
        if (flag !== undefined && flag in flags) {
          invalid.set(flag, `${issue.path}: ${issue.message}`);
          delete flags[flag];
          dropped++;
          continue;
        }
        const segment = segmentKeys.find((k) => issue.path === `segments.${k}` || issue.path.startsWith(`segments.${k}.`));
        if (segment !== undefined && segment in segments) {
          delete segments[segment];
          dropped++;
        }
      }
      if (dropped === 0) {
        // Nothing we can attribute: serve nothing rather than something half-understood.
        for (const k of Object.keys(flags)) invalid.set(k, error.message);
        current = { flags: {} };
      } else {
        current = { ...current, flags, ...(current.segments ? { segments } : {}) };
      }
    }
  }
  for (const k of Object.keys(current.flags)) invalid.set(k, 'configuration could not be compiled');
  return { snapshot: compile({ flags: {} }, { environment }), config: { flags: {} }, invalid };
}

/**
 * One compiled snapshot per environment, in memory: evaluation reads only this. Loaded for every
 * environment at start (`start`); rebuilt from the database and swapped whole when a change for its
 * project arrives on the change bus. It subscribes when constructed, before anything else does, so
 * by the time a write's `publish` resolves — before its HTTP response — the new snapshot is in place.
 * Rebuilds of one project run one at a time, in arrival order.
 */
export class SnapshotCache {
  private readonly entries = new Map<number, EnvironmentSnapshot>();
  private readonly queues = new Map<number, Promise<void>>();
  private readonly listeners: SnapshotListener[] = [];
  private readonly failed = new Set<number>();
  private retryTimer: NodeJS.Timeout | null = null;
  private loaded = false;
  private closed = false;

  constructor(
    private readonly builder: SnapshotBuilder,
    changes: ChangeBus,
    private logger: SnapshotCacheLogger = silent,
    /** How long after a failed rebuild it is tried again. */
    private readonly retryMs = 1000,
    /** Where revision numbers come from; in-process counting without one. */
    private readonly revisions: RevisionStore | null = null,
  ) {
    changes.subscribe((change) => this.onChange(change));
  }

  /** Where failures are reported from now on (the app's logger, once it exists). */
  useLogger(logger: SnapshotCacheLogger): void {
    this.logger = logger;
  }

  /** True once every environment has been loaded. */
  get ready(): boolean {
    return this.loaded;
  }

  /** Projects whose last rebuild failed (their snapshots are stale until a retry succeeds). */
  get staleProjects(): readonly number[] {
    return [...this.failed];
  }

  /** How many environments are held. */
  get size(): number {
    return this.entries.size;
  }

  /** Builds every project's snapshots. Resolves when all are in place. */
  async start(): Promise<void> {
    const ids = await this.builder.projectIds();
    await Promise.all(ids.map((id) => this.refresh(id)));
    this.loaded = true;
  }

  /** Stops retries; held snapshots stay readable. */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** The environment's current snapshot, or undefined when there is no such environment. */
  get(environmentId: number): EnvironmentSnapshot | undefined {
    return this.entries.get(environmentId);
  }

  /** A project's current snapshots. */
  forProject(projectId: number): EnvironmentSnapshot[] {
    return [...this.entries.values()].filter((e) => e.projectId === projectId);
  }

  /** Adds a swap listener (called after each swap, in order); returns the function that removes it. */
  subscribe(listener: SnapshotListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Rebuilds a project's snapshots from the database (after the rebuilds already queued for it)
   * and swaps those whose configuration changed. Environments gone from the database are removed.
   * Rejects when the database could not be read (the project is then retried in the background).
   */
  refresh(projectId: number): Promise<void> {
    const previous = this.queues.get(projectId) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.rebuild(projectId));
    const settled = next.catch(() => {});
    this.queues.set(projectId, settled);
    void settled.then(() => {
      if (this.queues.get(projectId) === settled) this.queues.delete(projectId);
    });
    return next;
  }

  private async onChange(change: ConfigChange): Promise<void> {
    // Keys do not change what a snapshot evaluates — but a key for an environment not held yet
    // (a project created without a change of its own, e.g. an organisation's default one) needs it.
    if (change.entity === 'api_key') {
      const ids = change.environmentIds;
      if (ids !== 'all' && ids.every((id) => this.entries.has(id))) return;
    }
    await this.refresh(change.projectId);
  }

  private async rebuild(projectId: number): Promise<void> {
    let built;
    try {
      built = await this.builder.build(projectId);
    } catch (error) {
      this.failed.add(projectId);
      this.logger.error({ err: error, projectId }, 'could not rebuild the snapshots of a project; serving the previous ones');
      this.scheduleRetry();
      throw error;
    }
    this.failed.delete(projectId);
    const swaps: SnapshotSwap[] = [];
    const present = new Set<number>();
    if (built) {
      for (const env of built.environments) {
        present.add(env.environmentId);
        const swap = await this.install(built.projectId, built.organizationId, env);
        if (swap) swaps.push(swap);
      }
    }
    for (const entry of this.forProject(projectId)) {
      if (present.has(entry.environmentId)) continue;
      this.entries.delete(entry.environmentId);
      swaps.push({ environmentId: entry.environmentId, projectId, previous: entry, current: null });
    }
    for (const swap of swaps) {
      for (const listener of [...this.listeners]) {
        try {
          await listener(swap);
        } catch (error) {
          this.logger.warn({ err: error, environmentId: swap.environmentId }, 'a snapshot listener failed');
        }
      }
    }
  }

  private async install(projectId: number, organizationId: number, env: EnvironmentConfig): Promise<SnapshotSwap | null> {
    const previous = this.entries.get(env.environmentId) ?? null;
    const { snapshot, config, invalid } = compileLeniently(env.config, env.environmentKey);
    if (invalid.size > 0) {
      this.logger.warn({ projectId, environmentId: env.environmentId, invalidFlags: Object.fromEntries(invalid) }, 'flags whose configuration does not compile are not served');
    }
    const inactive = [...(env.inactiveFlags ?? [])].sort();
    // `inactive` only when present, so digests of environments without inactive flags stay as they were.
    const digest = digestOf({ environment: env.environmentKey, config, invalid: [...invalid.keys()].sort(), ...(inactive.length > 0 ? { inactive } : {}) });
    if (previous && previous.digest === digest && previous.projectId === projectId) return null;
    const revision = await this.nextRevision(env.environmentId, projectId, digest, previous);
    const entry: EnvironmentSnapshot = Object.freeze({
      environmentId: env.environmentId,
      environmentKey: env.environmentKey,
      projectId,
      organizationId,
      snapshot,
      config,
      digest,
      revision,
      builtAt: new Date().toISOString(),
      invalidFlags: invalid,
      inactiveFlags: new Set(inactive),
    });
    this.entries.set(env.environmentId, entry);
    return { environmentId: env.environmentId, projectId, previous, current: entry };
  }

  private async nextRevision(environmentId: number, projectId: number, digest: string, previous: EnvironmentSnapshot | null): Promise<number> {
    const local = (previous?.revision ?? 0) + 1;
    if (!this.revisions) return local;
    try {
      const stored = await this.revisions.assign(environmentId, projectId, digest);
      // Never backwards within a process (only possible after a fallback below numbered locally).
      if (stored > (previous?.revision ?? 0)) return stored;
      this.logger.warn({ environmentId, stored, held: previous?.revision }, 'the stored revision is behind the held one; numbering locally');
    } catch (error) {
      this.logger.warn({ err: error, environmentId }, 'could not record the revision; numbering locally');
    }
    return local;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      for (const id of [...this.failed]) this.refresh(id).catch(() => {});
    }, this.retryMs);
    this.retryTimer.unref();
  }
}
