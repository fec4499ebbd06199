import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../domain/actor.js';
import { v1ErrorHandler } from '../v1/problem.js';
import { registerIdentify, requireActor, requireUser, type IdentifyContext, type Identifier } from './identify.js';

const actor = (over: Partial<Actor>): Actor => ({
  kind: 'user', userId: 1, credentialId: null, organizationId: null, role: null, platformRole: null, scopes: null, sessionId: null, ...over,
});

/** The hook itself, with stand-in identifiers: order, hand-over, failure reasons, X-Tenant-ID. */
describe('identify hook', () => {
  let app: FastifyInstance;
  const seen: IdentifyContext[] = [];
  beforeAll(async () => {
    const apiKeys: Identifier = {
      name: 'api-key',
      async identify(request) {
        const key = request.headers['x-api-key'];
        if (key === undefined) return null;
        return key === 'good' ? { actor: actor({ kind: 'api_key', userId: null, credentialId: 7 }) } : { failure: { code: 'invalid_api_key', message: 'Unknown API key' } };
      },
    };
    const fakeBearer: Identifier = {
      name: 'fake-bearer',
      async identify(request, context) {
        seen.push(context);
        if (request.headers.authorization !== 'Bearer user-token') return null;
        return { actor: actor({ organizationId: context.requestedOrganizationId }) };
      },
    };
    app = Fastify();
    app.setErrorHandler(v1ErrorHandler);
    registerIdentify(app, [apiKeys, fakeBearer]);
    app.get('/any', async (request) => ({ actor: requireActor(request) }));
    app.get('/user', async (request) => ({ userId: requireUser(request).userId }));
    app.get('/open', async (request) => ({ actor: request.actor, failure: request.authFailure }));
    await app.ready();
  });
  afterAll(async () => app.close());

  it('lets each identifier claim its own credential kind', async () => {
    const byKey = await app.inject({ url: '/any', headers: { 'x-api-key': 'good' } });
    expect(byKey.json().actor).toMatchObject({ kind: 'api_key', credentialId: 7 });
    const byToken = await app.inject({ url: '/any', headers: { authorization: 'Bearer user-token', 'x-tenant-id': 'tenant_42' } });
    expect(byToken.json().actor).toMatchObject({ kind: 'user', organizationId: 42 });
    expect(seen.at(-1)).toEqual({ requestedOrganizationId: 42 });
  });

  it('never rejects by itself: routes that do not need a caller still answer', async () => {
    const res = await app.inject({ url: '/open', headers: { 'x-api-key': 'bad' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ actor: null, failure: { code: 'invalid_api_key', message: 'Unknown API key' } });
  });

  it('requireActor answers 401 with the rejected credential\'s reason, or unauthorized without one', async () => {
    const bad = await app.inject({ url: '/any', headers: { 'x-api-key': 'bad' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject({ code: 'invalid_api_key', message: 'Unknown API key' });
    const unknownScheme = await app.inject({ url: '/any', headers: { authorization: 'Bearer something-else' } });
    expect(unknownScheme.json()).toMatchObject({ status: 401, code: 'invalid_token' });
    const none = await app.inject({ url: '/any' });
    expect(none.json()).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('requireUser refuses machine credentials', async () => {
    const res = await app.inject({ url: '/user', headers: { 'x-api-key': 'good' } });
    expect(res.statusCode).toBe(401);
    const ok = await app.inject({ url: '/user', headers: { authorization: 'Bearer user-token' } });
    expect(ok.json()).toEqual({ userId: 1 });
  });

  it('ignores a malformed X-Tenant-ID', async () => {
    await app.inject({ url: '/any', headers: { authorization: 'Bearer user-token', 'x-tenant-id': 'proj_3' } });
    expect(seen.at(-1)).toEqual({ requestedOrganizationId: null });
  });
});
