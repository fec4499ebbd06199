import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The project roles: `admin` manages the project, `member` reads it. */
export const projectRoles = ['admin', 'member'] as const;
export type ProjectRole = (typeof projectRoles)[number];

/** True when `value` is a project role. */
export function isProjectRole(value: string): value is ProjectRole {
  return (projectRoles as readonly string[]).includes(value);
}

/** A user's role in one project. */
export interface ProjectMember {
  id: number;
  projectId: number;
  userId: number;
  role: ProjectRole;
  createdAt: string;
  updatedAt: string;
}

/** A project member as listed: with the user's email and name. */
export interface ProjectMemberWithUser extends ProjectMember {
  email: string;
  name: string | null;
}

/** Reads and writes `project_members`. Decides nothing about permissions. */
export interface ProjectMemberStore {
  insert(db: Db, member: ProjectMember): Promise<void>;
  find(db: Db, projectId: number, userId: number): Promise<ProjectMemberWithUser | null>;
  /** Members, oldest first. */
  list(db: Db, projectId: number, page: { limit: number; offset: number }): Promise<ProjectMemberWithUser[]>;
  count(db: Db, projectId: number): Promise<number>;
  /** The ids of the projects `userId` is a member of, within `organizationId`, with the role. */
  rolesOfUser(db: Db, organizationId: number, userId: number): Promise<Map<number, ProjectRole>>;
  updateRole(db: Db, projectId: number, userId: number, role: ProjectRole, updatedAt: string): Promise<void>;
  delete(db: Db, projectId: number, userId: number): Promise<void>;
}

type Row = Database['project_members'];

function toMember(r: Row): ProjectMember {
  return {
    id: r.id,
    projectId: r.project_id,
    userId: r.user_id,
    // Only project roles are ever written; anything else would be a bug, read as the weaker role.
    role: isProjectRole(r.role) ? r.role : 'member',
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Kysely implementation of `ProjectMemberStore`. */
export class KyselyProjectMemberStore implements ProjectMemberStore {
  async insert(db: Db, m: ProjectMember): Promise<void> {
    await db
      .insertInto('project_members')
      .values({ id: m.id, project_id: m.projectId, user_id: m.userId, role: m.role, created_at: m.createdAt, updated_at: m.updatedAt })
      .execute();
  }

  async find(db: Db, projectId: number, userId: number): Promise<ProjectMemberWithUser | null> {
    const row = await db
      .selectFrom('project_members')
      .innerJoin('users', 'users.id', 'project_members.user_id')
      .selectAll('project_members')
      .select(['users.email', 'users.name'])
      .where('project_members.project_id', '=', projectId)
      .where('project_members.user_id', '=', userId)
      .executeTakeFirst();
    return row ? { ...toMember(row), email: row.email, name: row.name } : null;
  }

  async list(db: Db, projectId: number, page: { limit: number; offset: number }): Promise<ProjectMemberWithUser[]> {
    const rows = await db
      .selectFrom('project_members')
      .innerJoin('users', 'users.id', 'project_members.user_id')
      .selectAll('project_members')
      .select(['users.email', 'users.name'])
      .where('project_members.project_id', '=', projectId)
      .orderBy('project_members.created_at', 'asc')
      .orderBy('project_members.id', 'asc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return rows.map((r) => ({ ...toMember(r), email: r.email, name: r.name }));
  }

  async count(db: Db, projectId: number): Promise<number> {
    const row = await db
      .selectFrom('project_members')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async rolesOfUser(db: Db, organizationId: number, userId: number): Promise<Map<number, ProjectRole>> {
    const rows = await db
      .selectFrom('project_members')
      .innerJoin('projects', 'projects.id', 'project_members.project_id')
      .select(['project_members.project_id', 'project_members.role'])
      .where('projects.organization_id', '=', organizationId)
      .where('project_members.user_id', '=', userId)
      .execute();
    return new Map(rows.map((r) => [r.project_id, isProjectRole(r.role) ? r.role : 'member']));
  }

  async updateRole(db: Db, projectId: number, userId: number, role: ProjectRole, updatedAt: string): Promise<void> {
    await db
      .updateTable('project_members')
      .set({ role, updated_at: updatedAt })
      .where('project_id', '=', projectId)
      .where('user_id', '=', userId)
      .execute();
  }

  async delete(db: Db, projectId: number, userId: number): Promise<void> {
    await db.deleteFrom('project_members').where('project_id', '=', projectId).where('user_id', '=', userId).execute();
  }
}
