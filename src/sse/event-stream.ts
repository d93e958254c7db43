/*
 * Server-Sent Events as the WHATWG spec parses them, for the gateway's clients: the CLI (REST job
 * event streams) and the web UI (GraphQL subscriptions over SSE: `event: next`, then `complete`);
 * the gateway's writing side is rest/sse.ts. No imports: it runs in Node and in the browser. Lines end
 * in LF, CRLF or CR; `field: value` (one space after the colon dropped); a line starting with ':'
 * is a comment (the keep-alive); a blank line dispatches the event, if it has data. `id:` sets the
 * last event id a reconnect sends back as Last-Event-ID; `retry:` the reconnect delay. Fed chunk
 * by chunk: a line (or a CRLF) split across chunks is kept until it is whole.
 */

export interface SseEvent {
  /** The last event id as of this event (also carried over from earlier events, per the spec). */
  id: string | null;
  /** `event:` (default "message"). */
  event: string;
  data: string;
}

export class SseParser {
  private buffer = '';
  private started = false;
  private pendingCr = false;
  private data: string[] = [];
  private type = '';
  lastEventId: string | null = null;
  /** The last `retry:` the server sent, in ms. */
  retryMs: number | null = null;

  /** The events this chunk completes. */
  feed(chunk: string): SseEvent[] {
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    // A CR at the end of the previous chunk and an LF at the start of this one are one line end.
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A CR as the buffer's last character may be the first half of a CRLF.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) {
        this.pendingCr = true;
        const line = this.buffer.slice(0, m.index);
        this.buffer = '';
        this.line(line, out);
        break;
      }
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line, out);
    }
    return out;
  }

  /** The stream ended: an event without its blank line is dropped (the spec's rule). */
  end(): void {
    this.buffer = '';
    this.data = [];
    this.type = '';
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push({ id: this.lastEventId, event: this.type || 'message', data: this.data.join('\n') });
      this.data = [];
      this.type = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.type = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
      // Unknown fields are ignored.
    }
  }
}

/** The events of a response body, as they arrive. */
export async function* readEvents(body: ReadableStream<Uint8Array>, parser = new SseParser()): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.feed(decoder.decode(value, { stream: true }));
    }
    finished = true;
    yield* parser.feed(decoder.decode());
    parser.end();
  } finally {
    // A reader that stops early closes the connection.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
