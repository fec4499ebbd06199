import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import {
  ClearedSchema,
  DeviceTokenListSchema,
  DeviceTokenParams,
  DeviceTokenSchema,
  MarkedSchema,
  NotificationListQuery,
  NotificationListSchema,
  NotificationParams,
  NotificationSchema,
  RegisterDeviceBody,
  SendNotificationBody,
  SentSchema,
} from './engagement.schemas.js';
import { NoContentSchema } from './tenant-flags.schemas.js';
import { toDeviceTokenBody, toNotificationBody } from './engagement.mappers.js';
import { formatId, parseId } from './ids.js';

const tags = ['notifications'];
const base = '/api/v1/notifications';

function notificationIdOf(raw: string): number {
  const id = parseId('notification', raw);
  if (id === null) throw new NotFoundError('Notification');
  return id;
}

/**
 * `/api/v1/notifications`: the caller's notifications, their push devices, and admin sends.
 * The static paths (`read-all`, `clear`, `device-tokens`, `send`) win over `{id}` in the router.
 */
export const notificationRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { notifications } = app.services;

  app.get(base, {
    schema: {
      operationId: 'listNotifications',
      tags,
      summary: 'Your notifications, newest first; limit (1–100, default 20), offset, unreadOnly (true|false)',
      security: bearer,
      querystring: NotificationListQuery,
      response: { 200: NotificationListSchema, ...problems(401, 403) },
    },
  }, async (request) => {
    const q = request.query;
    const page = await notifications.list(requireActor(request), {
      ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
      ...(q.offset !== undefined ? { offset: Number(q.offset) } : {}),
      unreadOnly: q.unreadOnly === 'true',
    });
    return { notifications: page.items.map(toNotificationBody), totalCount: page.totalCount, unreadCount: page.unreadCount };
  });

  app.patch(`${base}/read-all`, {
    schema: {
      operationId: 'markAllNotificationsRead',
      tags,
      summary: 'Mark all your notifications read',
      security: bearer,
      response: { 200: MarkedSchema, ...problems(401, 403) },
    },
  }, async (request) => ({ success: true, markedCount: await notifications.markAllRead(requireActor(request)) }));

  app.delete(`${base}/clear`, {
    schema: {
      operationId: 'clearNotifications',
      tags,
      summary: 'Delete all your notifications',
      security: bearer,
      response: { 200: ClearedSchema, ...problems(401, 403) },
    },
  }, async (request) => ({ success: true, clearedCount: await notifications.clear(requireActor(request)) }));

  app.get(`${base}/device-tokens`, {
    schema: {
      operationId: 'listDeviceTokens',
      tags,
      summary: 'Your devices registered for push notifications',
      security: bearer,
      response: { 200: DeviceTokenListSchema, ...problems(401, 403) },
    },
  }, async (request) => (await notifications.listDevices(requireActor(request))).map(toDeviceTokenBody));

  app.post(`${base}/device-tokens`, {
    schema: {
      operationId: 'registerDeviceToken',
      tags,
      summary: 'Register a device for push (201; 200 when the token was registered already: name and type updated, and it is yours now)',
      security: bearer,
      body: RegisterDeviceBody,
      response: { 200: DeviceTokenSchema, 201: DeviceTokenSchema, ...problems(401, 403, 422) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const { device, created } = await notifications.registerDevice(requireActor(request), { deviceToken: b.deviceToken, deviceName: b.deviceName ?? null, deviceType: b.deviceType });
    reply.code(created ? 201 : 200);
    return toDeviceTokenBody(device);
  });

  app.delete(`${base}/device-tokens/:token`, {
    schema: {
      operationId: 'deleteDeviceToken',
      tags,
      summary: 'Forget one of your device tokens (204; 404 when it is not yours)',
      security: bearer,
      params: DeviceTokenParams,
      response: { 204: NoContentSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    await notifications.deleteDevice(requireActor(request), request.params.token);
    return reply.code(204).send(null);
  });

  app.post(`${base}/send`, {
    schema: {
      operationId: 'sendNotification',
      tags,
      summary: 'Send a notification (platform admins; 201): to userId, to every member of tenantId, or to userId about tenantId; pushed to their devices',
      security: bearer,
      body: SendNotificationBody,
      response: { 201: SentSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const userId = b.userId === undefined ? undefined : parseId('user', b.userId);
    const organizationId = b.tenantId === undefined ? undefined : parseId('organization', b.tenantId);
    if (userId === null) throw new ValidationError('userId must be usr_… or its number', { userId: 'must be usr_… or its number' });
    if (organizationId === null) throw new ValidationError('tenantId must be tenant_… or its number', { tenantId: 'must be tenant_… or its number' });
    const { notificationIds } = await notifications.send(requireActor(request), {
      ...(userId !== undefined ? { userId } : {}),
      ...(organizationId !== undefined ? { organizationId } : {}),
      title: b.title,
      body: b.body ?? null,
      ...(b.type !== undefined ? { type: b.type } : {}),
      icon: b.icon ?? null,
      actionType: b.actionType ?? null,
      referenceId: b.referenceId ?? null,
      data: b.data ?? null,
    });
    reply.code(201);
    return { success: true, sentCount: notificationIds.length, notificationIds: notificationIds.map((id) => formatId('notification', id)) };
  });

  app.get(`${base}/:id`, {
    schema: {
      operationId: 'getNotification',
      tags,
      summary: 'One of your notifications',
      security: bearer,
      params: NotificationParams,
      response: { 200: NotificationSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => toNotificationBody(await notifications.get(requireActor(request), notificationIdOf(request.params.id))));

  app.patch(`${base}/:id/read`, {
    schema: {
      operationId: 'markNotificationRead',
      tags,
      summary: 'Mark one of your notifications read',
      security: bearer,
      params: NotificationParams,
      response: { 200: NotificationSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => toNotificationBody(await notifications.markRead(requireActor(request), notificationIdOf(request.params.id))));
};
