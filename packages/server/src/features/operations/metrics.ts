import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus registry of one server instance, with the HTTP metrics every surface feeds. */
export interface ServerMetrics {
  /** What `/metrics` exposes; other parts of the server register their own metrics here. */
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Counts one answered request for `http_requests_total` (in memory; added to the counter at scrape). */
  countRequest(method: string, route: string, statusCode: number): void;
}

interface PendingCount {
  labels: { method: string; route: string; status_code: string };
  n: number;
}

/**
 * A fresh registry per app instance (never prom-client's global one), so two apps in one process
 * — as in the tests — never collide over metric names. Includes the default process metrics.
 */
export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status_code'] as const;
  // Counted per label set in a plain map and handed to prom-client when scraped: a map lookup per
  // request instead of prom-client's label hashing and validation.
  const pending = new Map<string, PendingCount>();
  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames,
    registers: [registry],
    collect() {
      for (const entry of pending.values()) {
        if (entry.n === 0) continue;
        this.inc(entry.labels, entry.n);
        entry.n = 0;
      }
    },
  });
  const countRequest = (method: string, route: string, statusCode: number) => {
    const key = `${method} ${statusCode} ${route}`;
    let entry = pending.get(key);
    if (entry === undefined) {
      entry = { labels: { method, route, status_code: String(statusCode) }, n: 0 };
      pending.set(key, entry);
    }
    entry.n += 1;
  };
  const httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method, route pattern and status code',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, httpRequestDuration, countRequest };
}
