import { Type } from 'typebox';
import { deviceTokenPattern } from '../../features/engagement/notification-service.js';
import { tourKeyPattern } from '../../features/engagement/product-tour-service.js';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const timestamp = Type.String({ format: 'date-time' });

export const SuccessSchema = Type.Object({ success: Type.Boolean() });

// Product tours (IntelliToggle's snake_case fields).
export const TourParams = Type.Object({
  userId: Type.String({ maxLength: 64, description: 'usr_… (or the number)' }),
  tourKey: Type.String({ maxLength: 128, pattern: tourKeyPattern, description: 'e.g. main-onboarding@v1: letters, digits and ._- (then optionally @version)' }),
});
export const TourStatusSchema = Type.Object({
  completed: Type.Boolean(),
  completed_at: nullable(timestamp),
  created_at: nullable(Type.String({ description: 'null for a tour never recorded' })),
  updated_at: nullable(Type.String({ description: 'null for a tour never recorded' })),
});
export const PutTourBody = Type.Object(
  {
    completed: Type.Boolean(),
    completed_at: Type.Optional(nullable(Type.String({ format: 'date-time', description: 'Defaults to now when completed; must be null or absent when not' }))),
  },
  { additionalProperties: false },
);

// Notifications.
const DataSchema = Type.Record(Type.String({ maxLength: 100 }), Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]));
export const NotificationSchema = Type.Object({
  id: Type.String({ description: 'ntf_…' }),
  userId: Type.String({ description: 'usr_…' }),
  tenantId: nullable(Type.String({ description: 'tenant_…' })),
  type: Type.String({ description: 'system, flag_change, …' }),
  title: Type.String(),
  body: nullable(Type.String()),
  icon: nullable(Type.String()),
  actionType: nullable(Type.String()),
  referenceId: nullable(Type.String()),
  data: nullable(DataSchema),
  read: Type.Boolean(),
  readAt: nullable(timestamp),
  createdAt: timestamp,
});
export const NotificationListSchema = Type.Object({ notifications: Type.Array(NotificationSchema), totalCount: Type.Integer(), unreadCount: Type.Integer() });
export const NotificationListQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]?|100)$', description: '1 to 100, default 20' })),
  offset: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,14})$', description: 'default 0' })),
  unreadOnly: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true or false (default false)' })),
});
export const NotificationParams = Type.Object({ id: Type.String({ maxLength: 64, description: 'ntf_… or the number' }) });
export const MarkedSchema = Type.Object({ success: Type.Boolean(), markedCount: Type.Integer() });
export const ClearedSchema = Type.Object({ success: Type.Boolean(), clearedCount: Type.Integer() });
export const DeviceTokenSchema = Type.Object({
  deviceToken: Type.String(),
  deviceName: nullable(Type.String()),
  deviceType: Type.String({ description: 'web, ios or android' }),
  createdAt: timestamp,
  updatedAt: timestamp,
  lastDeliveredAt: nullable(timestamp),
});
export const DeviceTokenListSchema = Type.Array(DeviceTokenSchema);
export const RegisterDeviceBody = Type.Object(
  {
    deviceToken: Type.String({ minLength: 1, maxLength: 512 }),
    deviceName: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
    deviceType: Type.Union([Type.Literal('web'), Type.Literal('ios'), Type.Literal('android')]),
  },
  { additionalProperties: false },
);
export const DeviceTokenParams = Type.Object({ token: Type.String({ maxLength: 512, pattern: deviceTokenPattern }) });
export const SendNotificationBody = Type.Object(
  {
    userId: Type.Optional(Type.String({ maxLength: 64, description: 'usr_…: the recipient (with tenantId: must be a member)' })),
    tenantId: Type.Optional(Type.String({ maxLength: 64, description: 'tenant_…: without userId, every member is a recipient' })),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    body: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'default system' })),
    icon: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
    actionType: Type.Optional(nullable(Type.String({ maxLength: 64 }))),
    referenceId: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
    data: Type.Optional(nullable(DataSchema)),
  },
  { additionalProperties: false },
);
export const SentSchema = Type.Object({ success: Type.Boolean(), sentCount: Type.Integer(), notificationIds: Type.Array(Type.String()) });

// Sandbox.
export const SandboxStatusSchema = Type.Object({
  active: Type.Boolean({ description: 'A sandbox that has not expired' }),
  expiresAt: nullable(timestamp),
  isSandbox: Type.Boolean(),
});
export const SandboxIndicatorsSchema = Type.Object({ flagsUsed: Type.Integer(), evaluations: Type.Integer() });
export const SandboxDemoDataSchema = Type.Object({ flags: Type.Array(Type.String()), users: Type.Array(Type.String()) });
export const SandboxSubscribeBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 320 }), name: Type.Optional(nullable(Type.String({ maxLength: 200 }))) },
  { additionalProperties: false },
);
export const SandboxSubscriptionSchema = Type.Object({ success: Type.Boolean(), email: Type.String(), name: nullable(Type.String()), subscribedAt: timestamp });

// Platform admin.
export const AdminUserSchema = Type.Object({
  id: Type.String({ description: 'usr_…' }),
  email: Type.String(),
  name: nullable(Type.String()),
  role: nullable(Type.String({ description: 'Effective platform role: viewer, admin, super_user, or null' })),
  status: Type.String({ description: 'active or deactivated' }),
  createdAt: timestamp,
  updatedAt: timestamp,
  lastLoginAt: nullable(timestamp),
});
export const AdminUserListSchema = Type.Array(AdminUserSchema);
export const AdminUserParams = Type.Object({ userId: Type.String({ maxLength: 64, description: 'usr_… or the number' }) });
export const AdminRoleBody = Type.Object(
  { role: Type.Union([Type.String({ minLength: 1, maxLength: 32, description: 'viewer, admin or super_user' }), Type.Null()], { description: 'null removes the platform role' }) },
  { additionalProperties: false },
);
export const PlatformInvitationSchema = Type.Object({
  id: Type.String({ description: 'inv_…' }),
  email: Type.String(),
  role: Type.String(),
  status: Type.String({ description: 'pending, accepted, revoked or expired' }),
  invitedBy: nullable(Type.String()),
  createdAt: timestamp,
  expiresAt: timestamp,
  acceptedAt: nullable(timestamp),
  acceptedBy: nullable(Type.String()),
});
export const PlatformInvitationListSchema = Type.Array(PlatformInvitationSchema);
export const CreatePlatformInvitationBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 320 }), role: Type.String({ minLength: 1, maxLength: 32, description: 'viewer or admin' }) },
  { additionalProperties: false },
);
export const AcceptPlatformInvitationBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export const AcceptedPlatformInvitationSchema = Type.Object({ invitation: PlatformInvitationSchema, user: AdminUserSchema });
export const PlatformInvitationParams = Type.Object({ invitationId: Type.String({ maxLength: 64, description: 'inv_… or the number' }) });
export const AdminTenantSchema = Type.Object({
  id: Type.String({ description: 'tenant_…' }),
  name: Type.String(),
  primaryEmail: nullable(Type.String()),
  contactName: nullable(Type.String()),
  isSandbox: Type.Boolean(),
  sandboxExpiresAt: nullable(timestamp),
  plan: Type.String(),
  memberCount: Type.Integer(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export const AdminTenantListSchema = Type.Array(AdminTenantSchema);
export const LegacyInviteBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 320 }), role: Type.Union([Type.Literal('admin'), Type.Literal('user')], { description: 'admin: platform admin invitation; user: tenant invitation as developer' }) },
  { additionalProperties: false },
);
