import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Flat extra data of a notification (FCM carries data as strings; we keep the types). */
export type NotificationData = Record<string, string | number | boolean>;

/** One notification for one user. */
export interface Notification {
  id: number;
  userId: number;
  organizationId: number | null;
  type: string;
  title: string;
  body: string | null;
  icon: string | null;
  actionType: string | null;
  referenceId: string | null;
  data: NotificationData | null;
  readAt: string | null;
  createdAt: string;
}

/** A device registered for push. */
export interface DeviceToken {
  id: number;
  userId: number;
  token: string;
  deviceName: string | null;
  deviceType: string;
  createdAt: string;
  updatedAt: string;
  lastDeliveredAt: string | null;
}

/** The recorded outcome of one push. */
export interface Delivery {
  id: number;
  notificationId: number;
  deviceTokenId: number | null;
  provider: string;
  status: 'delivered' | 'failed' | 'undelivered';
  providerMessageId: string | null;
  error: string | null;
  createdAt: string;
}

/** Reads and writes notifications, device tokens and deliveries. Decides nothing. */
export interface NotificationStore {
  insert(db: Db, notifications: readonly Notification[]): Promise<void>;
  /** Newest first. */
  list(db: Db, userId: number, query: { unreadOnly: boolean; limit: number; offset: number }): Promise<Notification[]>;
  count(db: Db, userId: number, unreadOnly: boolean): Promise<number>;
  find(db: Db, userId: number, id: number): Promise<Notification | null>;
  /** Marks one unread notification read; false when it was already read (or is not the user's). */
  markRead(db: Db, userId: number, id: number, at: string): Promise<boolean>;
  markAllRead(db: Db, userId: number, at: string): Promise<number>;
  deleteAll(db: Db, userId: number): Promise<number>;
  listTokens(db: Db, userId: number): Promise<DeviceToken[]>;
  findToken(db: Db, token: string): Promise<DeviceToken | null>;
  insertToken(db: Db, token: DeviceToken): Promise<void>;
  /** Re-registers an existing token (possibly for another user now: one device, one user). */
  updateToken(db: Db, id: number, changes: { userId: number; deviceName: string | null; deviceType: string; updatedAt: string }): Promise<void>;
  deleteToken(db: Db, userId: number, token: string): Promise<boolean>;
  deleteTokenById(db: Db, id: number): Promise<void>;
  markTokenDelivered(db: Db, id: number, at: string): Promise<void>;
  insertDelivery(db: Db, delivery: Delivery): Promise<void>;
  listDeliveries(db: Db, notificationId: number): Promise<Delivery[]>;
  /** Active members of the organisation with their role keys. */
  activeMembers(db: Db, organizationId: number): Promise<Array<{ userId: number; role: string }>>;
  /** Active users holding a project role in the project. */
  activeProjectMembers(db: Db, projectId: number): Promise<number[]>;
}

type Row = Database['notifications'];
type TokenRow = Database['device_tokens'];

function toNotification(r: Row): Notification {
  return {
    id: r.id,
    userId: r.user_id,
    organizationId: r.organization_id,
    type: r.type,
    title: r.title,
    body: r.body,
    icon: r.icon,
    actionType: r.action_type,
    referenceId: r.reference_id,
    data: r.data === null ? null : (JSON.parse(r.data) as NotificationData),
    readAt: r.read_at,
    createdAt: r.created_at,
  };
}

function toToken(r: TokenRow): DeviceToken {
  return { id: r.id, userId: r.user_id, token: r.token, deviceName: r.device_name, deviceType: r.device_type, createdAt: r.created_at, updatedAt: r.updated_at, lastDeliveredAt: r.last_delivered_at };
}

/** Kysely implementation of `NotificationStore`. */
export class KyselyNotificationStore implements NotificationStore {
  async insert(db: Db, notifications: readonly Notification[]): Promise<void> {
    if (notifications.length === 0) return;
    await db
      .insertInto('notifications')
      .values(
        notifications.map((n) => ({
          id: n.id,
          user_id: n.userId,
          organization_id: n.organizationId,
          type: n.type,
          title: n.title,
          body: n.body,
          icon: n.icon,
          action_type: n.actionType,
          reference_id: n.referenceId,
          data: n.data === null ? null : JSON.stringify(n.data),
          read_at: n.readAt,
          created_at: n.createdAt,
        })),
      )
      .execute();
  }

  async list(db: Db, userId: number, query: { unreadOnly: boolean; limit: number; offset: number }): Promise<Notification[]> {
    let q = db.selectFrom('notifications').selectAll().where('user_id', '=', userId);
    if (query.unreadOnly) q = q.where('read_at', 'is', null);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).offset(query.offset).execute();
    return rows.map(toNotification);
  }

  async count(db: Db, userId: number, unreadOnly: boolean): Promise<number> {
    let q = db.selectFrom('notifications').where('user_id', '=', userId);
    if (unreadOnly) q = q.where('read_at', 'is', null);
    const row = await q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async find(db: Db, userId: number, id: number): Promise<Notification | null> {
    const row = await db.selectFrom('notifications').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    return row ? toNotification(row) : null;
  }

  async markRead(db: Db, userId: number, id: number, at: string): Promise<boolean> {
    const r = await db.updateTable('notifications').set({ read_at: at }).where('user_id', '=', userId).where('id', '=', id).where('read_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async markAllRead(db: Db, userId: number, at: string): Promise<number> {
    const r = await db.updateTable('notifications').set({ read_at: at }).where('user_id', '=', userId).where('read_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async deleteAll(db: Db, userId: number): Promise<number> {
    const r = await db.deleteFrom('notifications').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async listTokens(db: Db, userId: number): Promise<DeviceToken[]> {
    const rows = await db.selectFrom('device_tokens').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toToken);
  }

  async findToken(db: Db, token: string): Promise<DeviceToken | null> {
    const row = await db.selectFrom('device_tokens').selectAll().where('token', '=', token).executeTakeFirst();
    return row ? toToken(row) : null;
  }

  async insertToken(db: Db, t: DeviceToken): Promise<void> {
    await db
      .insertInto('device_tokens')
      .values({ id: t.id, user_id: t.userId, token: t.token, device_name: t.deviceName, device_type: t.deviceType, created_at: t.createdAt, updated_at: t.updatedAt, last_delivered_at: t.lastDeliveredAt })
      .execute();
  }

  async updateToken(db: Db, id: number, c: { userId: number; deviceName: string | null; deviceType: string; updatedAt: string }): Promise<void> {
    await db.updateTable('device_tokens').set({ user_id: c.userId, device_name: c.deviceName, device_type: c.deviceType, updated_at: c.updatedAt }).where('id', '=', id).execute();
  }

  async deleteToken(db: Db, userId: number, token: string): Promise<boolean> {
    const r = await db.deleteFrom('device_tokens').where('user_id', '=', userId).where('token', '=', token).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async deleteTokenById(db: Db, id: number): Promise<void> {
    await db.deleteFrom('device_tokens').where('id', '=', id).execute();
  }

  async markTokenDelivered(db: Db, id: number, at: string): Promise<void> {
    await db.updateTable('device_tokens').set({ last_delivered_at: at }).where('id', '=', id).execute();
  }

  async insertDelivery(db: Db, d: Delivery): Promise<void> {
    await db
      .insertInto('notification_deliveries')
      .values({ id: d.id, notification_id: d.notificationId, device_token_id: d.deviceTokenId, provider: d.provider, status: d.status, provider_message_id: d.providerMessageId, error: d.error, created_at: d.createdAt })
      .execute();
  }

  async listDeliveries(db: Db, notificationId: number): Promise<Delivery[]> {
    const rows = await db.selectFrom('notification_deliveries').selectAll().where('notification_id', '=', notificationId).orderBy('created_at').execute();
    return rows.map((r) => ({
      id: r.id,
      notificationId: r.notification_id,
      deviceTokenId: r.device_token_id,
      provider: r.provider,
      status: r.status as Delivery['status'],
      providerMessageId: r.provider_message_id,
      error: r.error,
      createdAt: r.created_at,
    }));
  }

  async activeMembers(db: Db, organizationId: number): Promise<Array<{ userId: number; role: string }>> {
    const rows = await db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['memberships.user_id', 'memberships.role'])
      .where('memberships.organization_id', '=', organizationId)
      .where('users.status', '=', 'active')
      .execute();
    return rows.map((r) => ({ userId: r.user_id, role: r.role }));
  }

  async activeProjectMembers(db: Db, projectId: number): Promise<number[]> {
    const rows = await db
      .selectFrom('project_members')
      .innerJoin('users', 'users.id', 'project_members.user_id')
      .select('project_members.user_id')
      .where('project_members.project_id', '=', projectId)
      .where('users.status', '=', 'active')
      .execute();
    return rows.map((r) => r.user_id);
  }
}
