import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse } from '../testing/sse-client.js';
import { createEmptyTarget, testDialects } from '../testing/test-database.js';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'testing', 'serve-from-source.mjs');

/** Starts `switchyard serve` (from source) on `databaseUrl`; resolves with its process and URL. */
function serve(databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', SWITCHYARD_REVISION_CHECK_SECONDS: '30' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const m = /listening (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${out}`)));
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : null }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The test: two server processes on one PostgreSQL database; a change through A reaches B. */
describe.skipIf(!testDialects().includes('postgres'))('two server processes on one PostgreSQL database', () => {
  let drop: (() => Promise<void>) | undefined;
  let a: { child: ChildProcess; url: string } | undefined;
  let b: { child: ChildProcess; url: string } | undefined;

  beforeAll(async () => {
    const empty = await createEmptyTarget('postgres');
    drop = empty.drop;
    if (empty.target.dialect !== 'postgres') throw new Error('unreachable');
    // One first, so the two do not race each other's migrations.
    a = await serve(empty.target.url);
    b = await serve(empty.target.url);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([stop(a?.child), stop(b?.child)]);
    await drop?.();
  }, 60_000);

  it('a flag change written through A reaches an SSE subscriber and an evaluation on B', async () => {
    const signup = await api(a!.url, 'POST', '/api/v1/auth/signup', { email: 'two@example.test', password: 'two-processes-1', name: 'Two' });
    expect(signup.status).toBe(201);
    const auth = { authorization: `Bearer ${signup.body!.data.accessToken}` };
    expect((await api(a!.url, 'POST', '/api/v1/projects/default/flags', { key: 'checkout', type: 'boolean', defaultValue: false }, auth)).status).toBe(200);
    const key = (await api(a!.url, 'POST', '/api/v1/projects/default/api-keys', { name: 'sdk', environment: 'production', scope: 'sdk' }, auth)).body!.key as string;
    // B hears of the key through LISTEN/NOTIFY.
    const knownAt = Date.now();
    while ((await api(b!.url, 'GET', '/api/v1/sdk/config', undefined, { 'x-api-key': key })).status !== 200) {
      if (Date.now() - knownAt > 5000) throw new Error('B never learnt of the key');
      await new Promise((r) => setTimeout(r, 20));
    }
    const stream = await openSse(`${b!.url}/api/v1/stream`, { 'x-api-key': key });
    try {
      expect((await stream.next()).event).toBe('put');
      const samples: number[] = [];
      for (const action of ['enable', 'disable', 'enable']) {
        const started = performance.now();
        expect((await api(a!.url, 'POST', `/api/v1/projects/default/flags/checkout/environments/production/${action}`, undefined, auth)).status).toBe(200);
        const patch = await stream.next((e) => e.event === 'patch', 5000);
        samples.push(performance.now() - started);
        expect(JSON.parse(patch.data).flag.environments.production.enabled).toBe(action === 'enable');
      }
      const evaluated = await api(b!.url, 'POST', '/api/v1/evaluate', { flagKey: 'checkout', context: { targetingKey: 'u' } }, { 'x-api-key': key });
      expect(evaluated.body).toMatchObject({ flagKey: 'checkout', enabled: true });
      console.info(`two processes: change through A on B's stream after ${samples.map((s) => s.toFixed(1)).join(', ')} ms`);
    } finally {
      stream.close();
    }
  });
});
