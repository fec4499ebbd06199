import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { ConfigChange } from '../../evaluation/change-bus.js';
import type { AccessService } from '../access/access-service.js';
import type { FlagStore } from '../flags/flag-store.js';
import type { UserStore } from '../identity/user-store.js';
import type { OrganizationStore } from '../organizations/organization-store.js';
import type { ProjectStore } from '../projects/project-store.js';
import type { DeviceToken, Notification, NotificationData, NotificationStore } from './notification-store.js';
import type { PushMessage, PushSender } from './push-sender.js';

/** Device kinds a token may be registered for. */
export const deviceTypes = ['web', 'ios', 'android'] as const;
export type DeviceType = (typeof deviceTypes)[number];

/** Device tokens: the characters FCM and APNs tokens use, at most 512. */
export const deviceTokenPattern = '^[A-Za-z0-9_:.~+=-]{1,512}$';

/** One page of the caller's notifications, with the totals IntelliToggle shows. */
export interface NotificationPage {
  items: Notification[];
  totalCount: number;
  unreadCount: number;
}

/** `POST /notifications/send`: to one user, every member of a tenant, or one user about a tenant. */
export interface SendInput {
  userId?: number;
  organizationId?: number;
  title: string;
  body?: string | null;
  type?: string;
  icon?: string | null;
  actionType?: string | null;
  referenceId?: string | null;
  data?: NotificationData | null;
}

export interface RegisterDeviceInput {
  deviceToken: string;
  deviceName?: string | null;
  deviceType: string;
}

type UserActor = Actor & { userId: number };

function requireUser(actor: Actor): UserActor {
  if (actor.kind === 'user') {
    if (actor.userId === null) throw new UnauthorizedError();
    return actor as UserActor;
  }
  throw new ForbiddenError('Notifications belong to people: this needs a user token', 'user_token_required');
}

function text(value: string | null | undefined, field: string, max: number, fields: Record<string, string>): string | null {
  if (value === undefined || value === null) return null;
  const t = value.trim();
  if (t.length > max) fields[field] = `must be at most ${max} characters`;
  return t.length === 0 ? null : t;
}

/**
 * Notifications of the signed-in user (list, read, clear), their push devices, notifications sent
 * by platform admins, and — off the write's critical path — a notification to everyone else with
 * access to a project when one of its flags changes. New notifications are pushed to the
 * recipient's devices through the push adapter (FCM, or recorded as undelivered), and every
 * delivery's outcome is recorded.
 */
export class NotificationService {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: NotificationStore,
    private readonly users: UserStore,
    private readonly organizations: OrganizationStore,
    private readonly projects: ProjectStore,
    private readonly flags: FlagStore,
    private readonly access: AccessService,
    private readonly push: PushSender,
    private readonly onBackgroundError: (error: unknown, what: string) => void = () => {},
  ) {}

  async list(actor: Actor, query: { limit?: number; offset?: number; unreadOnly?: boolean } = {}): Promise<NotificationPage> {
    const { userId } = requireUser(actor);
    const unreadOnly = query.unreadOnly ?? false;
    const [items, totalCount, unreadCount] = await Promise.all([
      this.store.list(this.db, userId, { unreadOnly, limit: query.limit ?? 20, offset: query.offset ?? 0 }),
      this.store.count(this.db, userId, unreadOnly),
      this.store.count(this.db, userId, true),
    ]);
    return { items, totalCount, unreadCount };
  }

  async get(actor: Actor, id: number): Promise<Notification> {
    const { userId } = requireUser(actor);
    const n = await this.store.find(this.db, userId, id);
    if (!n) throw new NotFoundError('Notification');
    return n;
  }

  /** Marks it read (already read stays as it was). */
  async markRead(actor: Actor, id: number): Promise<Notification> {
    const { userId } = requireUser(actor);
    await this.store.markRead(this.db, userId, id, nowIso());
    return this.get(actor, id);
  }

  /** Marks every unread notification of the caller read; returns how many. */
  async markAllRead(actor: Actor): Promise<number> {
    return this.store.markAllRead(this.db, requireUser(actor).userId, nowIso());
  }

  /** Deletes every notification of the caller; returns how many. */
  async clear(actor: Actor): Promise<number> {
    return this.store.deleteAll(this.db, requireUser(actor).userId);
  }

  async listDevices(actor: Actor): Promise<DeviceToken[]> {
    return this.store.listTokens(this.db, requireUser(actor).userId);
  }

  /**
   * Registers a device token for the caller; registering it again updates its name and type. A
   * token registered by someone else moves to the caller (the device signed in as them now).
   */
  async registerDevice(actor: Actor, input: RegisterDeviceInput): Promise<{ device: DeviceToken; created: boolean }> {
    const { userId } = requireUser(actor);
    const fields: Record<string, string> = {};
    if (!new RegExp(deviceTokenPattern).test(input.deviceToken)) fields.deviceToken = 'must be 1 to 512 letters, digits or _:.~+=- characters';
    if (!(deviceTypes as readonly string[]).includes(input.deviceType)) fields.deviceType = 'must be web, ios or android';
    const deviceName = text(input.deviceName, 'deviceName', 200, fields);
    if (Object.keys(fields).length > 0) throw new ValidationError('The device token is invalid', fields);
    return this.db.transaction().execute(async (trx) => {
      const now = nowIso();
      const existing = await this.store.findToken(trx, input.deviceToken);
      if (existing) {
        await this.store.updateToken(trx, existing.id, { userId, deviceName, deviceType: input.deviceType, updatedAt: now });
        return { device: { ...existing, userId, deviceName, deviceType: input.deviceType, updatedAt: now }, created: false };
      }
      const device: DeviceToken = { id: newId(), userId, token: input.deviceToken, deviceName, deviceType: input.deviceType, createdAt: now, updatedAt: now, lastDeliveredAt: null };
      await this.store.insertToken(trx, device);
      return { device, created: true };
    });
  }

  /** Forgets one of the caller's device tokens (404 for a token that is not theirs). */
  async deleteDevice(actor: Actor, token: string): Promise<void> {
    if (!(await this.store.deleteToken(this.db, requireUser(actor).userId, token))) throw new NotFoundError('Device token');
  }

  /**
   * A platform admin's notification: to `userId`, to every member of `organizationId`, or to
   * `userId` about `organizationId` (who must then be a member). Pushed in the background.
   */
  async send(actor: Actor, input: SendInput): Promise<{ notificationIds: number[] }> {
    this.access.requirePlatformRole(actor, 'admin');
    const fields: Record<string, string> = {};
    const title = text(input.title, 'title', 200, fields);
    if (title === null) fields.title = 'must not be empty';
    const body = text(input.body, 'body', 2000, fields);
    const type = text(input.type, 'type', 64, fields) ?? 'system';
    const icon = text(input.icon, 'icon', 200, fields);
    const actionType = text(input.actionType, 'actionType', 64, fields);
    const referenceId = text(input.referenceId, 'referenceId', 200, fields);
    if (input.userId === undefined && input.organizationId === undefined) fields.userId = 'userId or tenantId is required';
    if (input.data && JSON.stringify(input.data).length > 4000) fields.data = 'must be at most 4000 characters of JSON';
    if (Object.keys(fields).length > 0) throw new ValidationError('The notification is invalid', fields);

    let recipients: number[];
    if (input.organizationId !== undefined) {
      if (!(await this.organizations.findById(this.db, input.organizationId))) throw new NotFoundError('Tenant');
      const members = (await this.store.activeMembers(this.db, input.organizationId)).map((m) => m.userId);
      if (input.userId !== undefined && !members.includes(input.userId)) {
        throw new ValidationError('The user is not a member of that tenant', { userId: 'is not a member of tenantId' });
      }
      recipients = input.userId !== undefined ? [input.userId] : members;
    } else {
      const user = await this.users.findById(this.db, input.userId!);
      if (!user) throw new NotFoundError('User');
      recipients = [user.id];
    }
    const now = nowIso();
    const notifications: Notification[] = recipients.map((userId) => ({
      id: newId(),
      userId,
      organizationId: input.organizationId ?? null,
      type,
      title: title!,
      body,
      icon,
      actionType,
      referenceId,
      data: input.data ?? null,
      readAt: null,
      createdAt: now,
    }));
    await this.store.insert(this.db, notifications);
    this.background('push delivery', () => this.deliver(notifications));
    return { notificationIds: notifications.map((n) => n.id) };
  }

  /**
   * The change bus listener: a flag change becomes a notification for everyone else with access
   * to its project. Only queued here — the write that published it does not wait for it.
   */
  onConfigChange(change: ConfigChange): void {
    if (change.entity !== 'flag' || change.key === null) return;
    // Another instance's write (relayed between instances) was notified about by that instance.
    if ((change as ConfigChange & { remote?: boolean }).remote) return;
    this.background('flag change notification', () => this.notifyFlagChange(change));
  }

  /** Resolves once every queued notification and delivery has been handled (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.queue;
  }

  private background(what: string, task: () => Promise<void>): void {
    this.pending++;
    this.queue = this.queue
      .then(task)
      .catch((error: unknown) => this.onBackgroundError(error, what))
      .finally(() => {
        this.pending--;
      });
  }

  private async notifyFlagChange(change: ConfigChange): Promise<void> {
    const key = change.key!;
    const project = await this.projects.findById(this.db, change.projectId);
    if (!project) return;
    const recipients = (await this.peopleWithAccess(change.organizationId, change.projectId)).filter((id) => id !== (change.actorUserId ?? null));
    if (recipients.length === 0) return;
    const flag = change.action === 'deleted' ? null : await this.flags.findByKey(this.db, project.id, key);
    const who = change.actorUserId ? await this.users.findById(this.db, change.actorUserId) : null;
    const by = who ? ` by ${who.name ?? who.email}` : '';
    const what = change.action === 'created' ? 'created' : change.action === 'deleted' ? 'deleted' : 'changed';
    const now = nowIso();
    const data: NotificationData = { projectId: `proj_${project.id}`, flagKey: key, action: change.action };
    if (change.environmentIds !== 'all') data.environmentIds = change.environmentIds.join(',');
    const notifications: Notification[] = recipients.map((userId) => ({
      id: newId(),
      userId,
      organizationId: change.organizationId,
      type: 'flag_change',
      title: `Flag "${key}" ${what}`,
      body: `The flag "${key}" in project ${project.name} was ${what}${by}.`,
      icon: 'flag',
      actionType: 'link',
      referenceId: flag ? `flag_${flag.id}` : null,
      data,
      readAt: null,
      createdAt: now,
    }));
    await this.store.insert(this.db, notifications);
    await this.deliver(notifications);
  }

  /** Active members whose organisation role reads flags there, and everyone with a project role. */
  private async peopleWithAccess(organizationId: number, projectId: number): Promise<number[]> {
    const out = new Set<number>();
    const roles = new Map<string, boolean>();
    for (const m of await this.store.activeMembers(this.db, organizationId)) {
      if (!roles.has(m.role)) {
        const role = await this.access.resolveRole(organizationId, m.role);
        roles.set(m.role, role?.permissions.includes('flags:read') ?? false);
      }
      if (roles.get(m.role)) out.add(m.userId);
    }
    for (const userId of await this.store.activeProjectMembers(this.db, projectId)) out.add(userId);
    return [...out];
  }

  private async deliver(notifications: readonly Notification[]): Promise<void> {
    const tokens = new Map<number, DeviceToken[]>();
    for (const n of notifications) {
      let devices = tokens.get(n.userId);
      if (!devices) tokens.set(n.userId, (devices = await this.store.listTokens(this.db, n.userId)));
      const message: PushMessage = {
        title: n.title,
        body: n.body,
        data: { notificationId: `ntf_${n.id}`, type: n.type, ...Object.fromEntries(Object.entries(n.data ?? {}).map(([k, v]) => [k, String(v)])) },
      };
      for (const device of [...devices]) {
        const outcome = await this.push.send(device.token, message);
        const at = nowIso();
        await this.store.insertDelivery(this.db, {
          id: newId(),
          notificationId: n.id,
          deviceTokenId: device.id,
          provider: this.push.provider,
          status: outcome.status,
          providerMessageId: outcome.providerMessageId ?? null,
          error: outcome.error ?? null,
          createdAt: at,
        });
        if (outcome.status === 'delivered') await this.store.markTokenDelivered(this.db, device.id, at);
        // FCM says the app was uninstalled or the token is bogus: stop pushing to it.
        if (outcome.invalidToken) {
          await this.store.deleteTokenById(this.db, device.id);
          devices.splice(devices.indexOf(device), 1);
        }
      }
    }
  }
}
