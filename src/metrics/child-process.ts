import type { ChildProcess } from 'node:child_process';
import type { Registry } from 'prom-client';

/*
 * A worker's webhook process is its child (workers/webhook-supervisor.ts): it has no port of its
 * own, and its worker's scrape asks it for its metrics over the IPC channel they already share.
 * The child answers with its exposition (text); the worker appends it to its own (the two
 * registries have no metric in common: the child collects no process metrics, whose names the
 * worker's already use). A child that does not answer in time is left out of that scrape
 * (trunkline_webhook_process_up 0). A child that was restarted starts its counters at zero again:
 * Prometheus's rate() takes a reset for what it is.
 */

interface ScrapeRequest {
  trunklineMetrics: 'scrape';
  id: number;
}
interface ScrapeReply {
  trunklineMetrics: 'exposition';
  id: number;
  text: string;
}

const isRequest = (m: unknown): m is ScrapeRequest => (m as ScrapeRequest | null)?.trunklineMetrics === 'scrape';
const isReply = (m: unknown): m is ScrapeReply => (m as ScrapeReply | null)?.trunklineMetrics === 'exposition';

/** In the child: answers every scrape request from the parent with `registry`'s exposition. */
export function answerScrapes(registry: Registry): void {
  process.on('message', (m: unknown) => {
    if (!isRequest(m)) return;
    registry.metrics().then(
      (text) => process.send?.({ trunklineMetrics: 'exposition', id: m.id, text } satisfies ScrapeReply),
      () => process.send?.({ trunklineMetrics: 'exposition', id: m.id, text: '' } satisfies ScrapeReply),
    );
  });
}

let nextId = 1;

/** In the parent: the child's exposition, or null when it is gone or did not answer within `timeoutMs`. */
export function scrapeChild(child: ChildProcess | undefined, timeoutMs: number): Promise<string | null> {
  if (!child?.connected) return Promise.resolve(null);
  const id = nextId++;
  return new Promise((resolve) => {
    const done = (text: string | null) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(text);
    };
    const onMessage = (m: unknown) => {
      if (isReply(m) && m.id === id) done(m.text);
    };
    const onExit = () => done(null);
    const timer = setTimeout(() => done(null), timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
    try {
      child.send({ trunklineMetrics: 'scrape', id } satisfies ScrapeRequest, (err) => {
        if (err) done(null);
      });
    } catch {
      done(null);
    }
  });
}
