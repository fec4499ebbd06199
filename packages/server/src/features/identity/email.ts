/** Emails are stored and compared trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

// Deliberately loose (and the same rule `SWITCHYARD_ADMIN_EMAIL` is checked with, so
// `admin@localhost` works): one @, no whitespace. Deliverability is proven by mail, not a regex.
const shape = /^[^\s@]+@[^\s@]+$/;

/** A problem with a (normalised) email address, or null when it is acceptable. */
export function emailProblem(email: string): string | null {
  if (email.length === 0) return 'is required';
  if (email.length > 254) return 'must be at most 254 characters';
  if (!shape.test(email)) return 'is not a valid email address';
  const local = email.slice(0, email.lastIndexOf('@'));
  if (local.length > 64) return 'is not a valid email address';
  return null;
}
