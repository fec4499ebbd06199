#!/usr/bin/env node
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { startServer } from './server.js';
import { serverVersion } from './version.js';
import { flagdCommand } from './cli-flagd.js';

const usage = `Usage: switchyard <command>

Commands:
  serve      Run migrations, then start the server (PORT, default 8080)
  migrate    Run database migrations and exit
  flagd      Import or export a flagd document (switchyard flagd --help)
  help       Show this help

Options:
  -h, --help       Show this help
  -v, --version    Print the version

Configuration is read from environment variables (PORT, HOST, SWITCHYARD_DATA_DIR,
DATABASE_URL, LOG_LEVEL, ...); see the README for the full list.
`;

async function migrate(): Promise<number> {
  const config = loadConfig();
  const database = openDatabase(config.database);
  try {
    const applied = await migrateToLatest(database.db);
    const where = config.database.dialect === 'sqlite' ? config.database.file : 'PostgreSQL';
    if (applied.length === 0) process.stdout.write(`switchyard: ${where} is up to date\n`);
    for (const name of applied) process.stdout.write(`switchyard: applied ${name}\n`);
    return 0;
  } finally {
    await database.close();
  }
}

async function serve(): Promise<void> {
  const config = loadConfig();
  await startServer(config);
}

/** Runs the CLI; resolves with an exit code, or not at all while serving. */
async function main(argv: string[]): Promise<number | null> {
  const [command, ...rest] = argv;
  if (command === 'flagd') {
    return flagdCommand(rest, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) });
  }
  if (command === undefined || command === 'help' || command === '-h' || command === '--help' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(usage);
    return command === undefined ? 2 : 0;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${serverVersion}\n`);
    return 0;
  }
  if (rest.length > 0) {
    process.stderr.write(`switchyard: unexpected argument "${rest[0]}"\n\n${usage}`);
    return 2;
  }
  if (command === 'migrate') return migrate();
  if (command === 'serve') {
    await serve();
    return null;
  }
  process.stderr.write(`switchyard: unknown command "${command}"\n\n${usage}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== null) process.exitCode = code;
  },
  (error: unknown) => {
    // One line, no stack: the operator needs to know what to fix, not where we were.
    if (error instanceof ConfigError) {
      process.stderr.write(`switchyard: configuration error: ${error.message}\n`);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`switchyard: failed to start: ${message.split('\n')[0]}\n`);
      if (process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace') console.error(error);
    }
    process.exit(1);
  },
);
