import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A project of an organisation. Flag management extends this. */
export interface Project {
  id: number;
  organizationId: number;
  key: string;
  name: string;
  description: string | null;
  color: string | null;
  isDefault: boolean;
  createdAt: string;
  updatedAt: string;
}

/** An environment of a project. */
export interface Environment {
  id: number;
  projectId: number;
  key: string;
  name: string;
  color: string | null;
  position: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * The minimal project storage organisations need to seed their default project. Decides nothing
 * about permissions; the projects feature grows it.
 */
export interface ProjectStore {
  insertProject(db: Db, project: Project): Promise<void>;
  insertEnvironment(db: Db, environment: Environment): Promise<void>;
  findDefaultProject(db: Db, organizationId: number): Promise<Project | null>;
  listProjects(db: Db, organizationId: number): Promise<Project[]>;
  /** A project's environments in position order. */
  listEnvironments(db: Db, projectId: number): Promise<Environment[]>;
  findById(db: Db, id: number): Promise<Project | null>;
  /** The project of `organizationId` with this key. */
  findByKey(db: Db, organizationId: number, key: string): Promise<Project | null>;
  updateProject(db: Db, id: number, changes: ProjectChanges): Promise<void>;
  /** Deletes the project; its environments, flags, segments and API keys go with it. */
  deleteProject(db: Db, id: number): Promise<void>;
  /**
   * Serialises writes to one project's environments for the rest of the transaction (a row lock on
   * PostgreSQL; SQLite transactions are serial anyway), so "never delete the last one" holds.
   */
  lockProject(db: Db, id: number): Promise<void>;
  findEnvironmentById(db: Db, projectId: number, id: number): Promise<Environment | null>;
  findEnvironmentByKey(db: Db, projectId: number, key: string): Promise<Environment | null>;
  updateEnvironment(db: Db, id: number, changes: EnvironmentChanges): Promise<void>;
  deleteEnvironment(db: Db, id: number): Promise<void>;
}

/** Project fields that can change; absent ones stay as they are. */
export interface ProjectChanges {
  name?: string;
  description?: string | null;
  color?: string | null;
  updatedAt: string;
}

/** Environment fields that can change; absent ones stay as they are. */
export interface EnvironmentChanges {
  name?: string;
  color?: string | null;
  updatedAt: string;
}

type ProjectRow = Database['projects'];
type EnvironmentRow = Database['environments'];

/** Maps a `projects` row to the domain type. */
export function toProject(r: ProjectRow): Project {
  return {
    id: r.id,
    organizationId: r.organization_id,
    key: r.key,
    name: r.name,
    description: r.description,
    color: r.color,
    isDefault: r.is_default === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Maps an `environments` row to the domain type. */
export function toEnvironment(r: EnvironmentRow): Environment {
  return {
    id: r.id,
    projectId: r.project_id,
    key: r.key,
    name: r.name,
    color: r.color,
    position: r.position,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Kysely implementation of `ProjectStore`. */
export class KyselyProjectStore implements ProjectStore {
  async insertProject(db: Db, p: Project): Promise<void> {
    await db
      .insertInto('projects')
      .values({
        id: p.id,
        organization_id: p.organizationId,
        key: p.key,
        name: p.name,
        description: p.description,
        color: p.color,
        is_default: p.isDefault ? 1 : 0,
        created_at: p.createdAt,
        updated_at: p.updatedAt,
      })
      .execute();
  }

  async insertEnvironment(db: Db, e: Environment): Promise<void> {
    await db
      .insertInto('environments')
      .values({
        id: e.id,
        project_id: e.projectId,
        key: e.key,
        name: e.name,
        color: e.color,
        position: e.position,
        created_at: e.createdAt,
        updated_at: e.updatedAt,
      })
      .execute();
  }

  async findDefaultProject(db: Db, organizationId: number): Promise<Project | null> {
    const row = await db
      .selectFrom('projects')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('is_default', '=', 1)
      .executeTakeFirst();
    return row ? toProject(row) : null;
  }

  async listProjects(db: Db, organizationId: number): Promise<Project[]> {
    const rows = await db
      .selectFrom('projects')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toProject);
  }

  async findById(db: Db, id: number): Promise<Project | null> {
    const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toProject(row) : null;
  }

  async findByKey(db: Db, organizationId: number, key: string): Promise<Project | null> {
    const row = await db
      .selectFrom('projects')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('key', '=', key)
      .executeTakeFirst();
    return row ? toProject(row) : null;
  }

  async updateProject(db: Db, id: number, c: ProjectChanges): Promise<void> {
    await db
      .updateTable('projects')
      .set({
        ...(c.name !== undefined ? { name: c.name } : {}),
        ...(c.description !== undefined ? { description: c.description } : {}),
        ...(c.color !== undefined ? { color: c.color } : {}),
        updated_at: c.updatedAt,
      })
      .where('id', '=', id)
      .execute();
  }

  async deleteProject(db: Db, id: number): Promise<void> {
    await db.deleteFrom('projects').where('id', '=', id).execute();
  }

  async lockProject(db: Db, id: number): Promise<void> {
    // A no-op update takes the row lock on PostgreSQL and is harmless on SQLite.
    await db.updateTable('projects').set((eb) => ({ id: eb.ref('id') })).where('id', '=', id).execute();
  }

  async findEnvironmentById(db: Db, projectId: number, id: number): Promise<Environment | null> {
    const row = await db.selectFrom('environments').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    return row ? toEnvironment(row) : null;
  }

  async findEnvironmentByKey(db: Db, projectId: number, key: string): Promise<Environment | null> {
    const row = await db.selectFrom('environments').selectAll().where('project_id', '=', projectId).where('key', '=', key).executeTakeFirst();
    return row ? toEnvironment(row) : null;
  }

  async updateEnvironment(db: Db, id: number, c: EnvironmentChanges): Promise<void> {
    await db
      .updateTable('environments')
      .set({
        ...(c.name !== undefined ? { name: c.name } : {}),
        ...(c.color !== undefined ? { color: c.color } : {}),
        updated_at: c.updatedAt,
      })
      .where('id', '=', id)
      .execute();
  }

  async deleteEnvironment(db: Db, id: number): Promise<void> {
    await db.deleteFrom('environments').where('id', '=', id).execute();
  }

  async listEnvironments(db: Db, projectId: number): Promise<Environment[]> {
    const rows = await db
      .selectFrom('environments')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('position', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toEnvironment);
  }
}
