import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request a receiver got: when (ms, performance clock), its headers and raw body. */
export interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed (a webhook payload). */
  json: any;
}

/** How a receiver answers: a status code, or `hang` (never answers; the sender must time out). */
export type Behaviour = number | 'hang';

export interface Receiver {
  url: string;
  received: Received[];
  /** Changes how later requests are answered. */
  answer(behaviour: Behaviour): void;
  /** Waits (bounded) until `done(received)` holds; returns what was received. */
  waitFor(done: (received: Received[]) => boolean, what: string, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/**
 * A webhook receiver on loopback (node:http on 127.0.0.1, a free port) that records every
 * request. Close it in an afterAll/finally: it destroys hanging requests and open sockets.
 */
export async function startReceiver(behaviour: Behaviour = 204): Promise<Receiver> {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  let current = behaviour;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {}
      received.push({ at: performance.now(), headers: req.headers, body, json });
      if (current === 'hang') hanging.push(res);
      else res.writeHead(current, { 'content-type': 'text/plain' }).end(String(current));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    answer(b) {
      current = b;
    },
    async waitFor(done, what, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (!done(received)) {
        if (Date.now() > until)
          throw new Error(`receiver ${port}: still waiting for ${what} after ${timeoutMs} ms (got ${received.length})`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return received;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
