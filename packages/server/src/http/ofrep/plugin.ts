import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { allowAnyOrigin } from '../plugins/cors.js';
import { ofrepErrorHandler, ofrepFailure } from './errors.js';
import {
  OfrepBulkFailure,
  OfrepBulkHeaders,
  OfrepBulkQuery,
  OfrepBulkSuccess,
  OfrepEvaluationFailure,
  OfrepEvaluationRequest,
  OfrepEvaluationSuccess,
  OfrepFlagParams,
  OfrepGeneralError,
} from './ofrep.schemas.js';

/** Where OFREP lives; providers are configured with the server's origin as base URL. */
export const ofrepPrefix = '/ofrep/v1';


const tags = ['ofrep'];
const cors = {
  methods: ['POST'],
  allowHeaders: ['Authorization', 'X-API-Key', 'Content-Type', 'If-None-Match'],
  exposeHeaders: ['ETag', 'Retry-After'],
};
const general = { 401: OfrepGeneralError, 403: OfrepGeneralError, 429: OfrepGeneralError, 500: OfrepGeneralError, 503: OfrepGeneralError };

/** Whether `If-None-Match` names `etag` (a list, weak forms and `*` included). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((raw) => {
    const t = raw.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

/**
 * The OpenFeature Remote Evaluation Protocol (`specs/ofrep-openapi.yaml`) as one encapsulated
 * plugin: its own credential check (`Authorization: Bearer <api key>` or `X-API-Key`, identified
 * app-wide; server or sdk scope), limit, CORS and error body (`{key, errorCode, errorDetails}`).
 * Answers written before its handlers run (the shutdown gate's problem) leave in its shape too.
 */
export const ofrepPlugin: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { ofrep } = app.services;

  app.setErrorHandler(ofrepErrorHandler);
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    return reply.status(404).type('application/json; charset=utf-8').send({ errorDetails: `No OFREP endpoint ${request.method} ${request.url.split('?')[0]}` });
  });
  // CORS for browsers (the web provider).
  const { preflight } = allowAnyOrigin(app, cors);
  app.addHook('onSend', async (_request, reply, payload) => {
    const type = String(reply.getHeader('content-type') ?? '');
    if (!type.startsWith('application/problem+json')) return payload;
    reply.type('application/json; charset=utf-8');
    return JSON.stringify({ errorDetails: ofrepFailure({ statusCode: reply.statusCode }).body.errorDetails });
  });

  for (const url of ['/evaluate/flags', '/evaluate/flags/:key']) {
    app.options(url, { schema: { operationId: url.endsWith(':key') ? 'ofrepPreflightFlag' : 'ofrepPreflightBulk', tags, hide: true, response: { 204: { type: 'null' } } } }, preflight);
  }

  app.post('/evaluate/flags/:key', {
    schema: {
      operationId: 'ofrepEvaluateFlag',
      tags,
      summary: 'OFREP: evaluate one flag for a context',
      params: OfrepFlagParams,
      body: OfrepEvaluationRequest,
      response: { 200: OfrepEvaluationSuccess, 400: OfrepEvaluationFailure, 404: OfrepEvaluationFailure, ...general },
    },
  }, async (request, reply) => {
    const outcome = ofrep.evaluateFlag(request.actor, request.params.key, request.body.context);
    if (outcome.errorCode !== undefined) return reply.status(outcome.errorCode === 'FLAG_NOT_FOUND' ? 404 : 400).send(outcome as never);
    return outcome as never;
  });

  app.post('/evaluate/flags', {
    schema: {
      operationId: 'ofrepEvaluateFlagsBulk',
      tags,
      summary: "OFREP: evaluate every flag of the key's environment (ETag / If-None-Match)",
      headers: OfrepBulkHeaders,
      querystring: OfrepBulkQuery,
      body: OfrepEvaluationRequest,
      response: { 200: OfrepBulkSuccess, 304: { type: 'null', description: 'Not Modified' }, 400: OfrepBulkFailure, ...general },
    },
  }, async (request, reply) => {
    const { flags, etag } = ofrep.evaluateAll(request.actor, request.body.context);
    reply.header('ETag', etag);
    if (matchesEtag(request.headers['if-none-match'], etag)) return reply.status(304).send(null);
    return { flags } as never;
  });
};
