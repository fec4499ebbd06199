import { readFile, writeFile } from 'node:fs/promises';
import { createServices } from './composition.js';
import { loadConfig } from './config.js';
import { openDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { systemActor, type Actor } from './domain/actor.js';
import { DomainError, ValidationError } from './domain/errors.js';

/** Help for `switchyard flagd`. */
export const flagdUsage = `Usage:
  switchyard flagd import FILE --project P --environment E [--organization O] [--dry-run]
  switchyard flagd export --project P --environment E [--organization O] [--out FILE]

Works on the configured database directly (DATABASE_URL or SWITCHYARD_DATA_DIR), as the system,
through the same services as POST/GET /api/v1/projects/{project}/environments/{environment}/flagd.
P is a project id (proj_123 or 123) or key; a key needs --organization (an id) unless the database
holds a single organisation. E is an environment id or key. FILE "-" reads standard input.
`;

interface Io {
  out(text: string): void;
  err(text: string): void;
}

interface Parsed {
  command: 'import' | 'export';
  file?: string;
  project: string;
  environment: string;
  organization?: string;
  dryRun: boolean;
  out?: string;
}

function parse(args: string[]): Parsed | string {
  const [command, ...rest] = args;
  if (command !== 'import' && command !== 'export') return `unknown flagd command ${command === undefined ? '(none)' : `"${command}"`}`;
  const options: Record<string, string> = {};
  const positional: string[] = [];
  let dryRun = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--dry-run') dryRun = true;
    else if (a === '--project' || a === '--environment' || a === '--organization' || a === '--out') {
      const v = rest[++i];
      if (v === undefined) return `${a} needs a value`;
      options[a.slice(2)] = v;
    } else if (a.startsWith('--')) return `unknown option "${a}"`;
    else positional.push(a);
  }
  if (!options['project']) return '--project is required';
  if (!options['environment']) return '--environment is required';
  if (command === 'import') {
    if (positional.length !== 1) return 'import needs exactly one FILE';
    if (options['out'] !== undefined) return '--out is for export';
  } else {
    if (positional.length > 0) return `unexpected argument "${positional[0]}"`;
    if (dryRun) return '--dry-run is for import';
  }
  return {
    command,
    ...(positional[0] !== undefined ? { file: positional[0] } : {}),
    project: options['project'],
    environment: options['environment'],
    ...(options['organization'] !== undefined ? { organization: options['organization'] } : {}),
    dryRun,
    ...(options['out'] !== undefined ? { out: options['out'] } : {}),
  };
}

async function readInput(file: string): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `switchyard flagd import|export`: resolves with the exit code (0 done, 1 refused or failed,
 * 2 usage). Writes go through `FlagdService` as the system actor — audited, and published on the
 * change bus (over PostgreSQL NOTIFY to running instances when DATABASE_URL is PostgreSQL).
 */
export async function flagdCommand(args: string[], io: Io): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(flagdUsage);
    return 0;
  }
  const parsed = parse(args);
  if (typeof parsed === 'string') {
    io.err(`switchyard flagd: ${parsed}\n\n${flagdUsage}`);
    return 2;
  }
  let document: unknown;
  if (parsed.command === 'import') {
    let text: string;
    try {
      text = await readInput(parsed.file!);
    } catch (e) {
      io.err(`switchyard flagd: cannot read ${parsed.file}: ${(e as Error).message}\n`);
      return 1;
    }
    try {
      document = JSON.parse(text);
    } catch (e) {
      io.err(`switchyard flagd: ${parsed.file} is not JSON: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const config = loadConfig();
  const database = openDatabase(config.database);
  const services = createServices(config, database);
  let relayStarted = false;
  try {
    await migrateToLatest(database.db);
    if (services.changeRelay) {
      await services.changeRelay.start(services.snapshots);
      relayStarted = true;
    }
    const actor = await actorFor(database.db, parsed);
    if (typeof actor === 'string') {
      io.err(`switchyard flagd: ${actor}\n`);
      return 2;
    }
    if (parsed.command === 'import') {
      const report = await services.flagd.import(actor, parsed.project, parsed.environment, document, { dryRun: parsed.dryRun });
      io.out(`${JSON.stringify(report, null, 2)}\n`);
      return 0;
    }
    const { document: exported, omitted } = await services.flagd.export(actor, parsed.project, parsed.environment);
    const text = `${JSON.stringify(exported, null, 2)}\n`;
    if (parsed.out !== undefined) await writeFile(parsed.out, text);
    else io.out(text);
    for (const [key, why] of Object.entries(omitted)) io.err(`switchyard flagd: left out ${key}: ${why}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ValidationError) {
      io.err(`switchyard flagd: ${e.message}\n`);
      for (const [path, message] of Object.entries(e.fields)) io.err(`  ${path}: ${message}\n`);
      return 1;
    }
    if (e instanceof DomainError) {
      io.err(`switchyard flagd: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    services.snapshots.close();
    if (relayStarted) await services.changeRelay?.stop();
    await database.close();
  }
}

/** The system actor, acting in the organisation that holds the project. */
async function actorFor(db: ReturnType<typeof openDatabase>['db'], parsed: Parsed): Promise<Actor | string> {
  const numeric = /^(proj_)?[1-9]\d{0,15}$/.test(parsed.project);
  if (parsed.organization !== undefined) {
    const id = Number(parsed.organization.replace(/^(tenant_|org_)/, ''));
    if (!Number.isSafeInteger(id) || id <= 0) return '--organization must be an organisation id';
    return { ...systemActor, organizationId: id };
  }
  if (numeric) return systemActor;
  const orgs = await db.selectFrom('organizations').select('id').limit(2).execute();
  if (orgs.length !== 1) return `--project "${parsed.project}" is a key: name the organisation with --organization`;
  return { ...systemActor, organizationId: orgs[0]!.id };
}
