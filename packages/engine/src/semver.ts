/**
 * Semantic versions (semver.org 2.0.0) with flagd's leniency: a leading `v`/`V` is ignored and
 * partial versions `1` and `1.2` mean `1.0.0` and `1.2.0`. Build metadata is parsed and ignored
 * by comparison; prerelease identifiers compare as semver specifies.
 */

/** A parsed semantic version. */
export interface SemVer {
  /** Major version. */
  readonly major: number;
  /** Minor version. */
  readonly minor: number;
  /** Patch version. */
  readonly patch: number;
  /** Prerelease identifiers (numbers for numeric identifiers); empty for a release. */
  readonly prerelease: readonly (string | number)[];
}

const NUM = '0|[1-9]\\d*';
const PRE_ID = `(?:${NUM}|\\d*[a-zA-Z-][0-9a-zA-Z-]*)`;
const FULL = new RegExp(
  `^(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+[0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*)?$`,
);
const PARTIAL = /^(\d+)(?:\.(\d+))?$/;
const MAX_LENGTH = 256;

/**
 * Parses a version the way flagd's `sem_ver` does: `String(raw)`, trimmed, one leading `v`/`V`
 * removed, then a full semver or a partial `major[.minor]`.
 * @param raw - a version string (numbers are converted with `String`)
 * @returns the version, or undefined when it is not one
 */
export function parseSemVer(raw: unknown): SemVer | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  let s = String(raw).trim();
  if (s.length > MAX_LENGTH) return undefined;
  if (s.charCodeAt(0) === 0x76 || s.charCodeAt(0) === 0x56) s = s.slice(1);
  const m = FULL.exec(s);
  if (m !== null) {
    const major = Number(m[1]);
    const minor = Number(m[2]);
    const patch = Number(m[3]);
    if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor) || !Number.isSafeInteger(patch)) return undefined;
    const prerelease = m[4] === undefined ? [] : m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id));
    return { major, minor, patch, prerelease };
  }
  const p = PARTIAL.exec(s);
  if (p !== null) {
    const major = Number(p[1]);
    const minor = p[2] === undefined ? 0 : Number(p[2]);
    if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor)) return undefined;
    return { major, minor, patch: 0, prerelease: [] };
  }
  return undefined;
}

/**
 * Compares two versions by semver precedence.
 * @param a - first version
 * @param b - second version
 * @returns negative, zero or positive as `a` is lower, equal or higher
 */
export function compareSemVer(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  const pa = a.prerelease;
  const pb = b.prerelease;
  if (pa.length === 0 || pb.length === 0) return pb.length - pa.length; // release > prerelease
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const xn = typeof x === 'number';
    const yn = typeof y === 'number';
    if (xn && yn) return x < y ? -1 : 1;
    if (xn) return -1; // numeric identifiers sort before alphanumeric ones
    if (yn) return 1;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
