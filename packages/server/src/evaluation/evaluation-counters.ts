import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** Where counted evaluations belong. */
export interface CounterScope {
  readonly environmentId: number;
  readonly projectId: number;
  readonly organizationId: number;
}

/** One summed row: evaluations of a flag's variation in an environment on a UTC day. */
export interface EvaluationCount {
  environmentId: number;
  projectId: number;
  organizationId: number;
  flagKey: string;
  /** The served variation's key; `''` when the evaluation served no variation (an error). */
  variation: string;
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  count: number;
}

/** Which counts to read; `from`/`to` are inclusive `YYYY-MM-DD` days. */
export interface EvaluationCountQuery {
  organizationId: number;
  projectId?: number;
  environmentId?: number;
  flagKey?: string;
  from?: string;
  to?: string;
}

interface EnvironmentCounts {
  scope: CounterScope;
  /** flag key → variation → count */
  flags: Map<string, Map<string, number>>;
}

/** Counts of one UTC day not yet written. */
interface DayCounts {
  day: string;
  environments: Map<number, EnvironmentCounts>;
}

const DAY_MS = 86_400_000;

/**
 * Evaluation counts per (environment, flag, variation, UTC day), kept in memory on the hot path
 * (a few map updates, no allocation once a flag/variation has been seen that day) and written in
 * batches by `flush` — on a timer and on close — with an upsert that adds to what is stored, so
 * several instances may flush into the same rows.
 */
export class EvaluationCounters {
  private current: DayCounts;
  private pending: DayCounts[] = [];
  private nextDayAt: number;
  private flushing: Promise<number> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {
    const t = this.now();
    this.current = { day: new Date(t).toISOString().slice(0, 10), environments: new Map() };
    this.nextDayAt = Math.floor(t / DAY_MS) * DAY_MS + DAY_MS;
  }

  /** Counts one evaluation. */
  record(scope: CounterScope, flagKey: string, variation: string): void {
    this.add(scope, flagKey, variation, 1);
  }

  /** Counts `n` evaluations. */
  add(scope: CounterScope, flagKey: string, variation: string, n: number): void {
    const t = this.now();
    if (t >= this.nextDayAt) this.rollOver(t);
    let env = this.current.environments.get(scope.environmentId);
    if (env === undefined) {
      env = { scope: { environmentId: scope.environmentId, projectId: scope.projectId, organizationId: scope.organizationId }, flags: new Map() };
      this.current.environments.set(scope.environmentId, env);
    }
    let variations = env.flags.get(flagKey);
    if (variations === undefined) {
      variations = new Map();
      env.flags.set(flagKey, variations);
    }
    variations.set(variation, (variations.get(variation) ?? 0) + n);
  }

  /** Flushes every `intervalMs` until `stop` (the timer does not keep the process alive). */
  start(intervalMs: number, onError: (error: unknown) => void = () => {}): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.flush().catch(onError);
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Counts recorded but not yet written, as rows. */
  unflushed(): EvaluationCount[] {
    const rows: EvaluationCount[] = [];
    for (const day of [...this.pending, this.current]) rows.push(...rowsOf(day));
    return rows;
  }

  /**
   * Writes every count recorded so far in one transaction and forgets them; resolves with the
   * number of rows written. Counts from a failed write are kept for the next flush. Concurrent
   * calls share one write.
   */
  flush(): Promise<number> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    const batch = [...this.pending, this.current];
    this.pending = [];
    this.current = { day: this.current.day, environments: new Map() };
    const rows = batch.flatMap(rowsOf);
    if (rows.length === 0) return Promise.resolve(0);
    this.flushing = this.write(rows).then(
      () => {
        this.flushing = null;
        return rows.length;
      },
      (error: unknown) => {
        this.flushing = null;
        for (const r of rows) this.restore(r);
        throw error;
      },
    );
    return this.flushing;
  }

  /**
   * Summed counts matching `query` — what the database holds plus what is still in memory — one
   * row per (environment, flag, variation, day), ordered by day, environment, flag, variation.
   */
  async read(query: EvaluationCountQuery): Promise<EvaluationCount[]> {
    let q = this.db.selectFrom('evaluation_counts').selectAll().where('organization_id', '=', query.organizationId);
    if (query.projectId !== undefined) q = q.where('project_id', '=', query.projectId);
    if (query.environmentId !== undefined) q = q.where('environment_id', '=', query.environmentId);
    if (query.flagKey !== undefined) q = q.where('flag_key', '=', query.flagKey);
    if (query.from !== undefined) q = q.where('day', '>=', query.from);
    if (query.to !== undefined) q = q.where('day', '<=', query.to);
    const stored = await q.execute();
    const sums = new Map<string, EvaluationCount>();
    const addRow = (r: EvaluationCount) => {
      const k = `${r.day}\u0000${r.environmentId}\u0000${r.flagKey}\u0000${r.variation}`;
      const existing = sums.get(k);
      if (existing) existing.count += r.count;
      else sums.set(k, { ...r });
    };
    for (const r of stored) {
      addRow({
        environmentId: r.environment_id,
        projectId: r.project_id,
        organizationId: r.organization_id,
        flagKey: r.flag_key,
        variation: r.variation,
        day: r.day,
        count: Number(r.count),
      });
    }
    for (const r of this.unflushed()) {
      if (r.organizationId !== query.organizationId) continue;
      if (query.projectId !== undefined && r.projectId !== query.projectId) continue;
      if (query.environmentId !== undefined && r.environmentId !== query.environmentId) continue;
      if (query.flagKey !== undefined && r.flagKey !== query.flagKey) continue;
      if (query.from !== undefined && r.day < query.from) continue;
      if (query.to !== undefined && r.day > query.to) continue;
      addRow(r);
    }
    return [...sums.values()].sort(
      (a, b) =>
        a.day.localeCompare(b.day) || a.environmentId - b.environmentId || a.flagKey.localeCompare(b.flagKey) || a.variation.localeCompare(b.variation),
    );
  }

  private rollOver(t: number): void {
    if (this.current.environments.size > 0) this.pending.push(this.current);
    this.current = { day: new Date(t).toISOString().slice(0, 10), environments: new Map() };
    this.nextDayAt = Math.floor(t / DAY_MS) * DAY_MS + DAY_MS;
  }

  private restore(r: EvaluationCount): void {
    let day = r.day === this.current.day ? this.current : this.pending.find((d) => d.day === r.day);
    if (!day) {
      day = { day: r.day, environments: new Map() };
      this.pending.unshift(day);
    }
    let env = day.environments.get(r.environmentId);
    if (!env) {
      env = { scope: { environmentId: r.environmentId, projectId: r.projectId, organizationId: r.organizationId }, flags: new Map() };
      day.environments.set(r.environmentId, env);
    }
    let variations = env.flags.get(r.flagKey);
    if (!variations) env.flags.set(r.flagKey, (variations = new Map()));
    variations.set(r.variation, (variations.get(r.variation) ?? 0) + r.count);
  }

  private async write(rows: EvaluationCount[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Counts of an environment deleted since would break the batch (foreign key): they go with it.
      const ids = [...new Set(rows.map((r) => r.environmentId))];
      const live = new Set((await trx.selectFrom('environments').select('id').where('id', 'in', ids).execute()).map((e) => e.id));
      rows = rows.filter((r) => live.has(r.environmentId));
      // Chunks keep each statement well under both dialects' bound-parameter limits.
      for (let i = 0; i < rows.length; i += 200) {
        const chunk = rows.slice(i, i + 200);
        await trx
          .insertInto('evaluation_counts')
          .values(
            chunk.map((r) => ({
              environment_id: r.environmentId,
              flag_key: r.flagKey,
              variation: r.variation,
              day: r.day,
              organization_id: r.organizationId,
              project_id: r.projectId,
              count: r.count,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['environment_id', 'flag_key', 'variation', 'day']).doUpdateSet({
              count: sql<number>`evaluation_counts.count + excluded.count`,
            }),
          )
          .execute();
      }
    });
  }
}

function rowsOf(day: DayCounts): EvaluationCount[] {
  const rows: EvaluationCount[] = [];
  for (const env of day.environments.values()) {
    for (const [flagKey, variations] of env.flags) {
      for (const [variation, count] of variations) {
        rows.push({ ...env.scope, flagKey, variation, day: day.day, count });
      }
    }
  }
  return rows;
}
