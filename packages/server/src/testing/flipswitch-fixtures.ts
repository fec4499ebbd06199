import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { inviteAndJoin, type JoinedUser } from './access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from './auth.js';

/** The people Flipswitch tests act as, over one organisation and a stranger's. */
export interface FlipswitchCast {
  /** Organisation admin (signed up): admin in every project. */
  owner: SignedUpUser;
  /** Organisation `viewer`: a member who may only view (Flipswitch's organisation/project member). */
  viewer: JoinedUser;
  /** Organisation `viewer` made project `admin` of `projectId` only. */
  projectAdmin: JoinedUser;
  /** Admin of another organisation. */
  stranger: SignedUpUser;
  /** A project of the owner's organisation (`key: shop`), where `projectAdmin` is admin. */
  projectId: number;
  /** Its environments by key (`development`, `staging`, `production`). */
  environments: Record<string, number>;
  /** The stranger's default project and one of its environments. */
  strangerProjectId: number;
  strangerEnvironmentId: number;
}

/** Authorization header for a cast member. */
export const as = (user: { accessToken: string }) => authHeader(user.accessToken);

/** Builds the cast over HTTP, as clients would. */
export async function flipswitchCast(app: FastifyInstance): Promise<FlipswitchCast> {
  const owner = await signUp(app, { name: 'Olive Owner' });
  const viewer = await inviteAndJoin(app, owner, 'viewer');
  const projectAdmin = await inviteAndJoin(app, owner, 'viewer');
  const stranger = await signUp(app);
  const created = await app.inject({ method: 'POST', url: '/api/admin/projects', headers: as(owner), payload: { key: 'shop', name: 'Shop' } });
  if (created.statusCode !== 201) throw new Error(`project: ${created.statusCode} ${created.body}`);
  const projectId = created.json().id as number;
  const member = await app.inject({ method: 'POST', url: `/api/v1/projects/proj_${projectId}/members`, headers: as(owner), payload: { userId: `usr_${projectAdmin.userId}`, role: 'admin' } });
  if (member.statusCode !== 200) throw new Error(`project member: ${member.statusCode} ${member.body}`);
  const envs = await app.inject({ method: 'GET', url: `/api/admin/projects/${projectId}/environments`, headers: as(owner) });
  const environments = Object.fromEntries((envs.json() as Array<{ key: string; id: number }>).map((e) => [e.key, e.id]));
  const theirs = await app.inject({ method: 'GET', url: '/api/admin/projects', headers: as(stranger) });
  const strangerProjectId = (theirs.json() as Array<{ id: number }>)[0]!.id;
  const theirEnvs = await app.inject({ method: 'GET', url: `/api/admin/projects/${strangerProjectId}/environments`, headers: as(stranger) });
  const strangerEnvironmentId = (theirEnvs.json() as Array<{ id: number }>)[0]!.id;
  return { owner, viewer, projectAdmin, stranger, projectId, environments, strangerProjectId, strangerEnvironmentId };
}

/** Asserts a Flipswitch problem+json answer and returns its body. */
export function expectProblem(res: LightMyRequestResponse, status: number, code?: string): { errors?: Record<string, string>; detail: string; code: string; details?: Record<string, unknown> } {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({ status, title: expect.any(String), type: expect.stringMatching(/^https:\/\//), detail: expect.any(String), instance: res.headers['x-request-id'] });
  if (code !== undefined) expect(body.code).toBe(code);
  expect(body).not.toHaveProperty('message');
  return body;
}
