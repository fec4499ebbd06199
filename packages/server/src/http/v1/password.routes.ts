import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireActor } from '../plugins/identify.js';
import { SuccessSchema } from './auth.schemas.js';
import { bearer, problems } from './access.schemas.js';

const tags = ['auth'];

export const ForgotPasswordBody = Type.Object({ email: Type.String({ maxLength: 320 }) }, { additionalProperties: false });
export const ResetPasswordBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 512, description: 'The token of the mailed link (…/reset-password?token=…)' }),
    newPassword: Type.String({ maxLength: 1024, description: 'At least 8 characters' }),
  },
  { additionalProperties: false },
);
export const UpdatePasswordBody = Type.Object(
  {
    currentPassword: Type.String({ maxLength: 1024 }),
    newPassword: Type.String({ maxLength: 1024, description: 'At least 8 characters' }),
  },
  { additionalProperties: false },
);
const ForgotPasswordSchema = Type.Object({ success: Type.Boolean(), message: Type.String() });

/** The one answer to forgot-password, whether or not the account exists. */
export const forgotPasswordAnswer = {
  success: true,
  message: 'If an account with this email exists, a link to reset its password has been sent to it.',
} as const;

/** `/api/v1/auth/forgot-password`, `/reset-password`, `/update-password`. */
export const passwordRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { passwords } = app.services;

  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store');
  });

  app.post('/api/v1/auth/forgot-password', {
    schema: {
      operationId: 'forgotPassword',
      tags,
      summary: 'Mail a single-use password-reset link (valid 1 hour); the same 200 whether or not the account exists',
      body: ForgotPasswordBody,
      response: { 200: ForgotPasswordSchema, ...problems(422) },
    },
  }, async (request) => {
    await passwords.forgot(request.body.email);
    return forgotPasswordAnswer;
  });

  app.post('/api/v1/auth/reset-password', {
    schema: {
      operationId: 'resetPassword',
      tags,
      summary: 'Set a new password with the mailed token (once, within the hour); ends every session of the account',
      body: ResetPasswordBody,
      response: { 200: SuccessSchema, ...problems(404, 422) },
    },
  }, async (request) => {
    await passwords.reset(request.body.token, request.body.newPassword);
    return { success: true };
  });

  app.post('/api/v1/auth/update-password', {
    schema: {
      operationId: 'updatePassword',
      tags,
      summary: 'Change your password (currentPassword checked, 403 invalid_current_password); ends your other sessions',
      security: bearer,
      body: UpdatePasswordBody,
      response: { 200: SuccessSchema, ...problems(401, 403, 422) },
    },
    // 401 before the body is looked at.
    preValidation: async (request) => {
      requireActor(request);
    },
  }, async (request) => {
    await passwords.update(requireActor(request), request.body.currentPassword, request.body.newPassword);
    return { success: true };
  });
};
