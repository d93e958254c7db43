import { describe, expect, it } from 'vitest';
import { readEvents, SseParser } from '../../src/sse/event-stream.ts';

/** The SSE parser against the WHATWG rules the gateway's streams rely on (rest/sse.ts). */
describe('SseParser', () => {
  it('dispatches on a blank line; event defaults to message; data lines join with LF', () => {
    const p = new SseParser();
    expect(p.feed('data: a\ndata:  b\n\n')).toEqual([{ id: null, event: 'message', data: 'a\n b' }]);
    expect(p.feed('event: STEP_FINISHED\ndata:{"x":1}\n\n')).toEqual([{ id: null, event: 'STEP_FINISHED', data: '{"x":1}' }]);
  });

  it('keeps the last id for later events (what Last-Event-ID sends back) and ignores one with NUL', () => {
    const p = new SseParser();
    expect(p.feed('id: 1-0\nevent: A\ndata: x\n\nevent: B\ndata: y\n\nid: bad\0id\ndata: z\n\n').map((e) => e.id)).toEqual([
      '1-0',
      '1-0',
      '1-0',
    ]);
    expect(p.lastEventId).toBe('1-0');
  });

  it('takes retry:, skips comments (the keep-alive) and unknown fields, and events without data', () => {
    const p = new SseParser();
    expect(p.feed('retry: 1000\n\n: keep-alive\n\nfoo: bar\nevent: X\n\n')).toEqual([]);
    expect(p.retryMs).toBe(1000);
    p.feed('retry: soon\n\n');
    expect(p.retryMs).toBe(1000);
  });

  it('handles CR, LF and CRLF line ends, also a CRLF split across chunks, and a leading BOM', () => {
    const p = new SseParser();
    expect([...p.feed('\uFEFFdata: a\r'), ...p.feed('\n\r\n'), ...p.feed('data: b\r\r')].map((e) => e.data)).toEqual(['a', 'b']);
    // The CR ended the line; the LF of the next chunk is not a second (blank) line.
    const q = new SseParser();
    expect([...q.feed('data: a\r'), ...q.feed('\ndata: b\n\n')].map((e) => e.data)).toEqual(['a\nb']);
  });

  it('a field without a colon is a field with an empty value; a line cut between chunks waits for its end', () => {
    const p = new SseParser();
    expect(p.feed('data\n\n')).toEqual([{ id: null, event: 'message', data: '' }]);
    expect(p.feed('event: STA')).toEqual([]);
    expect(p.feed('RTED\ndata: 1\n\n')).toEqual([{ id: null, event: 'STARTED', data: '1' }]);
  });

  it('readEvents reads a body stream to its end and drops an event the stream cut off', async () => {
    const chunks = ['id: 1\nevent: A\ndata: {"n":', '1}\n\nid: 2\nevent: B\ndata: cut'];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
        c.close();
      },
    });
    const got = [];
    for await (const e of readEvents(body)) got.push(e);
    expect(got).toEqual([{ id: '1', event: 'A', data: '{"n":1}' }]);
  });

  it('readEvents decodes UTF-8 split inside a character', async () => {
    const bytes = new TextEncoder().encode('data: → done\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, 7));
        c.enqueue(bytes.slice(7));
        c.close();
      },
    });
    const got = [];
    for await (const e of readEvents(body)) got.push(e.data);
    expect(got).toEqual(['→ done']);
  });
});
