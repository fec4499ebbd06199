import { request, type IncomingHttpHeaders } from 'node:http';

/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** An open event stream read through a real socket. */
export interface SseConnection {
  status: number;
  headers: IncomingHttpHeaders;
  /** Every event received so far, in order. */
  events: SseEvent[];
  /** Every byte received so far (comments and `retry:` lines included). */
  raw: string;
  /** True once the server ended the response. */
  ended: boolean;
  /** Resolves with the next event (after `events.length` at the call) that satisfies `match`. */
  next(match?: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves once `raw` satisfies `match`. */
  waitRaw(match: (raw: string) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves when the server ends the stream. */
  closed(timeoutMs?: number): Promise<void>;
  /** The body, when the server answered with something other than a stream. */
  body(): Promise<string>;
  close(): void;
}

/**
 * Opens `url` as an EventSource would (GET, `Accept: text/event-stream`), parses events as the
 * SSE specification does (fields `id`, `event`, `data`; comments ignored), and resolves once the
 * response head has arrived.
 */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      let buffer = '';
      const waiters = new Set<() => void>();
      const notify = () => {
        for (const w of [...waiters]) w();
      };
      let cursor = 0;
      const conn: SseConnection = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        raw: '',
        ended: false,
        next(match = () => true, timeoutMs = 5000) {
          const from = cursor;
          return new Promise((ok, fail) => {
            const check = () => {
              for (let i = from; i < conn.events.length; i++) {
                if (match(conn.events[i]!)) {
                  cursor = i + 1;
                  waiters.delete(check);
                  clearTimeout(timer);
                  ok(conn.events[i]!);
                  return;
                }
              }
              if (conn.ended) {
                waiters.delete(check);
                clearTimeout(timer);
                fail(new Error(`stream ended before a matching event; got ${JSON.stringify(conn.events.slice(from))}`));
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(conn.events.slice(from))}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
        waitRaw(match, timeoutMs = 5000) {
          return new Promise((ok, fail) => {
            const check = () => {
              if (match(conn.raw)) {
                waiters.delete(check);
                clearTimeout(timer);
                ok();
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`raw stream did not match within ${timeoutMs} ms: ${JSON.stringify(conn.raw.slice(-500))}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
        closed(timeoutMs = 5000) {
          return conn.waitRaw(() => conn.ended, timeoutMs);
        },
        async body() {
          await conn.closed();
          return conn.raw;
        },
        close() {
          req.destroy();
        },
      };
      let lastId: string | undefined;
      res.on('data', (chunk: string) => {
        conn.raw += chunk;
        buffer += chunk;
        let at: number;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          let event = 'message';
          const data: string[] = [];
          let sawId = false;
          for (const line of block.split('\n')) {
            if (line === '' || line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') {
              lastId = value;
              sawId = true;
            } else if (field === 'event') event = value;
            else if (field === 'data') data.push(value);
          }
          if (data.length > 0) conn.events.push({ id: sawId ? lastId : lastId, event, data: data.join('\n') });
        }
        notify();
      });
      const end = () => {
        conn.ended = true;
        notify();
      };
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      resolve(conn);
    });
    req.on('error', reject);
    req.end();
  });
}
