/* global process, fetch, setTimeout, clearTimeout */
// What the benchmarks share: the three servers they compare (the bare
// node:http ceiling, bare Fastify, Switchyard on a fresh SQLite file with the benchmark's flag and
// key), each started pinned to core 0, and the load generator (wrk, else autocannon) on core 1.
// `wrap` puts a command in front of a server's node (the instruction count runs it under valgrind).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const pin = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
export const useWrk = process.env.BENCH_LOAD !== 'autocannon' && spawnSync('wrk', ['--version']).error === undefined;
const children = new Set();
const noWrap = (command, args) => [command, args];

function onCore(core, command, args, options) {
  const child = pin ? spawn('taskset', ['-c', String(core), command, ...args], options) : spawn(command, args, options);
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Kills every process this module started (on SIGINT, or when a benchmark ends). */
export function killAll() {
  for (const c of children) c.kill('SIGKILL');
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function waitFor(url, timeoutMs = 30_000) {
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

/**
 * One load run of `seconds` against `url` (the benchmark's flag, a new targeting key and attributes
 * per request), resolved with the generator's JSON line: requestsPerSecond, total, p50, p99 (ms),
 * non2xx, errors. `timeoutSeconds` is how long a response may take before wrk counts an error (wrk
 * only: load.mjs keeps autocannon's own timeout).
 */
export function load(url, { seconds, connections, flagKey, apiKey, timeoutSeconds = 2 }) {
  return new Promise((resolve, reject) => {
    const child = useWrk
      ? onCore(1, 'wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, `--timeout`, `${timeoutSeconds}s`, '-s', join(here, 'load.lua'), url], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, BENCH_FLAG_KEY: flagKey, BENCH_API_KEY: apiKey ?? '' },
        })
      : onCore(1, process.execPath, [join(here, 'load.mjs'), url, String(seconds), String(connections), flagKey, apiKey ?? ''], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1))) : reject(new Error(`load generator exited ${code}`))));
  });
}

/** Stops a server process: SIGTERM (it drains), SIGKILL if it has not exited within `graceMs`. */
export async function stopProcess(child, graceMs = 60_000) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * The environment a benchmarked Switchyard server runs with: on `port`, on a fresh SQLite file in
 * `dataDir`, per-key limits raised (a benchmark is one key hammering on purpose; the default limit
 * would answer 429s), then `overrides` (log level, a database URL, …).
 */
export function serverEnv(port, dataDir, overrides = {}) {
  return {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    SWITCHYARD_DATA_DIR: dataDir,
    DATABASE_URL: '',
    SWITCHYARD_RATE_LIMIT_PER_MINUTE: '1000000',
    SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE: '10000000',
    ...overrides,
  };
}

/** One JSON call to the API; throws on a non-2xx answer. */
export async function api(base, method, path, body, headers = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** `bare-server.mjs` (the ceiling) or `fastify-floor.mjs`, started and answering. */
export async function startCeiling(script = 'bare-server.mjs', wrap = noWrap) {
  const port = await freePort();
  const server = onCore(0, ...wrap(process.execPath, [join(here, script), String(port)]), { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => server.stdout.once('data', resolve));
  return { server, url: `http://127.0.0.1:${port}/`, apiKey: undefined, stop: () => stopProcess(server) };
}

/**
 * The built server on a fresh SQLite file, where a user signs up, creates a boolean flag with three
 * rules, enables it and creates a server key; checked with one evaluation before it is returned.
 */
export async function startSwitchyard(wrap = noWrap, startTimeoutMs = 30_000) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const cli = join(here, '..', 'dist', 'cli.js');
  const extra = process.env.BENCH_NODE_OPTIONS ? process.env.BENCH_NODE_OPTIONS.split(' ') : [];
  const server = onCore(0, ...wrap(process.execPath, [...extra, cli, 'serve']), {
    stdio: ['ignore', process.env.BENCH_SERVER_STDOUT ? openSync(process.env.BENCH_SERVER_STDOUT, 'w') : 'ignore', 'inherit'],
    cwd: dataDir,
    env: serverEnv(port, dataDir, { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' }),
  });
  const base = `http://127.0.0.1:${port}`;
  const cleanup = async () => {
    await stopProcess(server);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${base}/healthz`, startTimeoutMs);
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
