/**
 * Kysely's view of every table. Columns are portable across SQLite and PostgreSQL:
 * ids are 53-bit integers (`bigint` on PostgreSQL, parsed back to number), timestamps are
 * ISO-8601 UTC text, booleans are 0/1 integers, JSON is text. Stores map them to domain types.
 */
import type { Generated } from 'kysely';
export interface Database {
  users: UsersTable;
  external_identities: ExternalIdentitiesTable;
  organizations: OrganizationsTable;
  memberships: MembershipsTable;
  roles: RolesTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  signing_keys: SigningKeysTable;
  invitations: InvitationsTable;
  mail_outbox: MailOutboxTable;
  audit_events: AuditEventsTable;
  organization_environments: OrganizationEnvironmentsTable;
  projects: ProjectsTable;
  environments: EnvironmentsTable;
  project_members: ProjectMembersTable;
  flags: FlagsTable;
  variations: VariationsTable;
  flag_environments: FlagEnvironmentsTable;
  rules: RulesTable;
  segments: SegmentsTable;
  api_keys: ApiKeysTable;
  evaluation_counts: EvaluationCountsTable;
  oauth_clients: OAuthClientsTable;
  password_resets: PasswordResetsTable;
  product_tours: ProductToursTable;
  notifications: NotificationsTable;
  device_tokens: DeviceTokensTable;
  notification_deliveries: NotificationDeliveriesTable;
  sandbox_subscriptions: SandboxSubscriptionsTable;
  idempotency_keys: IdempotencyKeysTable;
  exports: ExportsTable;
  deletion_requests: DeletionRequestsTable;
  environment_revisions: EnvironmentRevisionsTable;
  billing_subscriptions: BillingSubscriptionsTable;
  billing_events: BillingEventsTable;
}

export interface UsersTable {
  id: number;
  /** Normalised: trimmed and lower-cased. */
  email: string;
  name: string | null;
  /** Null for an account that only signs in through an external identity provider. */
  password_hash: string | null;
  email_verified: number;
  /** Platform role: null, `viewer`, `admin` or `super_user`. */
  platform_role: string | null;
  /** `active` or `deactivated`. */
  status: string;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

export interface ExternalIdentitiesTable {
  id: number;
  user_id: number;
  issuer: string;
  subject: string;
  provider: string | null;
  created_at: string;
}

export interface OrganizationsTable {
  id: number;
  name: string;
  primary_email: string | null;
  contact_name: string | null;
  is_sandbox: number;
  sandbox_expires_at: string | null;
  plan: string;
  created_at: string;
  updated_at: string;
}

export interface MembershipsTable {
  id: number;
  organization_id: number;
  user_id: number;
  /** A built-in role key (`admin`, `developer`, `viewer`) or a custom role's key. */
  role: string;
  created_at: string;
  updated_at: string;
  last_accessed_at: string | null;
}

/** Custom roles; the built-in ones are fixed in code and never stored. */
export interface RolesTable {
  id: number;
  organization_id: number;
  key: string;
  name: string;
  description: string | null;
  /** JSON array of permission names. */
  permissions: string;
  created_at: string;
  updated_at: string;
}

/** A login session: one chain of rotating refresh tokens. Revoking it ends them all. */
export interface SessionsTable {
  id: number;
  user_id: number;
  organization_id: number | null;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  /** Why it was revoked: `logout`, `reuse_detected`, `password_changed`, `deactivated`. */
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  id: number;
  session_id: number;
  /** SHA-256 (hex) of the opaque token; the token itself is never stored. */
  token_hash: string;
  created_at: string;
  expires_at: string;
  /** Set when the token was exchanged; a second use revokes the session. */
  used_at: string | null;
}

export interface SigningKeysTable {
  /** The JWT `kid`. */
  id: string;
  algorithm: string;
  public_jwk: string;
  private_jwk: string;
  created_at: string;
  retired_at: string | null;
}

export interface InvitationsTable {
  id: number;
  /** Null for a platform-admin invitation. */
  organization_id: number | null;
  email: string;
  role: string;
  /** `organization` or `platform`. */
  kind: string;
  token_hash: string;
  invited_by: number | null;
  /** `pending`, `accepted`, `revoked`. Expiry is derived from `expires_at`. */
  status: string;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  accepted_by: number | null;
}

export interface MailOutboxTable {
  id: number;
  organization_id: number | null;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string | null;
  created_at: string;
  sent_at: string | null;
  error: string | null;
}

export interface AuditEventsTable {
  id: number;
  organization_id: number | null;
  project_id: number | null;
  /** `user`, `client`, `api_key` or `system`. */
  actor_type: string;
  actor_id: number | null;
  /** e.g. `flag.created`, `member.role_changed`. */
  action: string;
  resource_type: string;
  resource_id: string | null;
  /** JSON of the changed fields before and after; null where there was no before/after. */
  before: string | null;
  after: string | null;
  created_at: string;
}

/** The organisation's default environment list (IntelliToggle's tenant environments), in order. */
export interface OrganizationEnvironmentsTable {
  id: number;
  organization_id: number;
  /** e.g. `production`; unique within the organisation. */
  key: string;
  name: string;
  position: number;
  created_at: string;
  updated_at: string;
}

export interface ProjectsTable {
  id: number;
  organization_id: number;
  /** kebab-case, unique within the organisation. */
  key: string;
  name: string;
  description: string | null;
  color: string | null;
  /** 1 for the organisation's default project (at most one), where project-less flags go. */
  is_default: number;
  created_at: string;
  updated_at: string;
}

export interface EnvironmentsTable {
  id: number;
  project_id: number;
  /** unique within the project. */
  key: string;
  name: string;
  color: string | null;
  position: number;
  created_at: string;
  updated_at: string;
}

/** A user's project role (`admin` or `member`); organisation admins are admin everywhere. */
export interface ProjectMembersTable {
  id: number;
  project_id: number;
  user_id: number;
  role: string;
  created_at: string;
  updated_at: string;
}

export interface FlagsTable {
  id: number;
  project_id: number;
  /** `[A-Za-z0-9._-]{1,200}`, unique within the project. */
  key: string;
  name: string;
  description: string | null;
  /** `boolean`, `string`, `number` or `json`. */
  type: string;
  /** Key of the variation whose value is the flag's default value. */
  default_variation: string;
  /** JSON array of strings. */
  tags: string;
  /** `active`, `inactive` or `archived`. */
  status: string;
  /** JSON object of flat metadata, or null. */
  metadata: string | null;
  /** Bumped on every change to the flag or its variations; the ETag / If-Match value. */
  version: number;
  created_by: number | null;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
}

export interface VariationsTable {
  id: number;
  flag_id: number;
  /** Stable handle the engine and rules use (`on`, `off`, `control`); unique within the flag. */
  key: string;
  name: string;
  /** JSON of the value, which matches the flag's type. */
  value: string;
  description: string | null;
  /** IntelliToggle's informational weight (0–100), or null. */
  weight: number | null;
  position: number;
  created_at: string;
  updated_at: string;
}

/** How one environment serves one flag. A missing row means: disabled, nothing configured. */
export interface FlagEnvironmentsTable {
  id: number;
  flag_id: number;
  environment_id: number;
  enabled: number;
  off_variation: string | null;
  /** JSON engine `ServeConfig` (variation or rollout), or null for the flag's default variation. */
  default_serve: string | null;
  /** JSON engine `TargetConfig[]`. */
  targets: string;
  /** JSON engine `PrerequisiteConfig[]`. */
  prerequisites: string;
  /** JSON flagd JSONLogic targeting used instead of rules, or null. */
  targeting: string | null;
  /** 1 when imported from flagd: disabled serves nothing unless `off_variation` is set (migration 0012). */
  flagd: Generated<number>;
  /** This environment's default variation (flagd `defaultVariant`); NULL: the flag's, or none when `flagd` = 1 (migration 0012). */
  default_variation: string | null;
  version: number;
  updated_at: string;
}

/** One ordered targeting rule of a flag in one environment. */
export interface RulesTable {
  id: number;
  flag_id: number;
  environment_id: number;
  /** Lower first; unique per flag and environment after every write. */
  priority: number;
  description: string | null;
  /** JSON engine `ConditionConfig[]`. */
  conditions: string;
  /** JSON array of segment keys. */
  segments: string;
  /** JSON engine `ServeConfig`. */
  serve: string;
  created_at: string;
  updated_at: string;
}

export interface SegmentsTable {
  id: number;
  project_id: number;
  key: string;
  name: string;
  description: string | null;
  /** JSON engine `ConditionConfig[]`. */
  conditions: string;
  /** JSON arrays of targeting keys. */
  included: string;
  excluded: string;
  version: number;
  created_at: string;
  updated_at: string;
}

/** An environment-scoped API key; only its SHA-256 is stored. */
export interface ApiKeysTable {
  id: number;
  organization_id: number;
  project_id: number;
  environment_id: number;
  name: string;
  /** `server`, `sdk` or `stream`. */
  scope: string;
  /** The first characters of the key, shown in lists. */
  prefix: string;
  key_hash: string;
  created_by: number | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Evaluation counts per environment, flag, variation and UTC day, flushed in batches. */
export interface EvaluationCountsTable {
  environment_id: number;
  flag_key: string;
  variation: string;
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  organization_id: number;
  project_id: number;
  count: number;
}

/** An OAuth2 client of one organisation (client-credentials grant); only the secret's SHA-256 is stored. */
export interface OAuthClientsTable {
  id: number;
  organization_id: number;
  name: string;
  /** JSON array of granted scopes (`flags:read`, `flags:write`, `flags:evaluate`, `projects:read`, `projects:write`). */
  scopes: string;
  /** SHA-256 (hex) of the client secret. */
  secret_hash: string;
  created_by: number | null;
  created_at: string;
  /** When a token was last issued to it. */
  last_used_at: string | null;
  /** Set once revoked: no new tokens, and its tokens stop working at once. */
  revoked_at: string | null;
}

/** A single-use password-reset token mailed to the account's address; only its SHA-256 is stored. */
export interface PasswordResetsTable {
  id: number;
  user_id: number;
  token_hash: string;
  created_at: string;
  expires_at: string;
  /** Set when used, or when a newer reset or a password change superseded it. */
  used_at: string | null;
}

/** Whether a user has completed a product tour (`main-onboarding@v1`); no row means not yet. */
export interface ProductToursTable {
  id: number;
  user_id: number;
  tour_key: string;
  completed: number;
  completed_at: string | null;
  created_at: string;
  updated_at: string;
}

/** One notification for one user (flag changes, admin messages). */
export interface NotificationsTable {
  id: number;
  user_id: number;
  /** The tenant it is about, if any. */
  organization_id: number | null;
  /** `system`, `flag_change`, … */
  type: string;
  title: string;
  body: string | null;
  icon: string | null;
  action_type: string | null;
  reference_id: string | null;
  /** JSON object of string values, or null. */
  data: string | null;
  read_at: string | null;
  created_at: string;
}

/** A device registered for push notifications; the token is unique (one device, one user). */
export interface DeviceTokensTable {
  id: number;
  user_id: number;
  token: string;
  device_name: string | null;
  /** `web`, `ios` or `android`. */
  device_type: string;
  created_at: string;
  updated_at: string;
  last_delivered_at: string | null;
}

/** The outcome of pushing one notification to one device. */
export interface NotificationDeliveriesTable {
  id: number;
  notification_id: number;
  /** Null once the device token was deleted. */
  device_token_id: number | null;
  /** `fcm`, or `none` when no push provider is configured. */
  provider: string;
  /** `delivered`, `failed` or `undelivered` (no provider). */
  status: string;
  provider_message_id: string | null;
  error: string | null;
  created_at: string;
}

/** Someone who asked for sandbox updates (`POST /api/v1/sandbox/subscribe`). */
export interface SandboxSubscriptionsTable {
  id: number;
  organization_id: number;
  user_id: number | null;
  email: string;
  name: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * A claimed `Idempotency-Key`: looked up by SHA-256 of caller and key; the first response is kept
 * encrypted with a key derived from the idempotency key itself, so the table alone reveals no
 * response body (some carry secrets shown once).
 */
export interface IdempotencyKeysTable {
  id: number;
  lookup_hash: string;
  /** SHA-256 of method, path and canonical body: a different request under the same key is refused. */
  fingerprint: string;
  /** `in_flight` or `completed`. */
  state: string;
  /** Encrypted `{status, contentType, body}`, once completed. */
  response: string | null;
  created_at: string;
  expires_at: string;
}

/** A background export of an organisation (or one project): `pending` → `running` → `completed` | `failed`. */
export interface ExportsTable {
  id: number;
  organization_id: number;
  /** Null: the whole organisation. */
  project_id: number | null;
  requested_by: number | null;
  status: string;
  /** The finished export document (JSON), once `completed`. */
  document: string | null;
  /** Why it failed, once `failed` (no internals). */
  error: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
}

/** A requested erasure of an account or an organisation, carried out when `scheduled_for` passes. */
export interface DeletionRequestsTable {
  id: number;
  /** `account` or `organization`. */
  scope: string;
  /** The user (account) or organisation to erase; cleared once erased. */
  subject_id: number | null;
  /** The organisation, for `organization` requests. */
  organization_id: number | null;
  /** Who asked; cleared once erased. */
  requested_by: number | null;
  /** `pending`, `cancelled`, `completed` or `failed`. */
  status: string;
  requested_at: string;
  scheduled_for: string;
  cancelled_at: string | null;
  completed_at: string | null;
  /** Why the erasure could not be done, once `failed`. */
  failure: string | null;
}

/** An organisation's Stripe subscription as the last webhook reported it (migration 0014). */
export interface BillingSubscriptionsTable {
  organization_id: number;
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  plan: string;
  /** Stripe's subscription status (`active`, `trialing`, `past_due`, `canceled`, …). */
  status: string;
  current_period_start: string | null;
  current_period_end: string | null;
  cancel_at_period_end: number;
  updated_at: string;
}

/** Stripe webhook events already processed, by event id (migration 0014). */
export interface BillingEventsTable {
  event_id: string;
  type: string;
  organization_id: number | null;
  processed_at: string;
}

/**
 * The revision of each environment's evaluable configuration (migration 0011): bumped by whichever
 * instance first builds a configuration with a new digest, so revision numbers mean the same
 * configuration on every instance. Stream event ids and the periodic revision check use it.
 */
export interface EnvironmentRevisionsTable {
  environment_id: number;
  project_id: number;
  revision: number;
  digest: string;
  updated_at: string;
}
