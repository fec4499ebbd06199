import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { problem, sendProblem } from './problem.js';
import { parseId } from './ids.js';

/** `X-Tenant-ID` as route schemas document it (the hook below enforces it first). */
export const tenantIdHeader = Type.String({ maxLength: 64, pattern: '^(tenant_)?[1-9][0-9]{0,15}$', description: 'tenant_… or the number: the tenant (organisation) the request acts in' });

/** `X-Environment`: an environment key; default `production`. */
export const environmentHeader = Type.String({ minLength: 1, maxLength: 200, description: 'Environment key (default production)' });

export interface TenantHeaderOptions {
  /** Routes where `X-Tenant-ID` may be absent (given, it is still checked): `URL` (as registered) or `METHOD URL`. */
  optional?: readonly string[];
  /** Route URLs not checked at all (the header is ignored there, as on `GET /tenants`). */
  exempt?: readonly string[];
  /** Path parameter that names the tenant too: when both are given they must agree (400 `tenant_mismatch`). */
  pathParam?: string;
}

/**
 * IntelliToggle's `X-Tenant-ID`, for an encapsulated route plugin (after `requireAuthentication`,
 * before body validation, so outsiders learn nothing from a 422): absent where required → 400
 * `tenant_required`; malformed → 400 `bad_request` naming it; a tenant the caller does not act in
 * → 404, exactly like a tenant that does not exist. The identify hook already moved the caller
 * into that tenant when it belongs there (`actor.organizationId`), so anything else means it does
 * not — there is no silent fallback to the token's organisation. Permissions are the services'.
 */
export function requireTenantHeader(app: FastifyInstance, options: TenantHeaderOptions = {}): void {
  app.addHook('preValidation', async (request, reply) => {
    const url = request.routeOptions.url ?? '';
    if (options.exempt?.includes(url)) return;
    const optional = options.optional !== undefined && (options.optional.includes(url) || options.optional.includes(`${request.method} ${url}`));
    const refused = checkTenant(request, reply, !optional, options.pathParam);
    if (refused) return refused;
  });
}

function checkTenant(request: FastifyRequest, reply: FastifyReply, required: boolean, pathParam: string | undefined): FastifyReply | null {
  const raw = request.headers['x-tenant-id'];
  if (raw === undefined || (typeof raw === 'string' && raw.trim() === '')) {
    if (!required) return null;
    return sendProblem(reply, problem(request, 400, 'tenant_required', 'This endpoint needs the X-Tenant-ID header naming your tenant', null, { 'x-tenant-id': 'is required' }));
  }
  const id = typeof raw === 'string' ? parseId('organization', raw.trim()) : null;
  if (id === null) {
    return sendProblem(reply, problem(request, 400, 'bad_request', 'X-Tenant-ID must be tenant_… or its number', { fields: { 'x-tenant-id': 'must be tenant_… or its number' } }, { 'x-tenant-id': 'must be tenant_… or its number' }));
  }
  if (request.actor?.organizationId !== id) return sendProblem(reply, problem(request, 404, 'not_found', 'Tenant not found'));
  if (pathParam !== undefined) {
    const fromPath = parseId('organization', (request.params as Record<string, string | undefined>)[pathParam]);
    if (fromPath !== null && fromPath !== id) {
      return sendProblem(reply, problem(request, 400, 'tenant_mismatch', `X-Tenant-ID names another tenant than the path's ${pathParam}`, null, { 'x-tenant-id': `must name the same tenant as ${pathParam}` }));
    }
  }
  return null;
}
