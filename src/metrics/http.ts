import type { Plugin } from 'graphql-yoga';
import type { GatewayMetricSet } from './definitions.ts';
import { httpMethod, httpRoute } from './labels.ts';

/**
 * Every answer of the gateway (trunkline_http_requests_total: by entry point, so refusals at its
 * door count too), and the REST API's by operationId (trunkline_rest_*). A yoga plugin: REST is
 * served from the gateway's onRequest hook (create-gateway.ts), and onResponse sees every answer.
 * First among the gateway's plugins, so its clock starts before any other plugin's work.
 */
export function useHttpMetrics(
  set: GatewayMetricSet,
  rest: { base: string; operationOf(method: string, pathname: string): string },
): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onResponse({ request, response }) {
      const { pathname } = new URL(request.url);
      const route = httpRoute(pathname, rest.base);
      const status = String(response.status);
      set.httpRequests.inc({ route, method: httpMethod(request.method), status });
      if (route !== 'rest') return;
      const operation = rest.operationOf(request.method, pathname);
      set.restRequests.inc({ operation, status });
      const t0 = started.get(request);
      if (t0 !== undefined) set.restDuration.observe({ operation }, (performance.now() - t0) / 1000);
    },
  };
}
