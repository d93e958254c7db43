import type { JobEvent } from '../src/jobs/job-types.ts';
import { jobEventView } from './schemas/job.ts';

export const SSE_CONTENT_TYPE = 'text/event-stream';
const HEARTBEAT_MS = 15_000;

/** Whether the client asked for an event stream (Accept: text/event-stream). */
export const wantsEventStream = (headers: Headers) => (headers.get('accept') ?? '').includes(SSE_CONTENT_TYPE);

/**
 * Job events as Server-Sent Events: `id:` is the event's id (a client that reconnects sends it
 * back as Last-Event-ID and resumes after it), `event:` its type, `data:` the JobEvent JSON.
 * A comment line every 15 s keeps proxies from closing an idle stream. The stream ends when
 * `events` ends (a job's terminal event) or the client goes away.
 */
/** Open streams of this process, each ended by `drainEventStreams` when the gateway stops. */
const open = new Set<(message: string) => void>();

/**
 * Ends every open stream with a `reconnect` event (the client resumes from the last `id:` it
 * saw, with Last-Event-ID, on any gateway) and closes it: a gateway that stops leaves no client
 * guessing whether the stream ended or broke.
 */
export function drainEventStreams(message = 'gateway restarting: reconnect (any gateway) with Last-Event-ID to resume'): number {
  const n = open.size;
  for (const end of [...open]) end(message);
  return n;
}

export function eventStream(
  request: Request,
  events: (signal: AbortSignal) => AsyncIterable<JobEvent>,
  /** Which id the stream's `id:` lines carry: the job log's (a job's stream) or the fleet log's. */
  idOf: (e: JobEvent) => string = (e) => e.id,
): Response {
  const abort = new AbortController();
  request.signal.addEventListener('abort', () => abort.abort(), { once: true });
  const encoder = new TextEncoder();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        if (!abort.signal.aborted) controller.enqueue(encoder.encode(text));
      };
      send('retry: 1000\n\n');
      heartbeat = setInterval(() => send(': keep-alive\n\n'), HEARTBEAT_MS);
      const end = (message: string) => {
        send(`event: reconnect\ndata: ${JSON.stringify({ message, retryMs: 1000 })}\n\n`);
        abort.abort();
        controller.close();
      };
      open.add(end);
      try {
        for await (const e of events(abort.signal)) send(`id: ${idOf(e)}\nevent: ${e.type}\ndata: ${JSON.stringify(jobEventView(e))}\n\n`);
      } catch (err) {
        if (!abort.signal.aborted) send(`event: error\ndata: ${JSON.stringify({ message: (err as Error).message })}\n\n`);
      } finally {
        open.delete(end);
        clearInterval(heartbeat);
        if (!abort.signal.aborted) controller.close();
      }
    },
    cancel() {
      clearInterval(heartbeat);
      abort.abort();
    },
  });
  return new Response(body, {
    status: 200,
    headers: { 'content-type': `${SSE_CONTENT_TYPE}; charset=utf-8`, 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
  });
}
