/* global process */
// `npm run bench:http`: the evaluate endpoint against the ceiling of any Node HTTP server here.
//
// 1. A bare node:http server answering a JSON POST is loaded (the ceiling).
// 2. The built Switchyard server is started on a fresh SQLite file; through its API a user signs
//    up, creates a boolean flag with three rules, enables it and creates a server API key.
// 3. POST /api/v1/evaluate (that one flag, a new targeting key and attributes per request) is
//    loaded the same way.
// Servers run pinned to core 0 and the load generator (its own process) to core 1 when `taskset`
// exists. The load generator is wrk (`load.lua`) when it is on PATH (Debian: `apt-get install wrk`),
// else autocannon (`load.mjs`); autocannon tops out near 14,000 req/s on one core here, below what
// node:http serves, so with it the ratio measures the client, not the servers (the script says so).
// Prints requests/s, p50/p99 latency and the ratio to the ceiling. Build first (`npm run build`).
import { readFileSync } from 'node:fs';
import { killAll, load as loadRun, pin, startCeiling, startSwitchyard, useWrk } from './servers.mjs';

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const warmup = Number(process.env.BENCH_WARMUP ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

/** CPU seconds (user + system) a process has used so far, from /proc; null where there is none. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Loads `url` and adds the server's CPU time per request (less sensitive to a busy machine than req/s). */
async function measured(server, url, flagKey, apiKey) {
  const before = cpuSeconds(server.pid);
  const result = await load(url, duration, flagKey, apiKey);
  const after = cpuSeconds(server.pid);
  result.cpuMicrosPerRequest = before === null || after === null ? null : ((after - before) * 1e6) / result.total;
  // How busy the server's core was: below ~90% the load generator, not the server, set the pace.
  result.serverCoreShare = before === null || after === null ? null : (after - before) / duration;
  return result;
}

function load(url, seconds, flagKey, apiKey) {
  return loadRun(url, { seconds, connections, flagKey, apiKey });
}

function median(results) {
  const pick = (f) => {
    const v = results.map(f).filter((x) => x !== null).sort((a, b) => a - b);
    return v.length === 0 ? null : v[Math.floor((v.length - 1) / 2)];
  };
  return {
    requestsPerSecond: pick((r) => r.requestsPerSecond),
    p50: pick((r) => r.p50),
    p99: pick((r) => r.p99),
    cpuMicrosPerRequest: pick((r) => r.cpuMicrosPerRequest),
    serverCoreShare: pick((r) => r.serverCoreShare),
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
  };
}

function line(name, r) {
  const cpu = r.cpuMicrosPerRequest === null ? 'n/a' : `${r.cpuMicrosPerRequest.toFixed(0)} µs`;
  const busy = r.serverCoreShare === null ? 'n/a' : `${(r.serverCoreShare * 100).toFixed(0)}%`;
  return `${name.padEnd(34)} ${r.requestsPerSecond.toFixed(0).padStart(8)} req/s   p50 ${r.p50.toFixed(1).padStart(5)} ms   p99 ${r.p99.toFixed(1).padStart(5)} ms   server CPU/request ${cpu.padStart(7)}   server core busy ${busy.padStart(4)}   non-2xx ${r.non2xx}   errors ${r.errors}`;
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

try {
  process.stdout.write(
    `${rounds} alternating rounds of ${duration} s each after ${warmup} s warm-up, ${connections} connections, load by ${useWrk ? 'wrk' : 'autocannon'}${pin ? ', servers on core 0, load on core 1' : ' (taskset not found: not pinned)'}\n`,
  );
  // BENCH_ONLY=evaluate loads only Switchyard (for profiling and quick comparisons; no ratio).
  const only = process.env.BENCH_ONLY === 'evaluate';
  const targets = [
    ...(only ? [] : [
      { name: 'node:http JSON POST (ceiling)', ...(await startCeiling()), runs: [] },
      { name: 'bare Fastify JSON POST', ...(await startCeiling('fastify-floor.mjs')), runs: [] },
    ]),
    { name: 'POST /api/v1/evaluate (3 rules)', ...(await startSwitchyard()), runs: [] },
  ];
  try {
    for (const t of targets) await load(t.url, warmup, 'checkout', t.apiKey);
    // Alternating rounds, so a busy spell on a shared machine hits every side alike.
    for (let i = 0; i < rounds; i++) {
      for (const t of targets) {
        const r = await measured(t.server, t.url, 'checkout', t.apiKey);
        process.stdout.write(`  round ${i + 1} ${line(t.name, r)}\n`);
        t.runs.push(r);
      }
    }
  } finally {
    for (const t of targets) await t.stop();
  }
  process.stdout.write('medians:\n');
  for (const t of targets) process.stdout.write(`${line(t.name, median(t.runs))}\n`);
  const switchyard = median(targets.at(-1).runs);
  if (only) process.exit(switchyard.non2xx > 0 || switchyard.errors > 0 ? 1 : 0);
  const ceiling = median(targets[0].runs);
  const ratio = switchyard.requestsPerSecond / ceiling.requestsPerSecond;
  process.stdout.write(`ratio to ceiling: ${(ratio * 100).toFixed(1)}%   (goal ≥ 60%, p99 < 10 ms)\n`);
  // The host has slow spells that can cover one server's run and not the next; each round's ratio
  // (its servers measured back to back) is the fairer figure, and its median the one to quote.
  const perRound = targets[0].runs.map((c, i) => targets.at(-1).runs[i].requestsPerSecond / c.requestsPerSecond);
  const middle = [...perRound].sort((a, b) => a - b)[Math.floor(perRound.length / 2)];
  process.stdout.write(`ratio per round: ${perRound.map((r) => `${(r * 100).toFixed(1)}%`).join(', ')}   median ${(middle * 100).toFixed(1)}%\n`);
  if (ceiling.serverCoreShare !== null && ceiling.serverCoreShare < 0.9) {
    process.stdout.write('warning: the ceiling server was not saturated, so the load generator set the pace and the req/s ratio is not meaningful (install wrk)\n');
  }
  if (ceiling.cpuMicrosPerRequest && switchyard.cpuMicrosPerRequest) {
    process.stdout.write(`CPU-time ratio (ceiling µs / evaluate µs per request): ${((ceiling.cpuMicrosPerRequest / switchyard.cpuMicrosPerRequest) * 100).toFixed(1)}%\n`);
  }
  if (switchyard.non2xx > 0 || switchyard.errors > 0) {
    process.stdout.write('warning: the evaluate run had failed responses; the figures are not valid\n');
    process.exitCode = 1;
  }
} finally {
  killAll();
}
