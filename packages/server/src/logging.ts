import type { FastifyRequest } from 'fastify';
import type { DestinationStream, LoggerOptions } from 'pino';
import type { Config } from './config.js';

/** Body and object fields whose values are secrets wherever they appear in a log line. */
export const secretFields = [
  'password',
  'newPassword',
  'currentPassword',
  'refreshToken',
  'accessToken',
  'idToken',
  'clientSecret',
  'client_secret',
  'api_key',
  'apiKey',
  'token',
  'secret',
] as const;

/** Headers that carry credentials. */
export const secretHeaders = ['authorization', 'cookie', 'set-cookie', 'x-api-key', 'proxy-authorization'] as const;

const censor = '[REDACTED]';

/**
 * Pino redact paths: credential headers wherever a request or response is logged, and secret
 * fields at the top level and up to three levels down (`req.body.password`, `{ body: { token } }`, …).
 */
export const redactPaths: string[] = [
  ...secretHeaders.flatMap((h) => [`req.headers["${h}"]`, `res.headers["${h}"]`, `headers["${h}"]`, `*.headers["${h}"]`]),
  ...secretFields.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]),
];

const secretQueryNames = new Set<string>([...secretFields, 'apikey', 'access_token', 'refresh_token', 'id_token', 'code'].map((n) => n.toLowerCase()));

/** The URL as logged: values of secret-looking query parameters are replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // keep the raw name
      }
      return eq >= 0 && secretQueryNames.has(decoded.toLowerCase()) ? `${name}=${censor}` : pair;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}

/** The request as it appears in log lines: no headers, no body, secret query values redacted. */
function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    userAgent: request.headers['user-agent'],
  };
}

/**
 * Pino options for the server's request logger. Fastify adds the request id (`reqId`) to every
 * line logged through `request.log`; `stream` lets tests capture the output.
 */
export function loggerOptions(config: Pick<Config, 'logLevel'>, stream?: DestinationStream): LoggerOptions & { stream?: DestinationStream } {
  const options: LoggerOptions & { stream?: DestinationStream } = {
    level: config.logLevel,
    redact: { paths: redactPaths, censor },
    serializers: {
      // Fastify passes its Request here.
      req: serializeRequest as unknown as (req: unknown) => unknown,
    },
  };
  if (stream) options.stream = stream;
  return options;
}
