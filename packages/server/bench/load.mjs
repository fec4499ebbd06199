/* global process */
// One autocannon run in its own process (so the load generator never competes with the server
// inside one event loop): POST url with a JSON body whose targeting key and attributes vary per
// request. Prints autocannon's result as one JSON line.
import autocannon from 'autocannon';

const [url, duration, connections, flagKey, apiKey] = process.argv.slice(2);
const plans = ['free', 'pro', 'enterprise'];
const countries = ['NL', 'DE', 'US', 'FR', 'JP'];
let n = 0;

const result = await autocannon({
  url,
  method: 'POST',
  duration: Number(duration),
  connections: Number(connections),
  pipelining: 1,
  headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
  requests: [
    {
      setupRequest: (req) => {
        n++;
        const context = { targetingKey: `user-${n}`, plan: plans[n % 3], country: countries[n % 5], email: `u${n}@${n % 4 === 0 ? 'example.com' : 'mail.test'}` };
        return { ...req, body: JSON.stringify({ flagKey, context }) };
      },
    },
  ],
});
process.stdout.write(`${JSON.stringify({
  requestsPerSecond: result.requests.average,
  total: result.requests.total,
  p50: result.latency.p50,
  p99: result.latency.p99,
  max: result.latency.max,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
})}\n`);
