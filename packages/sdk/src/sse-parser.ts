/**
 * A Server-Sent Events parser (WHATWG HTML "event stream interpretation"): feed it text chunks as
 * they arrive, in any split; it calls back once per dispatched event and once per comment line
 * (the server's heartbeats). Line ends may be CRLF, LF or CR, even split across chunks.
 */

/** One dispatched event. `id` is the last event id seen so far (the one to resume from). */
export interface SseEvent {
  /** `message` when the event had no `event:` field. */
  readonly event: string;
  readonly data: string;
  /** The last event id, carried over from earlier events when this one set none. */
  readonly id: string | undefined;
}

/** What the parser reports. */
export interface SseHandlers {
  onEvent(event: SseEvent): void;
  /** A `retry:` field: the server's reconnection delay in milliseconds. */
  onRetry?(ms: number): void;
  /** A comment line (`: heartbeat`). */
  onComment?(text: string): void;
}

/** Incremental SSE parser. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private eventType = '';
  private lastId: string | undefined;
  /** The previous chunk ended in CR: an LF starting the next chunk belongs to that line end. */
  private pendingCr = false;
  private first = true;

  constructor(
    private readonly handlers: SseHandlers,
    /** The id to start from (what the client sent as `Last-Event-ID`). */
    lastEventId?: string,
  ) {
    this.lastId = lastEventId;
  }

  /** The last event id seen (or given). */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /** Feeds a chunk of decoded text. */
  push(chunk: string): void {
    let text = chunk;
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
      this.line(line);
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) {
      this.handlers.onComment?.(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.handlers.onRetry?.(Number(value));
        break;
      default:
        // Unknown fields are ignored, as the standard requires.
        break;
    }
  }

  private dispatch(): void {
    const type = this.eventType;
    const data = this.data;
    this.eventType = '';
    this.data = [];
    if (data.length === 0) return;
    this.handlers.onEvent({ event: type === '' ? 'message' : type, data: data.join('\n'), id: this.lastId });
  }
}
