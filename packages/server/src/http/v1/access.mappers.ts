import type { RoleDefinition } from '../../features/access/permissions.js';
import type { OutboxMessage } from '../../features/mail/mail-outbox-store.js';
import type { AcceptedInvitation, InvitationView } from '../../features/organizations/invitation-service.js';
import type { OrganizationWithRole } from '../../features/organizations/organization-service.js';
import type { MemberWithUser } from '../../features/organizations/organization-store.js';
import { toSignedInBody } from './auth.mappers.js';
import { formatId } from './ids.js';

/** An organisation with the caller's role. */
export function toOrganizationBody({ organization: o, role }: OrganizationWithRole) {
  return {
    id: formatId('organization', o.id),
    name: o.name,
    primaryEmail: o.primaryEmail,
    contactName: o.contactName,
    isSandbox: o.isSandbox,
    plan: o.plan,
    role,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

export function toMemberBody(m: MemberWithUser) {
  return {
    userId: formatId('user', m.userId),
    email: m.email,
    name: m.name,
    role: m.role,
    joinedAt: m.createdAt,
    updatedAt: m.updatedAt,
    lastAccessedAt: m.lastAccessedAt,
  };
}

export function toRoleBody(r: RoleDefinition) {
  return {
    id: r.id === null ? null : formatId('role', r.id),
    key: r.key,
    name: r.name,
    description: r.description,
    permissions: [...r.permissions],
    builtIn: r.builtIn,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export function toInvitationBody(i: InvitationView) {
  return {
    id: formatId('invitation', i.id),
    organizationId: formatId('organization', i.organizationId),
    email: i.email,
    role: i.role,
    status: i.status,
    invitedBy: i.invitedBy === null ? null : formatId('user', i.invitedBy),
    createdAt: i.createdAt,
    expiresAt: i.expiresAt,
    acceptedAt: i.acceptedAt,
    acceptedBy: i.acceptedBy === null ? null : formatId('user', i.acceptedBy),
  };
}

/** The login body acting in the joined organisation, plus the organisation. */
export function toAcceptedInvitationBody(a: AcceptedInvitation) {
  const organization = toOrganizationBody({ organization: a.organization, role: a.membership.role });
  const message = 'Invitation accepted';
  if (!a.signedIn) return { success: true, message, data: { organization } };
  const body = toSignedInBody(a.signedIn, message);
  return { ...body, data: { ...body.data, organization } };
}

export function toOutboxMessageBody(m: OutboxMessage) {
  return {
    id: formatId('mail', m.id),
    to: m.to,
    subject: m.subject,
    textBody: m.textBody,
    htmlBody: m.htmlBody,
    createdAt: m.createdAt,
    sentAt: m.sentAt,
    error: m.error,
  };
}
