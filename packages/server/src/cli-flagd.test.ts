import { evaluate } from '@switchyard/engine';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import type { Dialect } from './db/connect.js';
import { signUp } from './testing/auth.js';
import { createEmptyTarget, testDialects } from './testing/test-database.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'packages', 'server', 'dist', 'cli.js');

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/server'], { cwd: root }).catch(
    (error: { stdout?: string }) => console.warn(`build reported errors:\n${error.stdout ?? String(error)}`),
  );
  if (!existsSync(cli)) throw new Error(`${cli} was not built`);
}, 240_000);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const document = {
  flags: {
    banner: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', targeting: { if: [{ '==': [{ var: 'plan' }, 'pro'] }, 'on', null] } },
    copy: { state: 'DISABLED', variants: { a: 'A' }, defaultVariant: 'a' },
  },
};

describe.each(testDialects())('switchyard flagd CLI on %s', (dialect: Dialect) => {
  let env: NodeJS.ProcessEnv;
  let drop: () => Promise<void> = async () => {};
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-flagd-cli-'));
    dirs.push(dir);
    const extra: Record<string, string> = {};
    if (dialect === 'postgres') {
      const t = await createEmptyTarget('postgres');
      extra.DATABASE_URL = (t.target as { url: string }).url;
      drop = t.drop;
    }
    env = { PATH: process.env.PATH, HOME: process.env.HOME, SWITCHYARD_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent', ...extra };
    // One organisation with its default project (production, staging), made through the API.
    const app = await buildApp(loadConfig(env as Record<string, string>), { logger: false });
    await signUp(app);
    await app.close();
  }, 60_000);
  afterAll(async () => drop());

  it('imports (dry run first), then exports; the server evaluates what was imported', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, JSON.stringify(document));

    const dry = await runCli(['flagd', 'import', file, '--project', 'default', '--environment', 'production', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, summary: { created: 2, replaced: 0, unchanged: 0 } });

    const real = await runCli(['flagd', 'import', file, '--project', 'default', '--environment', 'production'], env);
    expect(real.code, real.stderr).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, flags: [{ key: 'banner', action: 'created' }, { key: 'copy', action: 'created' }] });
    const again = await runCli(['flagd', 'import', file, '--project', 'default', '--environment', 'production'], env);
    expect(JSON.parse(again.stdout).summary).toEqual({ created: 0, replaced: 0, unchanged: 2 });

    const out = join(dir, 'exported.json');
    const exported = await runCli(['flagd', 'export', '--project', 'default', '--environment', 'production', '--out', out], env);
    expect(exported.code, exported.stderr).toBe(0);
    const written = JSON.parse(readFileSync(out, 'utf8'));
    expect(written.flags.banner).toEqual(document.flags.banner);
    expect(written.flags.copy).toEqual(document.flags.copy);
    const toStdout = await runCli(['flagd', 'export', '--project', 'default', '--environment', 'production'], env);
    expect(JSON.parse(toStdout.stdout)).toEqual(written);

    // What the CLI wrote is what a server built on the same database serves, audited as the system.
    const app = await buildApp(loadConfig(env as Record<string, string>), { logger: false });
    try {
      const audit = await app.services.database.db.selectFrom('audit_events').select(['action', 'actor_type']).where('action', '=', 'flag.flagd_created').execute();
      expect(audit).toHaveLength(2);
      expect(audit.every((a) => a.actor_type === 'system')).toBe(true);
      // The server serves the imported flag from its snapshot, as imported.
      const org = await app.services.database.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow();
      const project = await app.services.database.db.selectFrom('projects').select('id').where('organization_id', '=', org.id).where('key', '=', 'default').executeTakeFirstOrThrow();
      const snap = app.services.snapshots.forProject(project.id).find((e) => e.environmentKey === 'production')!;
      expect(snap.config.flags['banner']?.environments['production']).toMatchObject({ enabled: true, defaultVariation: 'off', targeting: document.flags.banner.targeting });
      expect(snap.config.flags['copy']?.environments['production']).toMatchObject({ enabled: false, offVariation: null });
      expect(evaluate(snap.snapshot, 'banner', { plan: 'pro' })).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
      expect(evaluate(snap.snapshot, 'copy', {})).toMatchObject({ value: undefined, reason: 'DISABLED' });
    } finally {
      await app.close();
    }
  }, 120_000);

  it('refuses an invalid document with its paths (exit 1) and bad usage (exit 2)', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ flags: { broken: { state: 'MAYBE', variants: { a: 1 }, defaultVariant: 'b' } } }));
    const bad = await runCli(['flagd', 'import', file, '--project', 'default', '--environment', 'production'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('flags.broken.state');
    expect(bad.stderr).toContain('flags.broken.defaultVariant');
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{');
    expect((await runCli(['flagd', 'import', notJson, '--project', 'default', '--environment', 'production'], env)).code).toBe(1);
    const missing = await runCli(['flagd', 'export', '--project', 'default', '--environment', 'nowhere'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not found');
    const usage = await runCli(['flagd', 'import', '--project', 'default'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Usage');
  }, 60_000);
});
