import type { IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';

// Request ids: `req_` and 32 hex digits — a random 64-bit tag per process and a counter, unique
// across instances and restarts without a random draw per request (the evaluate hot path).
const requestIdTag = randomBytes(8).toString('hex');
let requestCounter = 0;

/** The caller's `X-Request-Id` when it is a sane token, else a new id. */
export function requestIdFor(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  if (typeof given === 'string' && /^[\w.-]{1,128}$/.test(given)) return given;
  requestCounter = (requestCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `req_${requestIdTag}${requestCounter.toString(16).padStart(16, '0')}`;
}
