import { ApiError, type Fetch, GRAPHQL_PATH, type GraphQLBody, interpret } from './api.ts';
import { readEvents } from '../../src/sse/event-stream.ts';

/*
 * A GraphQL subscription over SSE with fetch: EventSource cannot send an Authorization header,
 * so the stream is read from the response body. A stream that drops (gateway restart, network)
 * is opened again after a growing pause, with variables asked for anew (jobEvents resumes with
 * `since`: nothing missed, nothing twice); one the server completes is over; a refused token
 * or a GraphQL error ends it for good.
 */

export type StreamStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface SubscribeOptions<T> {
  document: string;
  /** Asked at every (re)connect. */
  variables: () => Record<string, unknown>;
  token: () => string | null;
  onNext(data: T): void;
  /** The stream is open (again): what happened while it was not may need reading. */
  onOpen?(reconnected: boolean): void;
  /** The server ended the stream (jobProgress: the job ended). */
  onComplete?(): void;
  onStatus?(status: StreamStatus, detail?: string): void;
  /** Refused (401, 403) or answered with a GraphQL error: not retried. */
  onFatal?(err: ApiError): void;
  fetch?: Fetch;
}

export interface Subscription {
  close(): void;
}

/** Pause before reconnect attempt n (0, 1, …): 0.5 s doubling up to 15 s. */
export function backoffMs(attempt: number): number {
  return Math.min(15_000, 500 * 2 ** attempt);
}

export function subscribe<T>(opts: SubscribeOptions<T>): Subscription {
  const fetchImpl: Fetch = opts.fetch ?? ((i, init) => fetch(i, init));
  let closed = false;
  let controller: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let attempt = 0;
  let opened = false;

  const status = (s: StreamStatus, detail?: string) => opts.onStatus?.(s, detail);

  async function connect(): Promise<void> {
    controller = new AbortController();
    status(opened ? 'reconnecting' : 'connecting');
    const token = opts.token();
    let ended: 'complete' | 'dropped' = 'dropped';
    let reason = 'the stream ended';
    try {
      const res = await fetchImpl(GRAPHQL_PATH, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query: opts.document, variables: opts.variables() }),
        signal: controller.signal,
      });
      if (!res.ok || !res.body) {
        let body: GraphQLBody<T> | null = null;
        try {
          body = (await res.json()) as GraphQLBody<T>;
        } catch {}
        interpret(res.status, body); // throws the failure
        throw new ApiError('request', `HTTP ${res.status}`, res.status);
      }
      const reconnected = opened;
      opened = true;
      attempt = 0;
      status('open');
      opts.onOpen?.(reconnected);
      for await (const m of readEvents(res.body)) {
        if (m.event === 'complete') {
          ended = 'complete';
          break;
        }
        if (m.event !== 'next' || !m.data) continue;
        const payload = JSON.parse(m.data) as GraphQLBody<T>;
        opts.onNext(interpret(200, payload));
      }
    } catch (err) {
      if (closed) return;
      if (err instanceof ApiError && err.kind !== 'network' && err.kind !== 'unavailable' && err.kind !== 'rate-limited') {
        closed = true;
        status('closed', err.message);
        opts.onFatal?.(err);
        return;
      }
      reason = (err as Error).message;
    }
    if (closed) return;
    if (ended === 'complete') {
      closed = true;
      status('closed');
      opts.onComplete?.();
      return;
    }
    const wait = backoffMs(attempt++);
    status('reconnecting', `${reason}; reconnecting in ${Math.round(wait / 100) / 10} s`);
    timer = setTimeout(() => void connect(), wait);
  }

  void connect();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      controller?.abort();
    },
  };
}
