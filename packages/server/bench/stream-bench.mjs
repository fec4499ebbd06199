/* global process, fetch, setTimeout, clearTimeout, performance, console, URL */
// `npm run bench:stream`: how long a flag change takes to reach every SDK stream, and what an open
// stream costs the server.
//
// 1. One instance: the built server on a fresh SQLite file. Through its API a user signs up,
//    creates a flag, and an sdk key. N subscribers (100, then 1,000) open GET /api/v1/stream; then
//    the flag is toggled CHANGES times through the API, and for each change the time from sending
//    the write until each subscriber has its `patch` is recorded.
// 2. Two instances: two server processes on one fresh PostgreSQL database (BENCH_POSTGRES_URL,
//    default the local server); subscribers on B, writes through A (LISTEN/NOTIFY in between).
// Prints p50/p99/max over every (subscriber, change) pair, and the server's live-heap growth per
// open stream (measured after a full collection; RSS is shown too but depends on GC timing).
// Build first (`npm run build`; the npm script does). Not part of the test suite.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { api, freePort, serverEnv, stopProcess, waitFor } from './servers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const sizes = (process.env.BENCH_SUBSCRIBERS ?? '100,1000').split(',').map(Number);
const changes = Number(process.env.BENCH_CHANGES ?? 10);
const pgAdminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const children = new Set();
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

async function startServer(env) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-stream-bench-'));
  const child = spawn(process.execPath, ['--expose-gc', join(here, 'gc-serve.mjs'), 'serve'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    cwd: dataDir,
    // 1,000 streams with one key open within a second: serverEnv's raised limits let them.
    env: serverEnv(port, dataDir, { LOG_LEVEL: 'warn', ...env }),
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/readyz`);
  return {
    base,
    pid: child.pid,
    async stop() {
      await stopProcess(child, 15_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Live heap after a full collection (gc-serve.mjs collects on SIGUSR2). */
async function heapBytes(base, pid) {
  process.kill(pid, 'SIGUSR2');
  await new Promise((r) => setTimeout(r, 300));
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

/** The server's own fan-out time (sum and count of switchyard_sse_fanout_seconds). */
async function fanoutTotals(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sum = /^switchyard_sse_fanout_seconds_sum (\S+)$/m.exec(text);
  const count = /^switchyard_sse_fanout_seconds_count (\S+)$/m.exec(text);
  return { sum: sum ? Number(sum[1]) : 0, count: count ? Number(count[1]) : 0 };
}

/** Opens one stream; resolves once its `put` arrived. `onPatch` is called for every `patch` event. */
function subscribe(base, key, onPatch) {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/api/v1/stream`, { agent, headers: { 'x-api-key': key, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream answered ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      let opened = false;
      res.on('data', (chunk) => {
        if (!opened && chunk.includes('event: put')) {
          opened = true;
          resolve({ close: () => req.destroy() });
        }
        if (chunk.includes('event: patch')) onPatch(performance.now());
      });
      res.on('error', () => {});
    });
    req.on('error', reject);
    req.end();
  });
}

async function setUp(base) {
  const email = `bench-${randomBytes(4).toString('hex')}@example.test`;
  const signup = await api(base, 'POST', '/api/v1/auth/signup', { email, password: 'bench-password-1', name: 'Bench' });
  const auth = { authorization: `Bearer ${signup.data.accessToken}` };
  await api(base, 'POST', '/api/v1/projects/default/flags', { key: 'checkout', type: 'boolean', defaultValue: false }, auth);
  const key = await api(base, 'POST', '/api/v1/projects/default/api-keys', { name: 'bench', environment: 'production', scope: 'sdk' }, auth);
  return { auth, key: key.key, enabled: false };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** N subscribers on `reader`, CHANGES toggles through `writer`; latencies and memory per stream. */
async function scenario(label, writer, reader, readerPid, setup, n) {
  const heapBefore = await heapBytes(reader.base, readerPid);
  const rssBefore = rssBytes(readerPid);
  let sentAt = 0;
  let seen = 0;
  const latencies = [];
  const spreads = [];
  const writes = [];
  let first = 0;
  let measuring = false;
  let settle = () => {};
  const onPatch = (at) => {
    if (seen === 0) first = at;
    if (measuring) {
      latencies.push(at - sentAt);
      spreads.push(at - first);
    }
    if (++seen === n) settle();
  };
  const streams = [];
  // Opened in batches, as a fleet of SDKs would connect.
  for (let i = 0; i < n; i += 100) {
    streams.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => subscribe(reader.base, setup.key, onPatch)))));
  }
  await new Promise((r) => setTimeout(r, 500));
  const heapAfter = await heapBytes(reader.base, readerPid);
  const rssAfter = rssBytes(readerPid);
  let fanoutBefore = { sum: 0, count: 0 };
  // Change 0 warms up (not measured).
  for (let c = 0; c <= changes; c++) {
    measuring = c > 0;
    if (c === 1) fanoutBefore = await fanoutTotals(reader.base);
    seen = 0;
    const done = new Promise((r) => (settle = r));
    setup.enabled = !setup.enabled;
    sentAt = performance.now();
    await api(writer.base, 'POST', `/api/v1/projects/default/flags/checkout/environments/production/${setup.enabled ? 'enable' : 'disable'}`, undefined, setup.auth);
    if (measuring) writes.push(performance.now() - sentAt);
    let timer;
    await Promise.race([done, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`${label}: only ${seen}/${n} subscribers got change ${c}`)), 10_000)))]);
    clearTimeout(timer);
    await new Promise((r) => setTimeout(r, 50));
  }
  const fanoutAfter = await fanoutTotals(reader.base);
  for (const s of streams) s.close();
  await new Promise((r) => setTimeout(r, 300));
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    label,
    subscribers: n,
    samples: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    writeP50: percentile([...writes].sort((x, y) => x - y), 50),
    serverFanoutMs: fanoutAfter.count > fanoutBefore.count ? ((fanoutAfter.sum - fanoutBefore.sum) * 1000) / (fanoutAfter.count - fanoutBefore.count) : NaN,
    spreadP99: percentile([...spreads].sort((x, y) => x - y), 99),
    rssPerStream: (rssAfter - rssBefore) / n,
    heapPerStream: (heapAfter - heapBefore) / n,
  };
}

function print(r) {
  const kb = (b) => `${(b / 1024).toFixed(1)} KiB`;
  console.log(
    `${r.label.padEnd(14)} N=${String(r.subscribers).padStart(5)}  p50 ${r.p50.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms  max ${r.max.toFixed(1).padStart(6)} ms  ` +
      `(write answered p50 ${r.writeP50.toFixed(1)} ms; first→last delivery p99 ${r.spreadP99.toFixed(1)} ms; server fan-out mean ${r.serverFanoutMs.toFixed(2)} ms)  memory/stream: heap ${kb(r.heapPerStream)} live after a full GC (RSS ${kb(r.rssPerStream)}, GC-dependent)  (${r.samples} deliveries)`,
  );
}

async function main() {
  const results = [];
  console.log(`stream benchmark: ${changes} changes per run; subscribers ${sizes.join(', ')}`);
  const one = await startServer({});
  try {
    const setup = await setUp(one.base);
    for (const n of sizes) {
      const r = await scenario('one instance', one, one, one.pid, setup, n);
      print(r);
      results.push(r);
    }
  } finally {
    await one.stop();
  }

  const name = `switchyard_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  let a;
  let b;
  try {
    a = await startServer({ DATABASE_URL: url.toString() });
    b = await startServer({ DATABASE_URL: url.toString() });
    const setup = await setUp(a.base);
    // B learns of the key through the relay.
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${b.base}/api/v1/sdk/config`, { headers: { 'x-api-key': setup.key } });
      if (res.ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const n of sizes) {
      const r = await scenario('two instances', a, b, b.pid, setup, n);
      print(r);
      results.push(r);
    }
  } finally {
    await Promise.all([a?.stop(), b?.stop()]);
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end();
  }
  const at1000 = results.filter((r) => r.subscribers === 1000);
  for (const r of at1000) {
    const goal = r.label === 'one instance' ? 50 : 200;
    console.log(`goal ${r.label} at 1,000: p99 < ${goal} ms — ${r.p99 < goal ? 'met' : 'NOT met'} (${r.p99.toFixed(1)} ms)`);
  }
}

process.on('SIGINT', () => {
  for (const c of children) c.kill('SIGKILL');
  process.exit(130);
});

main().catch((err) => {
  console.error(err);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
});
