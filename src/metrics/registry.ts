import { collectDefaultMetrics, Registry } from 'prom-client';

/*
 * One registry per process (prom-client): the gateway's (gateway.ts), a worker's (worker.ts), a
 * webhook process's (webhooks.ts). Prometheus scrapes every process on its own; the one exception
 * is a worker's webhook process, a child whose metrics its worker serves along with its own
 * (child-process.ts), so that one scrape target stands for the worker and what it started.
 */

export const METRICS_PATH = '/metrics';
/** The text exposition format (0.0.4), what prom-client writes and every Prometheus reads. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

const withProcessMetrics = new WeakSet<Registry>();

/**
 * Node's and the process's own metrics (process_cpu_seconds_total, nodejs_eventloop_lag_seconds,
 * heap, GC, …) on `registry`, once: for the registry a process serves, not on import (tests and
 * benchmarks load the instrumented modules without serving anything).
 */
export function collectProcessMetrics(registry: Registry): void {
  if (withProcessMetrics.has(registry)) return;
  withProcessMetrics.add(registry);
  collectDefaultMetrics({ register: registry });
}

/** Expositions of registries without a metric in common (a worker's and its webhook process's) as one. */
export function joinExpositions(...texts: (string | null | undefined)[]): string {
  return `${texts
    .filter((t): t is string => Boolean(t?.trim()))
    .map((t) => t.trimEnd())
    .join('\n\n')}\n`;
}

/** The headers of a scrape's answer (the gateway's /metrics and a worker's listener alike). */
export const METRICS_HEADERS = { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' } as const;

/** The answer to a scrape. */
export function metricsResponse(text: string, method = 'GET'): Response {
  return new Response(method === 'HEAD' ? null : text, { status: 200, headers: METRICS_HEADERS });
}
