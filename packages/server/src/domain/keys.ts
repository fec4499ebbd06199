import { ValidationError } from './errors.js';

/** Keys of flags, environments, segments and variations: `[A-Za-z0-9._-]{1,200}`. */
export const keyPattern = /^[A-Za-z0-9._-]{1,200}$/;

/** Refuses a key outside `[A-Za-z0-9._-]{1,200}`, naming `field`. */
export function checkKey(field: string, key: string): string {
  if (!keyPattern.test(key)) throw new ValidationError(`${field} must be 1 to 200 of A-Z, a-z, 0-9, '.', '_' and '-'`, { [field]: "must be 1 to 200 of A-Z, a-z, 0-9, '.', '_' and '-'" });
  return key;
}

/**
 * A kebab-case slug of `text` (accents dropped, anything else between words becomes one `-`),
 * at most `max` characters; empty when nothing usable remains.
 */
export function slugify(text: string, max = 100): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug.slice(0, max).replace(/-+$/, '');
}

/** Trims `value` and refuses it unless it has 1 to `max` characters. */
export function checkName(field: string, value: string, max = 200): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max) throw new ValidationError(`${field} must be 1 to ${max} characters`, { [field]: `must be 1 to ${max} characters` });
  return trimmed;
}

/** Refuses text longer than `max`; empty text becomes null. */
export function checkOptionalText(field: string, value: string | null, max = 2000): string | null {
  if (value === null) return null;
  if (value.length > max) throw new ValidationError(`${field} must be at most ${max} characters`, { [field]: `must be at most ${max} characters` });
  const trimmed = value.trim();
  return trimmed.length === 0 ? null : trimmed;
}

/** Refuses a colour that is not `#rrggbb`; stored lower-case. */
export function checkColor(field: string, value: string | null): string | null {
  if (value === null) return null;
  if (!/^#[0-9a-fA-F]{6}$/.test(value)) throw new ValidationError(`${field} must be a #rrggbb colour`, { [field]: 'must be a #rrggbb colour' });
  return value.toLowerCase();
}
