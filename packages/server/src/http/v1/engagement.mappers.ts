import type { TourStatus } from '../../features/engagement/product-tour-service.js';
import type { DeviceToken, Notification } from '../../features/engagement/notification-store.js';
import type { PlatformInvitationView, PlatformUserView } from '../../features/platform/platform-admin-service.js';
import type { TenantOverview } from '../../features/platform/platform-store.js';
import { formatId } from './ids.js';

/** A tour's status in IntelliToggle's snake_case. */
export function toTourBody(s: TourStatus) {
  return { completed: s.completed, completed_at: s.completedAt, created_at: s.createdAt, updated_at: s.updatedAt };
}

export function toNotificationBody(n: Notification) {
  return {
    id: formatId('notification', n.id),
    userId: formatId('user', n.userId),
    tenantId: n.organizationId === null ? null : formatId('organization', n.organizationId),
    type: n.type,
    title: n.title,
    body: n.body,
    icon: n.icon,
    actionType: n.actionType,
    referenceId: n.referenceId,
    data: n.data,
    read: n.readAt !== null,
    readAt: n.readAt,
    createdAt: n.createdAt,
  };
}

export function toDeviceTokenBody(d: DeviceToken) {
  return { deviceToken: d.token, deviceName: d.deviceName, deviceType: d.deviceType, createdAt: d.createdAt, updatedAt: d.updatedAt, lastDeliveredAt: d.lastDeliveredAt };
}

export function toAdminUserBody(u: PlatformUserView) {
  return { id: formatId('user', u.id), email: u.email, name: u.name, role: u.role, status: u.status, createdAt: u.createdAt, updatedAt: u.updatedAt, lastLoginAt: u.lastLoginAt };
}

export function toPlatformInvitationBody(i: PlatformInvitationView) {
  return {
    id: formatId('invitation', i.id),
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

export function toAdminTenantBody(t: TenantOverview) {
  return {
    id: formatId('organization', t.id),
    name: t.name,
    primaryEmail: t.primaryEmail,
    contactName: t.contactName,
    isSandbox: t.isSandbox,
    sandboxExpiresAt: t.sandboxExpiresAt,
    plan: t.plan,
    memberCount: t.memberCount,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}
