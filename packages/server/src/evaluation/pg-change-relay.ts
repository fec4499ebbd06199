import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { loadPg } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import type { ChangeBus, ConfigChange } from './change-bus.js';
import type { RevisionStore } from './revision-store.js';
import type { SnapshotCache } from './snapshot-cache.js';

/** The PostgreSQL channel configuration changes travel on. */
export const changeChannel = 'switchyard_config_changes';

/** Where the relay reports what it could not do. */
export interface RelayLogger {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

/** Options for {@link PostgresChangeRelay}. */
export interface PostgresChangeRelayOptions {
  /** The database URL for the dedicated LISTEN connection. */
  url: string;
  /** How often every held revision is compared with the stored ones (default 30 s; 0 turns it off). */
  revisionCheckMs?: number;
  /** First delay before reconnecting a dropped listener (doubles up to 30 s). */
  reconnectMs?: number;
  logger?: RelayLogger;
}

/** The NOTIFY payload: short keys, so it stays far below PostgreSQL's 8000-byte limit. */
interface Payload {
  v: 1;
  /** The instance that made the change (its own notifications are ignored). */
  i: string;
  o: number;
  p: number;
  e: number[] | 'all';
  n: ConfigChange['entity'];
  a: ConfigChange['action'];
  k: string | null;
}

const silent: RelayLogger = { info: () => {}, warn: () => {} };

/**
 * Carries configuration changes between instances on one PostgreSQL database. Each change this
 * instance publishes (after its commit) is sent with `NOTIFY` (ids, entity and key only); every
 * other instance, LISTENing on a dedicated connection, publishes it on its own change bus marked
 * `remote`, so its snapshot cache rebuilds from the database and its API-key map reloads the key
 * (revocations included), while the relay does not notify it again. A dropped listener reconnects
 * with backoff and then checks revisions, since notifications sent while it was away are lost; the
 * same check runs periodically as the safety net: an environment whose stored revision is newer
 * than the held one (or one not held at all) gets its project rebuilt.
 */
export class PostgresChangeRelay {
  /** This instance's id in notifications. */
  readonly instanceId = randomBytes(8).toString('hex');
  private client: pg.Client | null = null;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private checkTimer: NodeJS.Timeout | null = null;
  private delayMs: number;
  private logger: RelayLogger;
  private lostOnce = false;
  /** Remote changes received, for tests and metrics. */
  received = 0;

  private snapshots: SnapshotCache | null = null;
  private started = false;

  /**
   * Subscribes to `bus` at once: construct it before the snapshot cache, so a change is notified
   * to the other instances before this one rebuilds its own snapshots (they rebuild in parallel).
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly bus: ChangeBus,
    private readonly revisions: RevisionStore,
    private readonly options: PostgresChangeRelayOptions,
  ) {
    this.logger = options.logger ?? silent;
    this.delayMs = options.reconnectMs ?? 500;
    this.bus.subscribe((change) => this.forward(change));
  }

  /** Where trouble is reported from now on (the app's logger, once it exists). */
  useLogger(logger: RelayLogger): void {
    this.logger = logger;
  }

  /** True while the LISTEN connection is up. */
  get listening(): boolean {
    return this.client !== null;
  }

  /** Starts notifying, opens the listener and starts the periodic check over `snapshots`. */
  async start(snapshots: SnapshotCache): Promise<void> {
    this.snapshots = snapshots;
    this.stopped = false;
    this.started = true;
    await this.connect();
    const every = this.options.revisionCheckMs ?? 30_000;
    if (every > 0) {
      this.checkTimer = setInterval(() => {
        this.checkRevisions().catch((err: unknown) => this.logger.warn({ err }, 'revision check failed'));
      }, every);
      this.checkTimer.unref();
    }
  }

  /** Stops listening and checking. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.started = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => {});
  }

  /**
   * Compares every stored revision with the held snapshot and rebuilds the projects that are
   * behind (or not held). Answers the project ids it refreshed.
   */
  async checkRevisions(): Promise<number[]> {
    const snapshots = this.snapshots;
    if (!snapshots) return [];
    const stored = await this.revisions.list();
    const stale = new Set<number>();
    for (const r of stored) {
      const held = snapshots.get(r.environmentId);
      if (!held || (held.digest !== r.digest && r.revision > held.revision)) stale.add(r.projectId);
    }
    await Promise.all([...stale].map((p) => snapshots.refresh(p).catch(() => {})));
    return [...stale];
  }

  /** Not awaited by the write: other instances hear of it while this one rebuilds its own snapshots. */
  private forward(change: ConfigChange): void {
    if (change.remote || !this.started) return;
    const payload: Payload = {
      v: 1,
      i: this.instanceId,
      o: change.organizationId,
      p: change.projectId,
      // A long id list would not fit the payload; `all` rebuilds the same project.
      e: change.environmentIds === 'all' || change.environmentIds.length > 100 ? 'all' : [...change.environmentIds],
      n: change.entity,
      a: change.action,
      k: change.key !== null && change.key.length > 1000 ? null : change.key,
    };
    sql`select pg_notify(${changeChannel}, ${JSON.stringify(payload)})`.execute(this.db).catch((err: unknown) => {
      // Other instances catch up by their revision check.
      this.logger.warn({ err }, 'could not notify other instances of a change');
    });
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new (loadPg().Client)({ connectionString: this.options.url, keepAlive: true, application_name: 'switchyard-listen' });
    client.on('notification', (message) => this.receive(message.payload));
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      client.removeAllListeners('end');
      client.end().catch(() => {});
      if (this.stopped) return;
      this.logger.warn({ err }, 'lost the LISTEN connection; reconnecting');
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${changeChannel}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      this.logger.warn({ err }, 'could not LISTEN for changes; retrying');
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    const wasReconnect = this.lostOnce;
    this.client = client;
    this.delayMs = this.options.reconnectMs ?? 500;
    if (wasReconnect) {
      this.logger.info({}, 'LISTEN connection restored; checking revisions');
      await this.checkRevisions().catch((err: unknown) => this.logger.warn({ err }, 'revision check failed'));
    }
  }

  private scheduleReconnect(): void {
    this.lostOnce = true;
    if (this.stopped || this.reconnectTimer) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, 30_000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private receive(text: string | undefined): void {
    if (!text) return;
    let p: Payload;
    try {
      p = JSON.parse(text) as Payload;
    } catch {
      return;
    }
    if (p.v !== 1 || p.i === this.instanceId || typeof p.p !== 'number') return;
    this.received++;
    const change: ConfigChange = { organizationId: p.o, projectId: p.p, environmentIds: p.e, entity: p.n, action: p.a, key: p.k, remote: true };
    this.bus.publish(change).catch((err: unknown) => this.logger.warn({ err }, 'a remote change could not be applied'));
  }
}
