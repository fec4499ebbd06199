import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../../domain/errors.js';
import type { OrganizationStore } from '../organizations/organization-store.js';
import {
  builtInRole,
  isPermission,
  permissions as vocabulary,
  platformRoles,
  type Permission,
  type PlatformRole,
  type RoleDefinition,
} from './permissions.js';
import type { RoleStore } from './role-store.js';

type Db = Kysely<Database> | Transaction<Database>;

/** What the actor may do in one organisation, as established by `AccessService.require`. */
export interface AccessGrant {
  organizationId: number;
  /** The member behind the grant; null for machine credentials and the system. */
  userId: number | null;
  /** The member's role key; null for machine credentials and the system. */
  role: string | null;
  /** Effective permissions: the role's, narrowed by the token's scopes. */
  permissions: ReadonlySet<Permission>;
}

/**
 * The permissions a token scope grants. A scope of the vocabulary grants itself, and a `x:write`
 * scope also grants `x:read` (a client that may change flags may see them). Anything else (e.g.
 * `openid`) grants nothing.
 */
export function scopePermissions(scope: string): Permission[] {
  if (!isPermission(scope)) return [];
  const out: Permission[] = [scope];
  if (scope.endsWith(':write')) {
    const read = scope.replace(/:write$/, ':read');
    if (isPermission(read)) out.push(read);
  }
  return out;
}

function narrow(granted: Iterable<Permission>, scopes: readonly string[] | null): Set<Permission> {
  const set = new Set(granted);
  if (scopes === null) return set;
  const allowed = new Set(scopes.flatMap(scopePermissions));
  return new Set([...set].filter((p) => allowed.has(p)));
}

/**
 * The one place that decides whether an actor may do something in an organisation. Every service
 * calls `require` before it reads or writes organisation data. Someone outside the organisation
 * gets `NotFoundError` (it looks exactly like absence); a member lacking the permission gets
 * `ForbiddenError`. Token scopes only ever narrow what the role grants.
 */
export class AccessService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly organizations: OrganizationStore,
    private readonly roles: RoleStore,
  ) {}

  /**
   * Establishes the actor's grant in `organizationId` and checks it includes `permission`.
   * Pass `db` to read inside the caller's transaction.
   */
  async require(actor: Actor, organizationId: number | null, permission: Permission, db: Db = this.db): Promise<AccessGrant> {
    const grant = await this.grantOf(actor, organizationId, db);
    if (!grant.permissions.has(permission)) {
      throw new ForbiddenError(`You need the ${permission} permission to do this`, 'forbidden', { permission });
    }
    return grant;
  }

  /** The actor's grant in an organisation they belong to, whatever it permits (e.g. to leave it). */
  async requireMember(actor: Actor, organizationId: number | null, db: Db = this.db): Promise<AccessGrant> {
    return this.grantOf(actor, organizationId, db);
  }

  /**
   * Refuses to hand out more than the actor holds: inviting someone as, assigning, or defining a
   * role is only allowed when the actor's own grant covers every permission involved.
   */
  assertCanGrant(grant: AccessGrant, granted: Iterable<Permission>): void {
    const missing = [...new Set(granted)].filter((p) => !grant.permissions.has(p));
    if (missing.length > 0) {
      throw new ForbiddenError(
        `You cannot grant permissions you do not hold: ${missing.join(', ')}`,
        'permission_escalation',
        { missing },
      );
    }
  }

  /** A built-in role, or the organisation's custom role with this key; null when neither exists. */
  async resolveRole(organizationId: number, key: string, db: Db = this.db): Promise<RoleDefinition | null> {
    return builtInRole(key) ?? (await this.roles.findByKey(db, organizationId, key));
  }

  /** Requires a platform role at least as strong as `minimum` (`viewer` < `admin` < `super_user`). */
  requirePlatformRole(actor: Actor, minimum: PlatformRole): void {
    if (actor.kind === 'system') return;
    if (actor.kind === 'user' && actor.userId === null) throw new UnauthorizedError();
    const have = platformRoles.indexOf((actor.platformRole ?? '') as PlatformRole);
    if (have < platformRoles.indexOf(minimum)) {
      throw new ForbiddenError('This needs a platform administrator', 'forbidden', { platformRole: minimum });
    }
  }

  private async grantOf(actor: Actor, organizationId: number | null, db: Db): Promise<AccessGrant> {
    if (actor.kind === 'system') {
      if (organizationId === null || !(await this.organizations.findById(db, organizationId))) {
        throw new NotFoundError('Organization');
      }
      return { organizationId, userId: null, role: null, permissions: new Set(vocabulary) };
    }
    if (organizationId === null) throw new NotFoundError('Organization');
    if (actor.kind === 'user') {
      if (actor.userId === null) throw new UnauthorizedError();
      const membership = await this.organizations.findMembership(db, organizationId, actor.userId);
      if (!membership) throw new NotFoundError('Organization');
      const role = await this.resolveRole(organizationId, membership.role, db);
      return {
        organizationId,
        userId: actor.userId,
        role: membership.role,
        permissions: narrow(role?.permissions ?? [], actor.scopes),
      };
    }
    // Machine credentials (OAuth clients, API keys) belong to one organisation and hold exactly
    // their scopes there; they are nobody's member.
    if (actor.organizationId !== organizationId) throw new NotFoundError('Organization');
    // An API key is bound to one project and environment; the evaluation service authorises it
    // through the key map. Organisation-wide it grants nothing, so it can never reach another
    // project's flags through a route that checks permissions here.
    if (actor.kind === 'api_key') return { organizationId, userId: null, role: null, permissions: new Set() };
    return { organizationId, userId: null, role: null, permissions: narrow(vocabulary, actor.scopes ?? []) };
  }
}
