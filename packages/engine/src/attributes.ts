/**
 * Reading attributes from an evaluation context by dotted path. A path first matches a property
 * literally named with the whole path (`"app.version"`), then walks nested objects
 * (`app` → `version`). `null`, functions and anything not found read as `undefined` ("missing").
 */
import type { EvaluationContext } from './types.js';

/** Reads one attribute from a context; `undefined` means missing. */
export type AttributeGetter = (context: EvaluationContext) => unknown;

/**
 * Compiles a dotted attribute path into a getter.
 * @param path - the attribute path; must be non-empty and must not contain `__proto__`
 * @returns the getter
 */
export function compileGetter(path: string): AttributeGetter {
  const segments = path.split('.');
  if (segments.length === 1) {
    return (context) => present((context as Record<string, unknown>)[path]);
  }
  return (context) => {
    const flat = (context as Record<string, unknown>)[path];
    if (flat !== undefined && flat !== null) return present(flat);
    let node: unknown = context;
    for (let i = 0; i < segments.length; i++) {
      if (node === null || typeof node !== 'object') return undefined;
      node = (node as Record<string, unknown>)[segments[i]!];
    }
    return present(node);
  };
}

/**
 * Validates an attribute path.
 * @param path - the candidate path
 * @returns an error message, or undefined when the path is usable
 */
export function checkPath(path: unknown): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'must be a non-empty string';
  if (path.length > 256) return 'must be at most 256 characters';
  for (const segment of path.split('.')) {
    if (segment.length === 0) return `"${path}" has an empty segment`;
    if (segment === '__proto__') return `"${path}" may not address __proto__`;
  }
  return undefined;
}

function present(value: unknown): unknown {
  return value === null || typeof value === 'function' ? undefined : value;
}
