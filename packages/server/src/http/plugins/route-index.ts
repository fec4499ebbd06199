import Router from 'find-my-way';
import type { FastifyInstance, RouteOptions } from 'fastify';

/**
 * Every route the app has registered, in a router of its own, so the not-found handler can tell
 * "no such path" (404) from "path exists, wrong method" (405 with `Allow`) — Fastify itself
 * answers both with 404.
 */
export class RouteIndex {
  // Same parameter limit as the app's router (device tokens are path parameters).
  private readonly router = Router({ ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: 600 });
  private readonly methods = new Set<string>();
  private readonly routes: RouteOptions[] = [];

  /** Records one route as Fastify reports it to `onRoute`. */
  add(route: RouteOptions): void {
    this.routes.push(route);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      const m = method.toUpperCase();
      // Constraints (host, version) are not mirrored: for the Allow header the path is what counts.
      if (this.router.hasRoute(m as Router.HTTPMethod, route.url)) continue;
      this.router.on(m as Router.HTTPMethod, route.url, () => {});
      this.methods.add(m);
    }
  }

  /** The methods some route accepts at this concrete path (query string ignored), sorted. */
  allowedMethods(url: string): string[] {
    const path = url.split('?')[0] ?? url;
    const allowed: string[] = [];
    for (const method of this.methods) {
      if (this.router.find(method as Router.HTTPMethod, path)) allowed.push(method);
    }
    return allowed.sort();
  }

  /** Every registered route, in registration order. */
  all(): readonly RouteOptions[] {
    return this.routes;
  }
}

/** Creates the index and feeds it every route registered from now on (call before any route). */
export function installRouteIndex(app: FastifyInstance): RouteIndex {
  const index = new RouteIndex();
  app.addHook('onRoute', (route) => index.add(route));
  return index;
}
