/** A pending erasure that concerns a user, as login reports it. */
export interface PendingDeletionNotice {
  /** `account`: the user's own; `organization`: one they belong to. */
  scope: 'account' | 'organization';
  scheduledFor: string;
  /** The organisation, for `organization`. */
  organizationId: number | null;
}

/** Where sign-in learns of pending deletions (the account-deletion slice implements it). */
export interface PendingDeletionLookup {
  /** The soonest pending deletion concerning the user, or null. */
  pendingFor(userId: number): Promise<PendingDeletionNotice | null>;
}
