import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { signInProviders } from '../../features/identity/external-sign-in-service.js';
import { requireUser } from '../plugins/identify.js';
import { toMeBody, toSignedInBody } from './auth.mappers.js';
import {
  FederatedSignInBody,
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

/** The fields a password sign-up or login needs when no `idToken` is sent: 422 naming each missing one. */
function required<T extends Record<string, unknown>, K extends keyof T & string>(body: T, keys: readonly K[]): T & Record<K, string> {
  const missing = keys.filter((k) => typeof body[k] !== 'string');
  if (missing.length > 0) {
    throw new ValidationError(`Invalid body: ${missing.map((k) => `${k} is required`).join('; ')} (or send idToken)`, Object.fromEntries(missing.map((k) => [k, 'is required'])));
  }
  return body as T & Record<K, string>;
}

/** `/api/v1/auth/*`: sign-up, login, token refresh, logout, me, switch organisation; and the JWKS. */
export const authRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { accounts, tokens, externalSignIn } = app.services;

  // Responses carrying tokens or account data must not be cached in between (RFC 6749 §5.1);
  // this plugin is encapsulated, so the hook covers only these routes.
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store');
  });

  app.post('/api/v1/auth/signup', {
    schema: {
      operationId: 'signup',
      tags,
      summary: 'Create an account and its own organisation, and sign in; with idToken, bootstrap an external (OIDC/Firebase) account (200 when it already existed)',
      body: SignupBody,
      response: { 200: SignedInSchema, 201: SignedInSchema, ...problems(401, 403, 409, 422, 503) },
    },
  }, async (request, reply) => {
    const b = request.body;
    if (b.idToken !== undefined) {
      const { signedIn, created } = await externalSignIn.signIn({
        idToken: b.idToken,
        provider: null,
        email: b.email ?? null,
        password: b.password ?? null,
        name: b.name ?? null,
        organizationName: b.organizationName ?? null,
      });
      return reply.status(created ? 201 : 200).send(toSignedInBody(signedIn, created ? 'Signup successful' : 'Login successful'));
    }
    const p = required(b, ['email', 'password']);
    const result = await accounts.signup({ email: p.email, password: p.password, name: b.name ?? null, organizationName: b.organizationName ?? null });
    return reply.status(201).send(toSignedInBody(result, 'Signup successful'));
  });

  app.post('/api/v1/auth/login', {
    schema: {
      operationId: 'login',
      tags,
      summary: 'Sign in with email and password, or with an external ID token (idToken; the first sign-in creates the account)',
      body: LoginBody,
      response: { 200: SignedInSchema, ...problems(401, 403, 422, 503) },
    },
  }, async (request) => {
    const b = request.body;
    if (b.idToken !== undefined) return toSignedInBody((await externalSignIn.signIn({ idToken: b.idToken, provider: null })).signedIn, 'Login successful');
    return toSignedInBody(await accounts.login(required(b, ['email', 'password'])), 'Login successful');
  });

  for (const provider of signInProviders) {
    app.post(`/api/v1/auth/signin/${provider}`, {
      schema: {
        operationId: `signInWith${provider[0]!.toUpperCase()}${provider.slice(1)}`,
        tags,
        summary: `Sign in with a ${provider} account: an ID token of the configured OIDC issuer or Firebase project (the first sign-in creates the account)`,
        body: FederatedSignInBody,
        response: { 200: SignedInSchema, ...problems(401, 403, 422, 503) },
      },
    }, async (request) => {
      const b = request.body;
      if (b.providerName !== undefined && b.providerName.trim().toLowerCase() !== provider) {
        throw new ValidationError(`providerName must be ${provider} on this route`, { providerName: `must be ${provider} (or left out) on /signin/${provider}` });
      }
      return toSignedInBody((await externalSignIn.signIn({ idToken: b.idToken, provider })).signedIn, 'Login successful');
    });
  }

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
