/* global process, fetch, setTimeout, clearTimeout */
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
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const warmup = Number(process.env.BENCH_WARMUP ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const pin = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const useWrk = process.env.BENCH_LOAD !== 'autocannon' && spawnSync('wrk', ['--version']).error === undefined;
const children = new Set();

function onCore(core, command, args, options) {
  const child = pin ? spawn('taskset', ['-c', String(core), command, ...args], options) : spawn(command, args, options);
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitFor(url, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

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
  return new Promise((resolve, reject) => {
    const child = useWrk
      ? onCore(1, 'wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', join(here, 'load.lua'), url], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, BENCH_FLAG_KEY: flagKey, BENCH_API_KEY: apiKey ?? '' },
        })
      : onCore(1, process.execPath, [join(here, 'load.mjs'), url, String(seconds), String(connections), flagKey, apiKey ?? ''], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1))) : reject(new Error(`load generator exited ${code}`))));
  });
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function api(base, method, path, body, headers = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function startCeiling(script = 'bare-server.mjs') {
  const port = await freePort();
  const server = onCore(0, process.execPath, [join(here, script), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => server.stdout.once('data', resolve));
  return { server, url: `http://127.0.0.1:${port}/`, apiKey: undefined, stop: () => stop(server) };
}

async function startSwitchyard() {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const cli = join(here, '..', 'dist', 'cli.js');
  const extra = process.env.BENCH_NODE_OPTIONS ? process.env.BENCH_NODE_OPTIONS.split(' ') : [];
  const server = onCore(0, process.execPath, [...extra, cli, 'serve'], {
    stdio: ['ignore', process.env.BENCH_SERVER_STDOUT ? openSync(process.env.BENCH_SERVER_STDOUT, 'w') : 'ignore', 'inherit'],
    cwd: dataDir,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      SWITCHYARD_DATA_DIR: dataDir,
      DATABASE_URL: '',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      // The load is one key hammering one endpoint on purpose; the default per-key limit would answer 429s.
      SWITCHYARD_RATE_LIMIT_PER_MINUTE: '1000000',
      SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE: '10000000',
    },
  });
  const base = `http://127.0.0.1:${port}`;
  const cleanup = async () => {
    await stop(server);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${base}/healthz`);
    const signup = await api(base, 'POST', '/api/v1/auth/signup', { email: 'bench@example.test', password: 'bench-password-1', name: 'Bench' });
    const auth = { authorization: `Bearer ${signup.data.accessToken}` };
    await api(base, 'POST', '/api/v1/projects/default/flags', { key: 'checkout', type: 'boolean', defaultValue: false }, auth);
    await api(base, 'POST', '/api/v1/projects/default/flags/checkout/environments/production/enable', undefined, auth);
    const rules = [
      { conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'enterprise' }], serve: 'on' },
      { conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@example.com' }], serve: 'on' },
      {
        conditions: [{ attribute: 'country', operator: 'IN', value: ['NL', 'DE'] }],
        serve: { rollout: { variations: [{ variation: 'on', weight: 50 }, { variation: 'off', weight: 50 }] } },
      },
    ];
    for (const rule of rules) await api(base, 'POST', '/api/v1/projects/default/rules', { flag: 'checkout', environment: 'production', ...rule }, auth);
    const key = await api(base, 'POST', '/api/v1/projects/default/api-keys', { name: 'bench', environment: 'production', scope: 'server' }, auth);
    const probe = await api(base, 'POST', '/api/v1/evaluate', { flagKey: 'checkout', context: { targetingKey: 'u', plan: 'enterprise' } }, { 'x-api-key': key.key });
    if (probe.value !== true || probe.kind !== 'RULE_MATCH') throw new Error(`unexpected evaluation: ${JSON.stringify(probe)}`);
    return { server, url: `${base}/api/v1/evaluate`, apiKey: key.key, stop: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
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
  for (const c of children) c.kill('SIGKILL');
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
  for (const c of children) c.kill('SIGKILL');
}
