import type { GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Registry } from 'prom-client';
import type { JobRecord } from '../jobs/job-types.ts';
import { collectOnScrape, type ScrapeSources } from './collectors.ts';
import { defineGatewayMetrics, type GatewayMetricSet } from './definitions.ts';
import { graphqlMetricPlugins } from './graphql.ts';
import { useHttpMetrics } from './http.ts';
import { type RestRoute, restOperationMatcher } from './labels.ts';
import { collectProcessMetrics, metricsResponse } from './registry.ts';

/**
 * A gateway's metrics: a registry of its own per gateway (connectGatewayServices makes one; a test
 * or benchmark that runs several gateways in one process gets one each), what its entry points
 * record (GraphQL, REST, every answer), the jobs it accepts and ends, and the gauges it reads when
 * scraped (queues, hosts: collectors.ts). Served at /metrics (create-gateway.ts).
 */
export interface GatewayMetrics {
  registry: Registry;
  set: GatewayMetricSet;
  /** The yoga plugins that record requests: first in the gateway's plugin list. */
  plugins(schema: GraphQLSchema): Plugin[];
  jobAccepted(record: JobRecord): void;
  jobEnded(record: JobRecord): void;
  /** Where the scrape-time gauges read from (set once the services exist). */
  watch(sources: ScrapeSources): void;
  /** Reads the scrape-time gauges, then renders the registry. */
  scrape(): Promise<string>;
  /** The answer to GET (or HEAD) /metrics of an admitted caller; 405 for another method. */
  response(request: Request): Promise<Response>;
}

/** What a gateway's services carry: connectGatewayServices (gateway/services.ts) adds the metrics. */
export interface Metered {
  metrics: GatewayMetrics;
}

export function createGatewayMetrics(opts: {
  /** Every REST operation with its full path (OpenAPI style): what operationIds label. */
  restRoutes: readonly RestRoute[];
  restBase: string;
  /** Node's and the process's metrics too (default); off for a registry that is not a process's. */
  processMetrics?: boolean;
}): GatewayMetrics {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectProcessMetrics(registry);
  const set = defineGatewayMetrics(registry);
  const operationOf = restOperationMatcher(opts.restRoutes);
  let sources: ScrapeSources | null = null;
  let graphql: Plugin[] | null = null;
  // Scrapes at the same moment (two Prometheus servers) share one read of the sources.
  let inFlight: Promise<string> | null = null;
  const scrape = (): Promise<string> => {
    inFlight ??= (async () => {
      try {
        if (sources) await collectOnScrape(set, sources);
        return await registry.metrics();
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };
  return {
    registry,
    set,
    plugins(schema) {
      // One set per registry: a second gateway on the same services shares these metrics.
      graphql ??= graphqlMetricPlugins(registry, set, schema);
      return [useHttpMetrics(set, { base: opts.restBase, operationOf }), ...graphql];
    },
    jobAccepted: (record) => set.jobsAccepted.inc({ kind: record.kind }),
    jobEnded: (record) => set.jobs.ended(record),
    watch(s) {
      sources = s;
    },
    scrape,
    async response(request) {
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return new Response(`${request.method} is not allowed here; allowed: GET, HEAD\n`, {
          status: 405,
          headers: { allow: 'GET, HEAD', 'content-type': 'text/plain' },
        });
      return metricsResponse(await scrape(), request.method);
    },
  };
}
