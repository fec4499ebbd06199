/**
 * Who is making a request, as every service sees it. The HTTP layer identifies the caller
 * (user token, external ID token, OAuth client token, API key) and hands this to services,
 * which decide what it may do. Services never see HTTP.
 */
export interface Actor {
  kind: 'user' | 'client' | 'api_key' | 'system';
  /** The user behind a user token; null for machine credentials. */
  userId: number | null;
  /** The OAuth client or API key id for machine credentials. */
  credentialId: number | null;
  /** The organisation this request acts in (token's, or `X-Tenant-ID` when the user belongs to it). */
  organizationId: number | null;
  /** The caller's role in `organizationId` (a built-in or custom role key), when a member. */
  role: string | null;
  /** The user's platform role (`viewer`, `admin`, `super_user`), if any. */
  platformRole: string | null;
  /** Token scopes that narrow what the caller may do; null means not narrowed. */
  scopes: readonly string[] | null;
  /** The login session behind a user token, so logout can end it. */
  sessionId: number | null;
}

/** The actor for work the server does on its own (bootstrap, background jobs). */
export const systemActor: Actor = {
  kind: 'system',
  userId: null,
  credentialId: null,
  organizationId: null,
  role: null,
  platformRole: null,
  scopes: null,
  sessionId: null,
};
