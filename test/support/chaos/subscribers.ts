/**
 * Clients that follow job events the way a notifier would, and survive a gateway's death:
 * - `followJobSse`: one job's REST event stream (GET /api/v1/jobs/{id}/events, SSE); when the
 *   connection breaks it reconnects, to the other gateway, with Last-Event-ID;
 * - `FleetWsSubscriber`: `jobEvents` over WebSocket (graphql-ws); when the socket closes it
 *   subscribes again on the other gateway with `since` = the last `sequence` it saw.
 * Each keeps every event it received (with the job id) for the history check.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface ReceivedEvent {
  jobId: string;
  id: string;
  type: string;
  sequence?: string | null;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SseFollow {
  jobId: string;
  events: ReceivedEvent[];
  reconnects: number;
  /** Reconnects that went to another gateway than the one that failed. */
  failovers: number;
  done: Promise<void>;
  ended: boolean;
  errors: string[];
  stop(): void;
}

/** `bases`: the gateways' origins (http://127.0.0.1:PORT); starts on bases[first]. */
export function followJobSse(bases: string[], token: string, jobId: string, first: number, deadline: number): SseFollow {
  const abort = new AbortController();
  const f: SseFollow = {
    jobId,
    events: [],
    reconnects: 0,
    failovers: 0,
    ended: false,
    errors: [],
    done: Promise.resolve(),
    stop: () => abort.abort(),
  };
  f.done = (async () => {
    let g = first;
    while (!f.ended && !abort.signal.aborted && Date.now() < deadline) {
      const last = f.events.at(-1)?.id;
      try {
        const res = await fetch(`${bases[g]}/api/v1/jobs/${jobId}/events`, {
          headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) },
          signal: abort.signal,
        });
        if (res.status !== 200 || !res.body) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
        const decoder = new TextDecoder();
        let buf = '';
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let sep: number;
          while ((sep = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, sep);
            buf = buf.slice(sep + 2);
            let id = '';
            let type = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('id:')) id = line.slice(3).trim();
              else if (line.startsWith('event:')) type = line.slice(6).trim();
              else if (line.startsWith('data:') && !type) {
                try {
                  type = JSON.parse(line.slice(5)).type ?? '';
                } catch {
                  // not JSON
                }
              }
            }
            if (!id) continue; // comments, keep-alives, reconnect hints
            f.events.push({ jobId, id, type });
            if (TERMINAL.has(type)) f.ended = true;
          }
          if (f.ended) break;
        }
        if (f.ended) break;
        throw new Error('stream ended before the terminal event');
      } catch (err) {
        if (abort.signal.aborted) break;
        f.errors.push(`${new Date().toISOString()} gateway ${g}: ${(err as Error).message.slice(0, 200)}`);
        f.reconnects++;
        const next = (g + 1) % bases.length;
        if (next !== g) f.failovers++;
        g = next;
        await sleep(200);
      }
    }
    abort.abort();
  })();
  return f;
}

export class FleetWsSubscriber {
  events: ReceivedEvent[] = [];
  reconnects = 0;
  errors: string[] = [];
  /** When the first subscription was acknowledged (jobs accepted after this must be seen whole). */
  firstConnectedAt: number | null = null;
  private client: Client | null = null;
  private dispose: (() => void) | null = null;
  private stopped = false;
  private gateway: number;
  private lastSequence: string | null = null;
  private urls: string[];
  private token: string;
  private loop: Promise<void> = Promise.resolve();

  constructor(graphqlUrls: string[], token: string, first: number) {
    this.urls = graphqlUrls.map((u) => u.replace(/^http/, 'ws'));
    this.token = token;
    this.gateway = first;
  }

  start(): Promise<void> {
    let firstUp!: () => void;
    const up = new Promise<void>((r) => (firstUp = r));
    this.loop = (async () => {
      while (!this.stopped) {
        await this.once(firstUp);
        if (this.stopped) break;
        this.reconnects++;
        this.gateway = (this.gateway + 1) % this.urls.length;
        await sleep(200);
      }
    })();
    return Promise.race([up, sleep(30_000).then(() => Promise.reject(new Error('jobEvents over WebSocket: no connection in 30 s')))]);
  }

  private once(onUp: () => void): Promise<void> {
    return new Promise<void>((resolve) => {
      const client = createClient({
        url: this.urls[this.gateway]!,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        keepAlive: 2000,
        connectionParams: { authorization: `Bearer ${this.token}` },
      });
      this.client = client;
      let settled = false;
      const end = (why: string) => {
        if (settled) return;
        settled = true;
        if (!this.stopped) this.errors.push(`${new Date().toISOString()} gateway ${this.gateway}: ${why}`);
        Promise.resolve()
          .then(() => client.dispose())
          .catch(() => {});
        resolve();
      };
      client.on('closed', (e) => end(`closed ${(e as { code?: number })?.code ?? ''}`));
      const since = this.lastSequence;
      this.dispose = client.subscribe<{
        jobEvents: { id: string; type: string; sequence: string | null; jobId: string };
      }>(
        {
          query: `subscription($since: String) { jobEvents(since: $since) { id type sequence jobId } }`,
          variables: { since },
        },
        {
          next: (msg) => {
            const e = msg.data?.jobEvents;
            if (!e) return;
            if (e.sequence) this.lastSequence = e.sequence;
            this.events.push({ jobId: e.jobId, id: e.id, type: e.type, sequence: e.sequence });
          },
          error: (err) => end(`error ${JSON.stringify(err).slice(0, 200)}`),
          complete: () => end('complete'),
        },
      );
      client.on('connected', () => {
        // The subscribe message is sent right after connection_ack; give the server a moment to start it.
        setTimeout(() => {
          this.firstConnectedAt ??= Date.now();
          onUp();
        }, 300);
      });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.dispose?.();
    await Promise.resolve()
      .then(() => this.client?.dispose())
      .catch(() => {});
    await Promise.race([this.loop, sleep(3000)]);
  }
}
