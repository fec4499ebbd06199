import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../domain/errors.js';
import { requireUser } from '../plugins/identify.js';
import { toMeBody, toSignedInBody } from './auth.mappers.js';
import {
  JwksSchema,
  LoginBody,
  MeSchema,
  RefreshBody,
  SignedInSchema,
  SignupBody,
  SuccessSchema,
  SwitchOrganizationBody,
} from './auth.schemas.js';
import { parseId } from './ids.js';
import { ProblemSchema } from './problem.js';

const tags = ['auth'];

/** Problem responses for the given statuses, plus those any v1 route can answer (bad JSON, rate limit). */
const problems = (...statuses: number[]) =>
  Object.fromEntries([400, 429, ...statuses].map((s) => [s, ProblemSchema])) as Record<number, typeof ProblemSchema>;

/** `/api/v1/auth/*`: sign-up, login, token refresh, logout, me, switch organisation; and the JWKS. */
export const authRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { accounts, tokens } = app.services;

  // Responses carrying tokens or account data must not be cached in between (RFC 6749 §5.1);
  // this plugin is encapsulated, so the hook covers only these routes.
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store');
  });

  app.post('/api/v1/auth/signup', {
    schema: {
      operationId: 'signup',
      tags,
      summary: 'Create an account and its own organisation, and sign in',
      body: SignupBody,
      response: { 201: SignedInSchema, ...problems(403, 409, 422) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const result = await accounts.signup({ email: b.email, password: b.password, name: b.name ?? null, organizationName: b.organizationName ?? null });
    return reply.status(201).send(toSignedInBody(result, 'Signup successful'));
  });

  app.post('/api/v1/auth/login', {
    schema: {
      operationId: 'login',
      tags,
      summary: 'Sign in with email and password',
      body: LoginBody,
      response: { 200: SignedInSchema, ...problems(401, 422) },
    },
  }, async (request) => toSignedInBody(await accounts.login(request.body), 'Login successful'));

  app.post('/api/v1/auth/refresh-token', {
    schema: {
      operationId: 'refreshToken',
      tags,
      summary: 'Exchange a refresh token for new tokens (the old one stops working)',
      body: RefreshBody,
      response: { 200: SignedInSchema, ...problems(401, 422) },
    },
  }, async (request) => toSignedInBody(await accounts.refresh(request.body.refreshToken), 'Token refreshed'));

  app.post('/api/v1/auth/logout', {
    schema: {
      operationId: 'logout',
      tags,
      summary: 'End the current session',
      security: [{ bearerAuth: [] }],
      response: { 200: SuccessSchema, ...problems(401) },
    },
  }, async (request) => {
    await accounts.logout(requireUser(request));
    return { success: true };
  });

  app.get('/api/v1/auth/me', {
    schema: {
      operationId: 'getMe',
      tags,
      summary: 'The signed-in user and their memberships',
      security: [{ bearerAuth: [] }],
      response: { 200: MeSchema, ...problems(401) },
    },
  }, async (request) => toMeBody(await accounts.me(requireUser(request))));

  app.post('/api/v1/auth/switch-organization', {
    schema: {
      operationId: 'switchOrganization',
      tags,
      summary: 'New tokens acting in another organisation you belong to',
      security: [{ bearerAuth: [] }],
      body: SwitchOrganizationBody,
      response: { 200: SignedInSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request) => {
    const actor = requireUser(request);
    const organizationId = parseId('organization', String(request.body.organizationId));
    if (organizationId === null) throw new NotFoundError('Organization');
    return toSignedInBody(await accounts.switchOrganization(actor, organizationId), 'Organization switched');
  });

  app.get('/.well-known/jwks.json', {
    schema: {
      operationId: 'getJwks',
      tags,
      summary: 'Public keys that verify Switchyard access tokens',
      response: { 200: JwksSchema },
    },
  }, async (_request, reply) => {
    reply.header('Cache-Control', 'public, max-age=300');
    return tokens.jwks();
  });
};
