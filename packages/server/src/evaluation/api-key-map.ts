import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Actor } from '../domain/actor.js';
import { hashApiKey, type ApiKeyScope } from '../features/api-keys/api-key-format.js';
import type { ApiKey, ApiKeyStore } from '../features/api-keys/api-key-store.js';
import type { ChangeBus, ConfigChange } from './change-bus.js';

/**
 * One API key as the hot path knows it. Entries are long-lived and updated in place (a revoked
 * key's entry gets `revoked = true`), so a holder — an open stream — can check its key again
 * without a lookup.
 */
export interface ApiKeyIdentity {
  readonly keyId: number;
  readonly organizationId: number;
  readonly projectId: number;
  readonly environmentId: number;
  readonly scope: ApiKeyScope;
  /** Epoch milliseconds after which the key is refused; null for a key that does not expire. */
  readonly expiresAtMs: number | null;
  /** Set the moment the key is revoked (or deleted with its environment or project). */
  revoked: boolean;
  /** The actor every request with this key gets: kind `api_key`, credentialId = key id. Shared, frozen. */
  readonly actor: Actor;
  /** @internal SHA-256 (hex) of the secret. */
  readonly hash: string;
  /** @internal Last use not yet written to the database, epoch milliseconds; 0 when none. */
  pendingUseMs: number;
}

/** Why a presented key was not accepted. */
export type ApiKeyRejection = 'invalid' | 'revoked' | 'expired';

/** Called after an entry is added, replaced or revoked (streams close on `revoked`). */
export type ApiKeyMapListener = (identity: ApiKeyIdentity) => void;

/** Compares two equal-length hex digests in time independent of where they differ. */
function sameHash(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function identityOf(k: ApiKey): ApiKeyIdentity {
  const actor: Actor = Object.freeze({
    kind: 'api_key',
    userId: null,
    credentialId: k.id,
    organizationId: k.organizationId,
    role: null,
    platformRole: null,
    // An API key evaluates (server, sdk) or streams; it holds no management permission at all.
    scopes: Object.freeze(k.scope === 'stream' ? [] : ['flags:evaluate']),
    sessionId: null,
  });
  return {
    keyId: k.id,
    organizationId: k.organizationId,
    projectId: k.projectId,
    environmentId: k.environmentId,
    scope: k.scope,
    expiresAtMs: k.expiresAt === null ? null : Date.parse(k.expiresAt),
    revoked: k.revokedAt !== null,
    actor,
    hash: k.keyHash,
    pendingUseMs: 0,
  };
}

/** Most secrets whose hash `resolve` remembers (cleared whole when full). */
const recentHashLimit = 10_000;

/**
 * Every API key in memory, keyed by the SHA-256 of its secret: identifying a request with a key
 * costs one hash and one map lookup, never a query. Loaded at start; the API-key service's
 * changes (published on the change bus after commit) update it before the write's response is
 * sent, so a revocation takes effect on the very next request. `lastUsedAt` is recorded in memory
 * and written in batches (`flushLastUsed`).
 */
export class ApiKeyMap {
  private readonly byHash = new Map<string, ApiKeyIdentity>();
  private readonly byId = new Map<number, ApiKeyIdentity>();
  /**
   * secret → its SHA-256, for keys presented recently: SDKs send the same key on every request,
   * and hashing it each time was the largest cost of identifying one. Holds nothing the process
   * does not already see in every request's headers; revocation and expiry are still read from
   * the key's entry on every call.
   */
  private readonly recentHashes = new Map<string, string>();
  private readonly used = new Set<ApiKeyIdentity>();
  private readonly listeners: ApiKeyMapListener[] = [];
  private loaded = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: ApiKeyStore,
    changes: ChangeBus,
  ) {
    changes.subscribe((change) => this.onChange(change));
  }

  /** True once `load` has finished. */
  get ready(): boolean {
    return this.loaded;
  }

  /** How many keys are held (revoked ones included). */
  get size(): number {
    return this.byId.size;
  }

  /** Loads every key from the database, replacing what is held. */
  async load(): Promise<void> {
    const keys = await this.store.listAll(this.db);
    this.byHash.clear();
    this.byId.clear();
    for (const k of keys) this.put(identityOf(k), false);
    this.loaded = true;
  }

  /**
   * The key a presented secret names, or why it is refused. `now` is epoch milliseconds.
   * The hash lookup reveals nothing about the secret; the stored hash is still confirmed with a
   * constant-time comparison, so no code path compares secret-derived bytes early-exit.
   */
  resolve(secret: string, now: number = Date.now()): ApiKeyIdentity | ApiKeyRejection {
    let hash = this.recentHashes.get(secret);
    if (hash === undefined) {
      hash = hashApiKey(secret);
      // Only secrets of known keys are remembered, so guesses cannot fill the cache.
      if (this.byHash.has(hash)) {
        if (this.recentHashes.size >= recentHashLimit) this.recentHashes.clear();
        this.recentHashes.set(secret, hash);
      }
    }
    const identity = this.byHash.get(hash);
    if (identity === undefined) return 'invalid';
    if (!sameHash(identity.hash, hash)) return 'invalid';
    if (identity.revoked) return 'revoked';
    if (identity.expiresAtMs !== null && now >= identity.expiresAtMs) return 'expired';
    return identity;
  }

  /** The entry for a key id (revoked or expired ones too), or undefined. */
  get(keyId: number): ApiKeyIdentity | undefined {
    return this.byId.get(keyId);
  }

  /** True when the key is known, not revoked and not expired at `now`. */
  usable(identity: ApiKeyIdentity, now: number = Date.now()): boolean {
    return !identity.revoked && (identity.expiresAtMs === null || now < identity.expiresAtMs);
  }

  /** Notes a use of the key; written to `last_used_at` by the next `flushLastUsed`. */
  markUsed(identity: ApiKeyIdentity, now: number = Date.now()): void {
    if (identity.pendingUseMs === 0) this.used.add(identity);
    identity.pendingUseMs = now;
  }

  /** Writes the uses noted since the last flush; a failed write keeps them for the next one. */
  async flushLastUsed(): Promise<number> {
    if (this.used.size === 0) return 0;
    const batch = [...this.used].map((i) => ({ identity: i, at: i.pendingUseMs }));
    for (const { identity } of batch) {
      identity.pendingUseMs = 0;
      this.used.delete(identity);
    }
    try {
      await this.store.touchLastUsed(this.db, batch.map((b) => ({ id: b.identity.keyId, at: new Date(b.at).toISOString() })));
    } catch (error) {
      for (const { identity, at } of batch) {
        if (identity.pendingUseMs === 0) this.markUsed(identity, at);
      }
      throw error;
    }
    return batch.length;
  }

  /** Flushes `lastUsedAt` every `intervalMs` until `stop` (the timer does not keep the process alive). */
  start(intervalMs: number, onError: (error: unknown) => void = () => {}): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.flushLastUsed().catch(onError);
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes the uses still pending. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flushLastUsed();
  }

  /** Adds a listener for added, replaced and revoked entries; returns the function that removes it. */
  subscribe(listener: ApiKeyMapListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Re-reads one key from the database (after it was created or revoked anywhere). */
  async reloadKey(keyId: number): Promise<void> {
    const k = await this.store.findById(this.db, keyId);
    if (k) this.put(identityOf(k), true);
    else this.drop(keyId);
  }

  /** Re-reads a project's keys: those gone from the database (with their environment) are dropped. */
  async reloadProject(projectId: number): Promise<void> {
    const keys = await this.store.listAllInProject(this.db, projectId);
    const present = new Set(keys.map((k) => k.id));
    for (const identity of [...this.byId.values()]) {
      if (identity.projectId === projectId && !present.has(identity.keyId)) this.drop(identity.keyId);
    }
    for (const k of keys) this.put(identityOf(k), true);
  }

  private async onChange(change: ConfigChange): Promise<void> {
    if (change.entity === 'api_key') {
      const id = Number(change.key);
      if (Number.isSafeInteger(id)) await this.reloadKey(id);
      else await this.reloadProject(change.projectId);
    } else if (change.action === 'deleted' && (change.entity === 'environment' || change.entity === 'project')) {
      await this.reloadProject(change.projectId);
    }
  }

  private put(identity: ApiKeyIdentity, notify: boolean): void {
    const previous = this.byId.get(identity.keyId);
    if (previous) {
      // A key never changes after creation except to be revoked; keep the held entry (streams
      // hold it) and carry the revocation onto it.
      if (identity.revoked && !previous.revoked) {
        previous.revoked = true;
        if (notify) this.emit(previous);
      }
      return;
    }
    this.byId.set(identity.keyId, identity);
    this.byHash.set(identity.hash, identity);
    if (notify) this.emit(identity);
  }

  private drop(keyId: number): void {
    const identity = this.byId.get(keyId);
    if (!identity) return;
    this.byId.delete(keyId);
    this.byHash.delete(identity.hash);
    this.used.delete(identity);
    if (!identity.revoked) {
      identity.revoked = true;
      this.emit(identity);
    }
  }

  private emit(identity: ApiKeyIdentity): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(identity);
      } catch {
        // A listener's failure must not stop revocation reaching the others.
      }
    }
  }
}
