import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { UnauthorizedError } from '../../domain/errors.js';
import type { StreamSink } from '../../evaluation/stream-hub.js';
import { problems } from './access.schemas.js';
import { allowAnyOrigin } from '../plugins/cors.js';

const tags = ['sdk'];
const security: Array<Record<string, string[]>> = [{ apiKeyAuth: [] }, { bearerAuth: [] }];

/** The stream's path. */
export const streamPath = '/api/v1/stream';
/** The polled configuration's path. */
export const sdkConfigPath = '/api/v1/sdk/config';

const SdkQuery = Type.Object(
  {
    project: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Project id or key (bearer tokens only; an API key names its own)' })),
    environment: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Environment id or key (bearer tokens only)' })),
  },
  { additionalProperties: false },
);

const SdkConfigBody = Type.Object(
  {
    environment: Type.String(),
    revision: Type.Integer(),
    digest: Type.String(),
    flags: Type.Record(Type.String(), Type.Unknown()),
    segments: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { description: "The environment's engine configuration (`SdkConfig`): evaluate it with `@switchyard/engine`" },
);

/** A refused credential says why (unknown, revoked, expired) instead of a bare 401. */
function refusal(request: FastifyRequest): void {
  const failure = request.authFailure;
  if (request.actor === null && failure !== null) throw new UnauthorizedError(failure.message, failure.code);
}

/** True when `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for this header) or is `*`. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/**
 * `GET /api/v1/stream` (Server-Sent Events) and `GET /api/v1/sdk/config` (polling), with an sdk or
 * stream API key or a bearer token plus `project` and `environment`. Errors before the stream
 * opens are problem+json; once open, the stream is the service's.
 */
export const streamRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { sdkDelivery } = app.services;
  // Browser SDKs (the web provider) stream and poll from other origins: CORS on both routes, which
  // this encapsulated plugin alone serves.
  const { preflight } = allowAnyOrigin(app, {
    methods: ['GET'],
    allowHeaders: ['Authorization', 'X-API-Key', 'Last-Event-ID', 'If-None-Match', 'Cache-Control', 'X-Tenant-ID'],
    exposeHeaders: ['ETag', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'X-Request-Id'],
  });
  for (const [url, operationId] of [[streamPath, 'streamPreflight'], [sdkConfigPath, 'sdkConfigPreflight']] as const) {
    app.options(url, { schema: { operationId, tags, hide: true, response: { 204: { type: 'null' } } } }, preflight);
  }

  app.get(streamPath, {
    schema: {
      operationId: 'streamSdkConfig',
      tags,
      summary: "Follow an environment's configuration: a `put`, then `patch`/`delete` events as flags and segments change",
      description:
        'Server-Sent Events. `put` carries the whole `SdkConfig`; `patch` one flag or segment (`{kind, key, revision, digest, flag|segment}`); `delete` its key. ' +
        'Event ids are revisions (`R`, or `P.k` for all but the last event of one revision); send `Last-Event-ID` to resume. ' +
        'A `: heartbeat` comment every 15 s; on shutdown a `retry:` hint, then the stream ends; a revoked key\'s streams end at once.',
      security,
      querystring: SdkQuery,
      response: {
        200: { description: 'An event stream', content: { 'text/event-stream': { schema: Type.String() } } },
        ...problems(401, 403, 404, 422),
      },
    },
  }, async (request, reply) => {
    refusal(request);
    const { target } = await sdkDelivery.resolve(request.actor, request.query);
    const raw = reply.raw;
    let headed = false;
    const head = () => {
      if (headed) return;
      headed = true;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      });
    };
    const sink: StreamSink = {
      write: (chunk) => {
        head();
        raw.write(chunk);
      },
      get pendingBytes() {
        return raw.writableLength;
      },
      end: (chunk) => {
        head();
        raw.end(chunk);
      },
    };
    const lastEventId = request.headers['last-event-id'];
    // Throws before writing anything when the stream cannot open, so the error is still problem+json.
    const opened = sdkDelivery.open(target, sink, typeof lastEventId === 'string' ? lastEventId : undefined);
    reply.hijack();
    head();
    request.raw.socket.setNoDelay(true);
    raw.on('close', () => opened.close());
  });

  app.get(sdkConfigPath, {
    // Built field by field by the service; the schema documents it.
    serializerCompiler: () => (data) => JSON.stringify(data),
    schema: {
      operationId: 'getSdkConfig',
      tags,
      summary: "The environment's configuration for polling SDKs, with a strong ETag (304 on If-None-Match)",
      security,
      querystring: SdkQuery,
      response: {
        200: SdkConfigBody,
        304: { description: 'Not modified: the configuration still has the ETag sent in If-None-Match', type: 'null' },
        ...problems(401, 403, 404, 422),
      },
    },
  }, async (request, reply) => {
    refusal(request);
    const config = await sdkDelivery.config(request.actor, request.query);
    const etag = `"${config.digest}"`;
    reply.header('ETag', etag).header('Cache-Control', 'no-cache');
    if (matches(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
    return config;
  });
};
