import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import AjvCompiler from '@fastify/ajv-compiler';
import { errorCodes, type FastifyBaseLogger } from 'fastify';
import secureJson from 'secure-json-parse';
import type { ApiKeyMap } from '../../evaluation/api-key-map.js';
import type { EvaluationService } from '../../evaluation/evaluation-service.js';
import type { ServerMetrics } from '../../features/operations/metrics.js';
import { ajvCustomOptions } from '../ajv-options.js';
import { identifyApiKey } from '../plugins/api-key-identifier.js';
import { rateLimitHeaders, type RateLimitCounter } from '../plugins/rate-limit.js';
import { requestIdFor } from '../request-id.js';
import { EvaluateBody } from './evaluate.schemas.js';
import { evaluatePath } from './evaluate.routes.js';
import { errorAnswer } from './problem.js';

export interface EvaluateLaneOptions {
  evaluation: EvaluationService;
  apiKeys: ApiKeyMap;
  countRateLimit: RateLimitCounter;
  metrics: ServerMetrics;
  readiness: { readonly shuttingDown: boolean };
  log: FastifyBaseLogger;
  bodyLimit: number;
}

/**
 * `POST /api/v1/evaluate` answered straight from node:http, in front of Fastify: measured, the
 * framework's hooks, routing and reply machinery cost more than identifying the key, counting
 * the rate limit and evaluating together, and evaluate is the one route SDKs call at volume.
 *
 * The lane takes only an ordinary request — JSON with a Content-Length within the body limit,
 * an `X-API-Key` (and no Authorization) that names a usable key allowed to evaluate, the server
 * not draining — and decides that from the headers alone; anything else goes to the Fastify
 * route untouched, which stays the reference (and what `inject` reaches). What the lane answers
 * is the route's answer: the same schema through Fastify's own Ajv compiler and options, the
 * same JSON parser settings, the same rate-limit counter, evaluation service and problem
 * renderer, the same headers and metrics. A test holds the two to the same responses.
 */
export interface EvaluateLane {
  /** Answers the request and returns true, or returns false having touched nothing. */
  take(req: IncomingMessage, res: ServerResponse): boolean;
  /** Requests the lane has answered (for tests and debugging). */
  readonly served: number;
}

const json = 'application/json; charset=utf-8';
const problemJson = 'application/problem+json; charset=utf-8';
// Fastify's defaults for its JSON parser (`onProtoPoisoning`, `onConstructorPoisoning`).
const parseOptions = { protoAction: 'error', constructorAction: 'error' } as const;

/** `application/json`, with or without a UTF-8 charset: the types Fastify's JSON parser takes as they are. */
function isPlainJson(contentType: string | undefined): boolean {
  if (contentType === 'application/json') return true;
  if (contentType === undefined) return false;
  const t = contentType.toLowerCase();
  return t === 'application/json' || t === 'application/json; charset=utf-8' || t === 'application/json;charset=utf-8';
}

export function createEvaluateLane(options: EvaluateLaneOptions): EvaluateLane {
  const { evaluation, apiKeys, countRateLimit, metrics, readiness, log, bodyLimit } = options;
  const validate = AjvCompiler()({}, { customOptions: ajvCustomOptions, plugins: [] })({ schema: EvaluateBody, method: 'POST', url: evaluatePath, httpPart: 'body' });
  let served = 0;
  const recordRequest = metrics.requestRecorder('POST', evaluatePath);

  const send = (res: ServerResponse, started: number, status: number, type: string, payload: string, headers: Record<string, string>): void => {
    headers['content-type'] = type;
    headers['content-length'] = String(Buffer.byteLength(payload));
    if (readiness.shuttingDown) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(payload);
    recordRequest(status, (performance.now() - started) / 1000);
  };

  const fail = (res: ServerResponse, started: number, id: string, error: unknown, headers: Record<string, string>): void => {
    const answer = errorAnswer(error, { id }, log);
    send(res, started, answer.body.status, problemJson, JSON.stringify(answer.body), Object.assign(headers, answer.headers));
  };

  return {
    get served() {
      return served;
    },
    take(req, res) {
      if (req.method !== 'POST' || req.url !== evaluatePath || readiness.shuttingDown) return false;
      const h = req.headers;
      if (h.authorization !== undefined || h['transfer-encoding'] !== undefined || h['content-encoding'] !== undefined) return false;
      if (!isPlainJson(h['content-type'])) return false;
      const length = Number(h['content-length']);
      if (!Number.isInteger(length) || length <= 0 || length > bodyLimit) return false;
      const outcome = identifyApiKey(apiKeys, h);
      if (outcome === null || !('actor' in outcome)) return false;
      const actor = outcome.actor;
      try {
        evaluation.target(actor, 'evaluate');
      } catch {
        return false;
      }

      served++;
      const started = performance.now();
      const id = requestIdFor(h);
      countRateLimit('evaluation', actor, req.socket.remoteAddress ?? '', (count, refused) => {
        const headers: Record<string, string> = count === null ? { 'x-request-id': id } : { 'x-request-id': id, ...rateLimitHeaders(count) };
        if (refused !== null) return fail(res, started, id, refused, headers);
        const chunks: Buffer[] = [];
        // No 'error' listener: an aborted upload has no one to answer, and Node emits the request's
        // 'error' only when someone listens (it closes the socket either way).
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const raw = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
          let body: { flagKey?: string; flagKeys?: string[]; context?: Record<string, unknown> };
          try {
            body = secureJson.parse(raw, parseOptions) as typeof body;
          } catch {
            return fail(res, started, id, new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), headers);
          }
          if (!validate(body)) return fail(res, started, id, { validation: validate.errors, validationContext: 'body' }, headers);
          let result: unknown;
          try {
            result = evaluation.evaluateRequest(actor, { flagKey: body.flagKey, flagKeys: body.flagKeys, context: body.context });
          } catch (error) {
            return fail(res, started, id, error, headers);
          }
          send(res, started, 200, json, JSON.stringify(result), headers);
        });
      });
      return true;
    },
  };
}
