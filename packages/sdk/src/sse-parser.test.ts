import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse-parser.js';

function parse(chunks: string[], lastEventId?: string) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const p = new SseParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c), onRetry: (ms) => retries.push(ms) }, lastEventId);
  for (const c of chunks) p.push(c);
  return { events, comments, retries, lastEventId: p.lastEventId };
}

describe('SseParser', () => {
  it('parses events, ids, comments and retry hints, whatever the chunking and line ends', () => {
    const text = '\ufeff: heartbeat\r\nid: 7\r\nevent: put\r\ndata: {"a":\r\ndata: 1}\r\n\r\nretry: 2000\n\nevent: patch\rid: 8.1\rdata: x\r\r';
    const whole = parse([text]);
    expect(whole.events).toEqual([
      { event: 'put', data: '{"a":\n1}', id: '7' },
      { event: 'patch', data: 'x', id: '8.1' },
    ]);
    expect(whole.comments).toEqual(['heartbeat']);
    expect(whole.retries).toEqual([2000]);
    // One character at a time, so CR and LF of one line end arrive apart.
    expect(parse([...text])).toEqual(whole);
  });

  it('defaults the event type, carries the last id, ignores unknown fields and events without data', () => {
    const r = parse(['data: one\n\n', 'foo: bar\nevent: nothing\n\n', 'data\n\n', 'id\ndata: two\n\n'], '3');
    expect(r.events).toEqual([
      { event: 'message', data: 'one', id: '3' },
      { event: 'message', data: '', id: '3' },
      { event: 'message', data: 'two', id: '' },
    ]);
    expect(r.lastEventId).toBe('');
  });
});
