import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createServerMetrics } from './metrics.js';

/** The lines of one metric family in an exposition text. */
function family(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}_`) || line.startsWith(`${name}{`) || line.endsWith(` ${name} histogram`) || line.endsWith(` ${name} counter`) || line.startsWith(`# HELP ${name} `));
}

describe('server request metrics', () => {
  // Durations on, between and beyond the bucket bounds, for three label sets through both ways in.
  const observations: Array<[string, string, number, number]> = [
    ['POST', '/api/v1/evaluate', 200, 0.0004],
    ['POST', '/api/v1/evaluate', 200, 0.001],
    ['POST', '/api/v1/evaluate', 200, 0.0011],
    ['POST', '/api/v1/evaluate', 429, 0.003],
    ['GET', '/healthz', 200, 0.25],
    ['GET', '/healthz', 200, 12],
    ['POST', '/api/v1/evaluate', 200, 0.07],
  ];

  it('exports http_request_duration_seconds and http_requests_total exactly as prom-client itself would', async () => {
    const metrics = createServerMetrics();
    const evaluate = metrics.requestRecorder('POST', '/api/v1/evaluate');
    for (const [method, route, status, seconds] of observations) {
      if (route === '/api/v1/evaluate') evaluate(status, seconds);
      else metrics.recordRequest(method, route, status, seconds);
    }

    const reference = new Registry();
    const labelNames = ['method', 'route', 'status_code'];
    const histogram = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by method, route pattern and status code',
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [reference],
    });
    const counter = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route pattern and status code', labelNames, registers: [reference] });
    for (const [method, route, status, seconds] of observations) {
      histogram.observe({ method, route, status_code: String(status) }, seconds);
      counter.inc({ method, route, status_code: String(status) });
    }

    const ours = await metrics.registry.metrics();
    const theirs = await reference.metrics();
    for (const name of ['http_request_duration_seconds', 'http_requests_total']) {
      expect(family(ours, name).sort()).toEqual(family(theirs, name).sort());
    }
    expect(ours).toContain('http_request_duration_seconds_bucket{le="0.001",method="POST",route="/api/v1/evaluate",status_code="200"} 2');
    expect(ours).toContain('http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/healthz",status_code="200"} 2');
    expect(ours).toContain('http_requests_total{method="POST",route="/api/v1/evaluate",status_code="200"} 4');
  });

  it('counts each request once across scrapes, and keeps the histogram cumulative', async () => {
    const metrics = createServerMetrics();
    metrics.recordRequest('GET', '/healthz', 200, 0.002);
    await metrics.registry.metrics();
    metrics.recordRequest('GET', '/healthz', 200, 0.002);
    const text = await metrics.registry.metrics();
    expect(text).toContain('http_requests_total{method="GET",route="/healthz",status_code="200"} 2');
    expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/healthz",status_code="200"} 2');
    expect(text).toContain('http_request_duration_seconds_sum{method="GET",route="/healthz",status_code="200"} 0.004');
  });
});
