/**
 * One readiness check: resolves `true` when its part of the server can serve traffic, or a
 * short reason (or `false`) when it cannot. Throwing counts as not ready, with the error's message.
 */
export type ReadinessCheck = () => boolean | string | Promise<boolean | string>;

/** The outcome of every check: `ok` or why not. */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, string>;
}

/**
 * What `/readyz` asks. Parts of the server that need time before they can serve (the database,
 * the evaluation snapshots) register a check; the server is ready when every check passes and it
 * is not shutting down. The registry also carries the shutdown signal, so long-lived work
 * (streams, listeners, flush loops) can stop when the server drains.
 */
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly shutdown = new AbortController();

  constructor(
    /** How long one check may take before it counts as failed. */
    private readonly timeoutMs = 2000,
  ) {}

  /** Adds (or replaces) the check called `name`; returns a function that removes it. */
  register(name: string, check: ReadinessCheck): () => void {
    this.checks.set(name, check);
    return () => {
      if (this.checks.get(name) === check) this.checks.delete(name);
    };
  }

  /** Aborted when the server begins shutting down; listen to it to stop long-lived work. */
  get shutdownSignal(): AbortSignal {
    return this.shutdown.signal;
  }

  /** True once shutdown has begun. */
  get shuttingDown(): boolean {
    return this.shutdown.signal.aborted;
  }

  /** Marks the server as draining: not ready from now on. Idempotent. */
  beginShutdown(): void {
    if (!this.shutdown.signal.aborted) this.shutdown.abort(new Error('server shutting down'));
  }

  /** Runs every check concurrently, each bounded by the timeout. */
  async evaluate(): Promise<ReadinessReport> {
    const entries = [...this.checks.entries()];
    const results = await Promise.all(entries.map(async ([name, check]) => [name, await this.run(check)] as const));
    const checks: Record<string, string> = {};
    let ready = !this.shuttingDown;
    if (this.shuttingDown) checks.shutdown = 'shutting down';
    for (const [name, result] of results) {
      checks[name] = result === true ? 'ok' : result;
      if (result !== true) ready = false;
    }
    return { ready, checks };
  }

  private async run(check: ReadinessCheck): Promise<true | string> {
    const result = await this.settle(check);
    return result === false ? 'not ready' : result;
  }

  private async settle(check: ReadinessCheck): Promise<boolean | string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${this.timeoutMs} ms`), this.timeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(check), timeout]);
    } catch (error) {
      return error instanceof Error ? error.message || error.name : String(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
