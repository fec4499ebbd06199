/**
 * What changed in a project's evaluable configuration. Published after the write has committed,
 * so a listener that reads the database sees the change.
 */
export interface ConfigChange {
  organizationId: number;
  projectId: number;
  /** The environments whose snapshot the change affects; `all` for project-wide things (a flag's variations, a segment). */
  environmentIds: readonly number[] | 'all';
  entity: 'project' | 'environment' | 'flag' | 'segment' | 'api_key';
  action: 'created' | 'updated' | 'deleted';
  /** The flag, segment or environment key, or the API key id; null when not applicable. */
  key: string | null;
  /** The user whose write it was, when a user's (so notifications skip them); absent or null otherwise. */
  actorUserId?: number | null;
  /**
   * True for a change another instance made, carried here by LISTEN/NOTIFY: rebuild caches from
   * it, but do not relay it again or act on it as a local write (it was already acted on there).
   */
  remote?: boolean;
}

/** Receives every change; awaited in subscription order before `publish` returns. */
export type ChangeListener = (change: ConfigChange) => Promise<void> | void;

/**
 * Carries configuration changes from the services that write them to whoever must react:
 * the snapshot cache first (so the next evaluation after a write sees it), then streams.
 * A later issue carries it between instances.
 */
export interface ChangeBus {
  /** Delivers `change` to every listener; resolves once all have handled it. */
  publish(change: ConfigChange): Promise<void>;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: ChangeListener): () => void;
}

/** The change bus within one process. A failing listener is reported and does not stop the others. */
export class InProcessChangeBus implements ChangeBus {
  private readonly listeners: ChangeListener[] = [];

  constructor(private readonly onListenerError: (error: unknown, change: ConfigChange) => void = () => {}) {}

  async publish(change: ConfigChange): Promise<void> {
    for (const listener of [...this.listeners]) {
      try {
        await listener(change);
      } catch (error) {
        this.onListenerError(error, change);
      }
    }
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
}
