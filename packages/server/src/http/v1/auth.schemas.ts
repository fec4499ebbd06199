import { Type } from 'typebox';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const IdToken = Type.String({ minLength: 1, maxLength: 16384, description: 'An ID token (JWT) of a configured OIDC issuer or Firebase project' });

/**
 * `POST /api/v1/auth/signup`. Rules (length, email shape) are the service's; these are bounds.
 * Without `idToken`, `email` and `password` are required; with it, both are optional (`email`
 * must then be the token's, `password` becomes the new account's).
 */
export const SignupBody = Type.Object({
  email: Type.Optional(Type.String({ maxLength: 320, description: 'Trimmed and lower-cased before use' })),
  password: Type.Optional(Type.String({ maxLength: 1024, description: 'At least 8 characters' })),
  idToken: Type.Optional(IdToken),
  name: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
  organizationName: Type.Optional(nullable(Type.String({ maxLength: 200, description: "Defaults to \"<name>'s organization\"" }))),
});

/**
 * `POST /api/v1/auth/login`: `{email, password}` or `{idToken}`. No length rule here: a short
 * wrong password is just wrong (401).
 */
export const LoginBody = Type.Object({
  email: Type.Optional(Type.String({ maxLength: 320 })),
  password: Type.Optional(Type.String({ maxLength: 1024 })),
  idToken: Type.Optional(IdToken),
});

/** `POST /api/v1/auth/signin/{provider}`. */
export const FederatedSignInBody = Type.Object({
  idToken: IdToken,
  providerName: Type.Optional(Type.String({ maxLength: 50, description: 'When given, the provider of the path (google, github, microsoft)' })),
});

/** `POST /api/v1/auth/refresh-token`. */
export const RefreshBody = Type.Object({
  refreshToken: Type.String({ minLength: 1, maxLength: 512 }),
});

/** `POST /api/v1/auth/switch-organization`: `tenant_123` or `123`. */
export const SwitchOrganizationBody = Type.Object({
  organizationId: Type.Union([Type.String({ maxLength: 64 }), Type.Integer({ minimum: 1 })]),
});

/** IntelliToggle's documented login body, plus the tokens. Signup, refresh and switch answer it too. */
export const SignedInSchema = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  data: Type.Object({
    user: Type.Object({
      uid: Type.String({ description: 'usr_…' }),
      email: Type.String(),
      name: nullable(Type.String()),
      tenant_id: nullable(Type.String({ description: 'The active organisation, tenant_…' })),
      role: nullable(Type.String({ description: 'Role in the active organisation' })),
    }),
    subscription: Type.Object({
      plan: Type.String(),
      status: Type.String(),
      billingCycle: nullable(Type.String({ description: 'Null: self-hosted plans are not billed' })),
    }),
    tenants: Type.Array(Type.Object({ tenant_id: Type.String(), tenant_name: Type.String(), role: Type.String() })),
    active_tenant_id: nullable(Type.String()),
    active_tenant_role: nullable(Type.String()),
    canonical_tenant_id: nullable(Type.String({ description: "The user's oldest membership" })),
    canonical_role: nullable(Type.String()),
    accessToken: Type.String(),
    refreshToken: Type.String(),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ description: 'Access-token lifetime in seconds' }),
    pendingDeletion: Type.Optional(
      nullable(
        Type.Object(
          {
            scope: Type.Union([Type.Literal('account'), Type.Literal('organization')]),
            scheduledFor: Type.String({ format: 'date-time' }),
            organizationId: nullable(Type.String({ description: 'tenant_…, for an organisation' })),
          },
          { description: 'Login: a pending deletion of the account, or of an organisation of the user (the soonest); null when none' },
        ),
      ),
    ),
  }),
});

/** `GET /api/v1/auth/me`. */
export const MeSchema = Type.Object({
  user: Type.Object({
    id: Type.String(),
    email: Type.String(),
    name: nullable(Type.String()),
    emailVerified: Type.Boolean(),
    platformRole: nullable(Type.String()),
    status: Type.String(),
    createdAt: Type.String(),
    lastLoginAt: nullable(Type.String()),
  }),
  memberships: Type.Array(
    Type.Object({
      organizationId: Type.String(),
      organizationName: Type.String(),
      role: Type.String(),
      joinedAt: Type.String(),
    }),
  ),
  activeOrganizationId: nullable(Type.String()),
  activeRole: nullable(Type.String()),
});

/** `{"success": true}` */
export const SuccessSchema = Type.Object({ success: Type.Boolean() });

/** `GET /.well-known/jwks.json`. */
export const JwksSchema = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.String(),
      crv: Type.Optional(Type.String()),
      x: Type.Optional(Type.String()),
      y: Type.Optional(Type.String()),
      kid: Type.String(),
      alg: Type.String(),
      use: Type.String(),
    }),
  ),
});
