import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { NotFoundError, UnauthorizedError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import { platformRoles } from '../access/permissions.js';
import type { UserStore } from '../identity/user-store.js';
import type { ProductTourStore } from './product-tour-store.js';

/**
 * Tour keys: a name of letters, digits and `._-` (starting with a letter or digit, at most 100),
 * optionally followed by `@` and a version of the same characters (at most 27): `main-onboarding@v1`.
 */
export const tourKeyPattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(@[A-Za-z0-9._-]{1,27})?$';
const tourKeyRegex = new RegExp(tourKeyPattern);

/** A tour's status as IntelliToggle shows it; a tour never stored is not completed and has no times. */
export interface TourStatus {
  completed: boolean;
  completedAt: string | null;
  createdAt: string | null;
  updatedAt: string | null;
}

/** What `PUT` sets. */
export interface TourUpdate {
  completed: boolean;
  /** When it was completed; defaults to now for `completed: true`; must be absent or null otherwise. */
  completedAt?: string | null;
}

/** How far in the future a client clock may put `completed_at`. */
const clockSkewMs = 5 * 60 * 1000;

/**
 * Product tours per user: read, set and reset. A user reaches only their own tours; platform
 * admins (`admin`, `super_user`) reach anyone's. Anyone else's look like absence (404).
 */
export class ProductTourService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: ProductTourStore,
    private readonly users: UserStore,
    private readonly now: () => string = nowIso,
  ) {}

  async get(actor: Actor, userId: number, tourKey: string): Promise<TourStatus> {
    await this.target(actor, userId, tourKey);
    const tour = await this.store.find(this.db, userId, tourKey);
    return tour ? { completed: tour.completed, completedAt: tour.completedAt, createdAt: tour.createdAt, updatedAt: tour.updatedAt } : { completed: false, completedAt: null, createdAt: null, updatedAt: null };
  }

  async set(actor: Actor, userId: number, tourKey: string, update: TourUpdate): Promise<TourStatus> {
    await this.target(actor, userId, tourKey);
    const now = this.now();
    let completedAt: string | null = null;
    if (update.completed) {
      if (update.completedAt === undefined || update.completedAt === null) completedAt = now;
      else {
        const at = Date.parse(update.completedAt);
        if (Number.isNaN(at)) throw new ValidationError('completed_at must be an ISO-8601 date-time', { completed_at: 'must be an ISO-8601 date-time' });
        if (at > Date.parse(now) + clockSkewMs) throw new ValidationError('completed_at cannot be in the future', { completed_at: 'cannot be in the future' });
        completedAt = new Date(at).toISOString();
      }
    } else if (update.completedAt !== undefined && update.completedAt !== null) {
      throw new ValidationError('completed_at must be null when completed is false', { completed_at: 'must be null when completed is false' });
    }
    await this.db.transaction().execute(async (trx) => {
      const existing = await this.store.find(trx, userId, tourKey);
      await this.store.upsert(trx, newId(), { userId, tourKey, completed: update.completed, completedAt, createdAt: existing?.createdAt ?? now, updatedAt: now });
    });
    return this.get(actor, userId, tourKey);
  }

  /** Forgets the tour, so the user sees it again. Resetting a tour never stored is fine. */
  async reset(actor: Actor, userId: number, tourKey: string): Promise<void> {
    await this.target(actor, userId, tourKey);
    await this.store.delete(this.db, userId, tourKey);
  }

  private async target(actor: Actor, userId: number, tourKey: string): Promise<void> {
    if (actor.kind === 'user' && actor.userId === null) throw new UnauthorizedError();
    if (!tourKeyRegex.test(tourKey)) throw new ValidationError('Invalid tour key', { tourKey: 'must match ' + tourKeyPattern });
    const self = actor.kind === 'user' && actor.userId === userId;
    const admin = actor.kind === 'system' || platformRoles.indexOf((actor.platformRole ?? '') as (typeof platformRoles)[number]) >= platformRoles.indexOf('admin');
    if (!self && !admin) throw new NotFoundError('User');
    if (!self && !(await this.users.findById(this.db, userId))) throw new NotFoundError('User');
  }
}
