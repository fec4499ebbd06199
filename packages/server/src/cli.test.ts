import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from './db/connect.js';
import { createEmptyTarget, testDialects } from './testing/test-database.js';

// The real artefact `npm start` runs: the built CLI, spawned as a child process.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'packages', 'server', 'dist', 'cli.js');

beforeAll(async () => {
  // The same build `npm start` runs (tsc -b, engine reference included). A type error elsewhere
  // still emits JavaScript; `npm run typecheck` is what reports it.
  await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/server'], { cwd: root }).catch(
    (error: { stdout?: string }) => console.warn(`build reported errors:\n${error.stdout ?? String(error)}`),
  );
  if (!existsSync(cli)) throw new Error(`${cli} was not built`);
}, 240_000);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A clean environment: nothing from the outer shell's configuration leaks in. */
function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));
  dirs.push(dataDir);
  return { PATH: process.env.PATH, HOME: process.env.HOME, SWITCHYARD_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', ...extra };
}

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Run {
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout!.on('data', (d: Buffer) => stdout.push(String(d)));
  child.stderr!.on('data', (d: Buffer) => stderr.push(String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exited };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const listeningUrl = (r: Run) => waitFor('the server to listen', () => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(r.stdout.join(''))?.[1]);

/** Opens a raw connection and sends a request whose body is only partly written: it stays in flight. */
function startPartialRequest(url: string) {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  let response = '';
  socket.on('data', (d) => (response += String(d)));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  const body = '{"name":"in flight"}';
  socket.write(`POST /api/v1/__in-flight HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 8)}`);
  return { finish: () => socket.write(body.slice(8)), response: () => response, closed };
}

/** Whether a new TCP connection to the server is accepted. */
function canConnect(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function dialectEnv(dialect: Dialect): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (dialect === 'sqlite') return { env: {}, drop: async () => {} };
  const { target, drop } = await createEmptyTarget('postgres');
  return { env: { DATABASE_URL: (target as { url: string }).url }, drop };
}

describe.each(testDialects())('switchyard CLI on %s', (dialect) => {
  it('serve answers, then on SIGTERM stops accepting, finishes the in-flight request and exits 0', async () => {
    const db = await dialectEnv(dialect);
    const server = run(['serve'], baseEnv(db.env));
    try {
      const url = await listeningUrl(server);
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { status: string }).status).toBe('healthy');
      expect((await fetch(`${url}/readyz`)).status).toBe(200);

      const inFlight = startPartialRequest(url);
      await waitFor('the request to reach the server', () => (server.stdout.join('').includes('__in-flight') ? true : undefined));
      server.child.kill('SIGTERM');
      await waitFor('shutdown to begin', () => (server.stdout.join('').includes('shutting down') ? true : undefined));
      // No longer accepting new connections…
      let refused = false;
      for (let i = 0; i < 100 && !refused; i++) {
        refused = !(await canConnect(url));
        if (!refused) await new Promise((r) => setTimeout(r, 50));
      }
      expect(refused).toBe(true);
      // …but the request already in flight is answered in full.
      inFlight.finish();
      await inFlight.closed;
      expect(inFlight.response()).toMatch(/^HTTP\/1\.1 404 /);
      expect(inFlight.response()).toMatch(/connection: close/i);
      expect(inFlight.response()).toContain('"code":"not_found"');

      expect(await server.exited).toBe(0);
      const log = server.stdout.join('');
      expect(log).toContain('"exitCode":0');
      expect(server.stderr.join('')).toBe('');
    } finally {
      server.child.kill('SIGKILL');
      await db.drop();
    }
  }, 60_000);

  it('serve loads the PostgreSQL, Redis, SMTP and Stripe clients only when they are configured', async () => {
    // Preloaded into the server: on exit it names which of the four packages Node loaded.
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-preload-'));
    dirs.push(dir);
    const preload = join(dir, 'report-loaded.cjs');
    writeFileSync(
      preload,
      `process.on('exit', () => {
        const names = new Set();
        for (const file of Object.keys(require.cache)) {
          const m = /[\\\\/]node_modules[\\\\/](stripe|pg|ioredis|nodemailer)[\\\\/]/.exec(file);
          if (m) names.add(m[1]);
        }
        process.stderr.write('loaded ' + JSON.stringify([...names].sort()) + '\\n');
      });`,
    );
    const loadedBy = async (extra: Record<string, string>) => {
      const db = await dialectEnv(dialect);
      const server = run(['serve'], baseEnv({ ...db.env, ...extra }), ['--require', preload]);
      try {
        const url = await listeningUrl(server);
        expect((await fetch(`${url}/health`)).status).toBe(200);
        server.child.kill('SIGTERM');
        expect(await server.exited).toBe(0);
        return JSON.parse(/loaded (\[.*\])/.exec(server.stderr.join(''))?.[1] ?? 'null') as string[] | null;
      } finally {
        server.child.kill('SIGKILL');
        await db.drop();
      }
    };
    const driver = dialect === 'postgres' ? ['pg'] : [];
    expect(await loadedBy({})).toEqual(driver);
    const configured = { REDIS_URL: 'redis://127.0.0.1:6379', SMTP_URL: 'smtp://127.0.0.1:2525', STRIPE_SECRET_KEY: 'sk_test_not_used' };
    expect(await loadedBy(configured)).toEqual(['ioredis', 'nodemailer', ...driver, 'stripe']);
  }, 60_000);

  it('migrate runs the migrations alone and exits; a second run has nothing to do', async () => {
    const db = await dialectEnv(dialect);
    try {
      const env = baseEnv(db.env);
      const first = run(['migrate'], env);
      expect(await first.exited).toBe(0);
      expect(first.stdout.join('')).toMatch(/applied 0001-identity-and-organizations/);
      if (dialect === 'sqlite') expect(existsSync(join(env.SWITCHYARD_DATA_DIR!, 'switchyard.db'))).toBe(true);
      const second = run(['migrate'], env);
      expect(await second.exited).toBe(0);
      expect(second.stdout.join('')).toMatch(/up to date/);
    } finally {
      await db.drop();
    }
  }, 60_000);
});

describe('switchyard CLI', () => {
  it('closes requests that outlast the shutdown timeout and exits 1', async () => {
    const server = run(['serve'], baseEnv({ SWITCHYARD_SHUTDOWN_TIMEOUT_SECONDS: '1' }));
    try {
      const url = await listeningUrl(server);
      const stuck = startPartialRequest(url);
      await waitFor('the request to reach the server', () => (server.stdout.join('').includes('__in-flight') ? true : undefined));
      const started = Date.now();
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(1);
      await stuck.closed;
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(server.stdout.join('')).toContain('did not finish in time');
    } finally {
      server.child.kill('SIGKILL');
    }
  }, 60_000);

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://localhost/x' }],
    ['SWITCHYARD_RATE_LIMIT_PER_MINUTE', { SWITCHYARD_RATE_LIMIT_PER_MINUTE: '0' }],
  ])('a bad %s stops serve with one line naming it and exit code 1', async (variable, env) => {
    const r = run(['serve'], baseEnv(env));
    expect(await r.exited).toBe(1);
    const stderr = r.stderr.join('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(`configuration error: ${variable}: `);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('a bad variable stops migrate the same way', async () => {
    const r = run(['migrate'], baseEnv({ LOG_LEVEL: 'loud' }));
    expect(await r.exited).toBe(1);
    expect(r.stderr.join('')).toMatch(/^switchyard: configuration error: LOG_LEVEL: .*\n$/);
  });

  it('--help prints usage and exits 0; an unknown command exits 2', async () => {
    const help = run(['--help'], baseEnv({}));
    expect(await help.exited).toBe(0);
    expect(help.stdout.join('')).toMatch(/Usage: switchyard <command>[\s\S]*serve[\s\S]*migrate/);
    const unknown = run(['launch'], baseEnv({}));
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr.join('')).toContain('unknown command "launch"');
  });
});
