import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { buildApp } from './app.js';
import type { Config } from './config.js';

/** Options for {@link startServer}; the defaults are what `switchyard serve` wants. */
export interface StartOptions {
  /** Install SIGTERM/SIGINT handlers that shut down gracefully (default true). */
  handleSignals?: boolean;
  /** Called with the exit code once shutdown has finished (default `process.exit`). */
  exit?: (code: number) => void;
  /** Log destination instead of stdout. */
  logStream?: DestinationStream;
}

/** A listening server. */
export interface RunningServer {
  app: FastifyInstance;
  /** The address it listens on, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /**
   * Drains and stops: no new connections; in-flight requests finish (up to the configured
   * timeout, after which their connections are closed); `preClose` then `onClose` hooks run;
   * the database is closed. Resolves with the exit code: 0 when clean, 1 when forced or failed.
   * Calling it again returns the same promise.
   */
  shutdown(reason?: string): Promise<number>;
}

/**
 * Builds the app, listens on `config.host:config.port` and, unless told otherwise, shuts down
 * gracefully on SIGTERM/SIGINT and then exits. A second signal while draining exits at once.
 *
 * Long-lived responses (SSE streams) hook into shutdown with an app `preClose` hook or the
 * `services.readiness.shutdownSignal`: both fire before the server waits for in-flight requests,
 * so streams can end themselves (with a `retry:` hint) instead of holding the drain open.
 */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const app = await buildApp(config, options.logStream ? { logStream: options.logStream } : {});
  const url = await app.listen({ host: config.host, port: config.port });
  const exit = options.exit ?? ((code: number) => process.exit(code));

  let closing: Promise<number> | null = null;
  const shutdown = (reason = 'shutdown requested'): Promise<number> => {
    closing ??= drain(app, config.shutdownTimeoutSeconds * 1000, reason);
    return closing;
  };

  if (options.handleSignals ?? true) {
    const onSignal = (signal: NodeJS.Signals) => {
      if (closing) {
        app.log.warn({ signal }, 'second signal while shutting down; exiting now');
        exit(1);
        return;
      }
      void shutdown(signal).then(exit);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // Not an onClose hook: hooks cannot be added once listening.
    app.server.once('close', () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
  }
  return { app, url, shutdown };
}

async function drain(app: FastifyInstance, timeoutMs: number, reason: string): Promise<number> {
  app.log.info({ reason, timeoutMs }, 'shutting down: draining in-flight requests');
  const started = Date.now();
  const closed = app.close().then(
    () => 0,
    (error: unknown) => {
      app.log.error({ err: error }, 'error while shutting down');
      return 1;
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  let code = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (code === 'timeout') {
    app.log.warn({ timeoutMs }, 'in-flight requests did not finish in time; closing their connections');
    // Ends the stragglers, which lets server.close() — and with it the onClose hooks — complete.
    app.server.closeAllConnections();
    await closed;
    code = 1;
  }
  app.log.info({ durationMs: Date.now() - started, exitCode: code }, 'shut down');
  return code;
}
