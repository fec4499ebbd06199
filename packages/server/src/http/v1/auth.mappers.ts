import type { AccountOverview, SignedIn } from '../../features/identity/account-service.js';
import { formatId } from './ids.js';

/** The documented login body for a signed-in session. */
export function toSignedInBody(s: SignedIn, message: string) {
  const active = s.memberships.find((m) => m.organizationId === s.activeOrganizationId) ?? null;
  const canonical = s.memberships[0] ?? null;
  const activeTenantId = active ? formatId('organization', active.organizationId) : null;
  return {
    success: true,
    message,
    data: {
      user: {
        uid: formatId('user', s.user.id),
        email: s.user.email,
        name: s.user.name,
        tenant_id: activeTenantId,
        role: active?.role ?? null,
      },
      subscription: {
        plan: active?.organization.plan ?? 'self-hosted',
        status: 'active',
        billingCycle: null,
      },
      tenants: s.memberships.map((m) => ({
        tenant_id: formatId('organization', m.organizationId),
        tenant_name: m.organization.name,
        role: m.role,
      })),
      active_tenant_id: activeTenantId,
      active_tenant_role: active?.role ?? null,
      canonical_tenant_id: canonical ? formatId('organization', canonical.organizationId) : null,
      canonical_role: canonical?.role ?? null,
      accessToken: s.accessToken,
      refreshToken: s.refreshToken,
      tokenType: 'Bearer' as const,
      expiresIn: s.expiresIn,
      ...(s.pendingDeletion !== undefined
        ? {
            pendingDeletion:
              s.pendingDeletion === null
                ? null
                : {
                    scope: s.pendingDeletion.scope,
                    scheduledFor: s.pendingDeletion.scheduledFor,
                    organizationId: s.pendingDeletion.organizationId === null ? null : formatId('organization', s.pendingDeletion.organizationId),
                  },
          }
        : {}),
    },
  };
}

/** `GET /auth/me`. */
export function toMeBody(o: AccountOverview) {
  return {
    user: {
      id: formatId('user', o.user.id),
      email: o.user.email,
      name: o.user.name,
      emailVerified: o.user.emailVerified,
      platformRole: o.platformRole,
      status: o.user.status,
      createdAt: o.user.createdAt,
      lastLoginAt: o.user.lastLoginAt,
    },
    memberships: o.memberships.map((m) => ({
      organizationId: formatId('organization', m.organizationId),
      organizationName: m.organization.name,
      role: m.role,
      joinedAt: m.createdAt,
    })),
    activeOrganizationId: o.activeOrganizationId === null ? null : formatId('organization', o.activeOrganizationId),
    activeRole: o.activeRole,
  };
}
