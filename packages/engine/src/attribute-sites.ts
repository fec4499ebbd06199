/**
 * Dedicated property-read sites. A JavaScript engine caches property lookups per source location;
 * one location reading many different names (`context[name]` in a loop over attributes) degrades
 * to a slow generic lookup. Each `case` below is its own location, and `siteFor` gives every
 * attribute name the process sees its own case (the first 32 names; later ones share `default`),
 * so reading `plan` always happens at the same place and stays a fast cached lookup.
 * The cases are deliberately identical: the code is the same, the cache behind each is not.
 */

/** Number of dedicated sites. */
export const SITE_COUNT = 32;

const sites = new Map<string, number>();

/**
 * The site reserved for an attribute name (process-wide, first come first served).
 * @param name - the property name
 * @returns a site in [0, SITE_COUNT), or SITE_COUNT when all are taken (the shared site)
 */
export function siteFor(name: string): number {
  let s = sites.get(name);
  if (s === undefined) {
    s = sites.size < SITE_COUNT ? sites.size : SITE_COUNT;
    if (s < SITE_COUNT) sites.set(name, s);
  }
  return s;
}

/**
 * Reads `o[k]` at the given site.
 * @param site - from `siteFor(k)`
 * @param o - the object
 * @param k - the property name
 * @returns the property value
 */
export function readAt(site: number, o: Record<string, unknown>, k: string): unknown {
  switch (site) {
    case 0:
      return o[k];
    case 1:
      return o[k];
    case 2:
      return o[k];
    case 3:
      return o[k];
    case 4:
      return o[k];
    case 5:
      return o[k];
    case 6:
      return o[k];
    case 7:
      return o[k];
    case 8:
      return o[k];
    case 9:
      return o[k];
    case 10:
      return o[k];
    case 11:
      return o[k];
    case 12:
      return o[k];
    case 13:
      return o[k];
    case 14:
      return o[k];
    case 15:
      return o[k];
    case 16:
      return o[k];
    case 17:
      return o[k];
    case 18:
      return o[k];
    case 19:
      return o[k];
    case 20:
      return o[k];
    case 21:
      return o[k];
    case 22:
      return o[k];
    case 23:
      return o[k];
    case 24:
      return o[k];
    case 25:
      return o[k];
    case 26:
      return o[k];
    case 27:
      return o[k];
    case 28:
      return o[k];
    case 29:
      return o[k];
    case 30:
      return o[k];
    case 31:
      return o[k];
    default:
      return o[k];
  }
}
