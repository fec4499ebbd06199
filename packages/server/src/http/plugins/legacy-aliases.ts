import type { FastifyInstance } from 'fastify';
import type { RouteIndex } from './route-index.js';

/** The versioned prefix every legacy alias leads to. */
const versioned = '/api/v1';

/** Legacy prefixes and what they stand for under `/api/v1`. */
const legacyPrefixes: ReadonlyArray<readonly [legacy: string, successor: string]> = [
  ['/api/', `${versioned}/`],
  ['/auth/', `${versioned}/auth/`],
  ['/oauth/', `${versioned}/oauth/`],
];

/**
 * IntelliToggle's legacy aliases (`/api/…`, `/auth/…`, `/oauth/…`) of the versioned routes,
 * derived from the route index at request time — so every `/api/v1` route answers under its
 * alias, including routes registered after this was set up — by rewriting the URL before routing
 * (Fastify's `rewriteUrl`). The request then runs the versioned route's own hooks, validation,
 * rate limit and idempotency exactly. A path is rewritten only when it is no route of its own and
 * its versioned path is one; `/api/admin/…` is never rewritten (Flipswitch's admin API lives there).
 * Aliases are not routes, so they are not in OpenAPI.
 */
export class LegacyAliases {
  private index: RouteIndex | null = null;

  /** The index rewriting consults (set once it exists, before the first request). */
  useIndex(index: RouteIndex): void {
    this.index = index;
  }

  /** The versioned path a legacy path stands for, or null when it is not an alias. */
  successorOf(path: string): string | null {
    const index = this.index;
    if (!index || path.startsWith(`${versioned}/`) || path === versioned) return null;
    if (path === '/api/admin' || path.startsWith('/api/admin/')) return null;
    for (const [legacy, successor] of legacyPrefixes) {
      if (!path.startsWith(legacy)) continue;
      const candidate = successor + path.slice(legacy.length);
      if (index.allowedMethods(path).length > 0) return null;
      return index.allowedMethods(candidate).length > 0 ? candidate : null;
    }
    return null;
  }

  /** `rewriteUrl`: the versioned URL (query kept) for an alias; any other URL unchanged. */
  rewrite(url: string): string {
    // The hot path (`/api/v1/…`) pays one prefix check.
    if (url.startsWith(`${versioned}/`)) return url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const successor = this.successorOf(path);
    return successor === null ? url : successor + (q < 0 ? '' : url.slice(q));
  }
}

/** Marks every answer to a rewritten alias: `Deprecation: true` and a `Link` to the versioned path. */
export function installLegacyAliasHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (request.originalUrl !== request.url) deprecated(reply, request.url.split('?')[0] ?? request.url);
    done();
  });
}

/** Sets the deprecation headers of a legacy route pointing at `successorPath`. */
export function deprecated(reply: { header(name: string, value: string): unknown }, successorPath: string): void {
  reply.header('Deprecation', 'true');
  reply.header('Link', `<${successorPath}>; rel="successor-version"`);
}
