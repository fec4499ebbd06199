import { Counter, Registry, collectDefaultMetrics, type MetricValueWithName } from 'prom-client';

/** Records one answered request: counted for `http_requests_total`, timed for `http_request_duration_seconds`. */
export type RequestRecorder = (statusCode: number, seconds: number) => void;

/** The Prometheus registry of one server instance, with the HTTP metrics every surface feeds. */
export interface ServerMetrics {
  /** What `/metrics` exposes; other parts of the server register their own metrics here. */
  registry: Registry;
  /** Records one answered request (in memory; handed to the registry when scraped). */
  recordRequest(method: string, route: string, statusCode: number, seconds: number): void;
  /** `recordRequest` for one method and route, with the label sets looked up by status alone. */
  requestRecorder(method: string, route: string): RequestRecorder;
}

const durationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One label set's requests since start: the count not yet handed to the counter, and the histogram. */
interface RequestSeries {
  labels: { method: string; route: string; status_code: string };
  uncounted: number;
  /** Observations per bucket (not cumulative); the last slot is above the largest bound. */
  buckets: number[];
  sum: number;
  count: number;
}

function bucketOf(seconds: number): number {
  let i = 0;
  while (i < durationBuckets.length && seconds > durationBuckets[i]!) i++;
  return i;
}

/**
 * A fresh registry per app instance (never prom-client's global one), so two apps in one process
 * — as in the tests — never collide over metric names. Includes the default process metrics.
 *
 * Every request is recorded into a plain series per label set, and prom-client sees the series
 * only when scraped: measured on the evaluate path, prom-client's per-call label validation and
 * hashing cost several times the rest of the bookkeeping. The duration histogram is exported in
 * the exact form prom-client's own Histogram gives (metrics.test.ts holds the two to it).
 */
export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status_code'] as const;
  const series = new Map<string, RequestSeries>();

  const seriesOf = (method: string, route: string, statusCode: number): RequestSeries => {
    const key = `${method} ${statusCode} ${route}`;
    let entry = series.get(key);
    if (entry === undefined) {
      entry = { labels: { method, route, status_code: String(statusCode) }, uncounted: 0, buckets: new Array<number>(durationBuckets.length + 1).fill(0), sum: 0, count: 0 };
      series.set(key, entry);
    }
    return entry;
  };
  const record = (entry: RequestSeries, seconds: number) => {
    entry.uncounted += 1;
    entry.count += 1;
    entry.sum += seconds;
    entry.buckets[bucketOf(seconds)]! += 1;
  };

  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames,
    registers: [registry],
    collect() {
      for (const entry of series.values()) {
        if (entry.uncounted === 0) continue;
        this.inc(entry.labels, entry.uncounted);
        entry.uncounted = 0;
      }
    },
  });
  const durationName = 'http_request_duration_seconds';
  const durationHelp = 'Time to answer HTTP requests, by method, route pattern and status code';
  // Registered as a metric of our own (prom-client's registry asks only for these members).
  registry.registerMetric({
    name: durationName,
    help: durationHelp,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => {
      const values: MetricValueWithName<string>[] = [];
      for (const entry of series.values()) {
        let cumulative = 0;
        durationBuckets.forEach((le, i) => {
          cumulative += entry.buckets[i]!;
          values.push({ labels: { le, ...entry.labels }, value: cumulative, metricName: `${durationName}_bucket` });
        });
        values.push({ labels: { le: '+Inf', ...entry.labels }, value: entry.count, metricName: `${durationName}_bucket` });
        values.push({ labels: entry.labels, value: entry.sum, metricName: `${durationName}_sum` });
        values.push({ labels: entry.labels, value: entry.count, metricName: `${durationName}_count` });
      }
      return { name: durationName, help: durationHelp, type: 'histogram', aggregator: 'sum', values };
    },
    reset: () => {
      for (const entry of series.values()) {
        entry.buckets.fill(0);
        entry.sum = 0;
        entry.count = 0;
      }
    },
  } as never);

  return {
    registry,
    recordRequest: (method, route, statusCode, seconds) => record(seriesOf(method, route, statusCode), seconds),
    requestRecorder: (method, route) => {
      const byStatus = new Map<number, RequestSeries>();
      return (statusCode, seconds) => {
        let entry = byStatus.get(statusCode);
        if (entry === undefined) byStatus.set(statusCode, (entry = seriesOf(method, route, statusCode)));
        record(entry, seconds);
      };
    },
  };
}
