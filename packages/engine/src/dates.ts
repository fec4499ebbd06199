/**
 * Dates for `BEFORE`/`AFTER`: ISO-8601 strings and epoch numbers, converted to epoch
 * milliseconds without `Date.parse`'s implementation-defined leniency.
 */

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Numbers below this magnitude are epoch seconds, above it epoch milliseconds (≈ 1973-03-03 in ms). */
export const EPOCH_SECONDS_LIMIT = 1e11;

/**
 * Converts a date to epoch milliseconds.
 * - A finite number is epoch seconds when |n| < 1e11, else epoch milliseconds.
 * - A string must be ISO-8601: `YYYY-MM-DD`, optionally `THH:MM[:SS[.fraction]]` and an offset
 *   (`Z`, `±HH`, `±HHMM`, `±HH:MM`). A date or date-time without an offset is UTC.
 * - Anything else, or an impossible date (`2023-02-30`), is not a date.
 * @param value - the candidate date
 * @returns epoch milliseconds, or undefined
 */
export function toEpochMillis(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    return Math.abs(value) < EPOCH_SECONDS_LIMIT ? value * 1000 : value;
  }
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const m = ISO.exec(value);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const t = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(t);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  return t - offsetMinutes * 60000;
}
