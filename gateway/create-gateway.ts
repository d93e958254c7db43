import { useGraphQlJit } from '@envelop/graphql-jit';
import { type DocumentNode, GraphQLError } from 'graphql';
import { createYoga, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { Refusal } from '../src/requests/refusal.ts';
import { createContext, type Context, type GatewayServices } from '../graphql/context.ts';
import { schema } from '../graphql/schema.ts';
import { createRestApp } from '../rest/app.ts';
import { docsResponse } from '../rest/docs.ts';
import { API_BASE } from '../rest/replies.ts';
import { type AuthGate, createAuthGate, refusal } from './authentication.ts';
import { useExecutionTimeout } from './execution-timeout.ts';
import { HEALTH_PATHS, healthResponse } from './health.ts';
import { useAudit } from './graphql-audit.ts';
import { useRateLimits } from './graphql-rate-limits.ts';
import { queryLimitPlugins } from './query-limits.ts';
import { ErrorCode } from '../src/errors/codes.ts';
import { isRedisUnavailable, RETRY_AFTER_SECONDS, unavailableMessage } from '../src/redis/availability.ts';
import type { Metered } from '../src/metrics/gateway.ts';
import { METRICS_PATH } from '../src/metrics/registry.ts';

export type Gateway = YogaServerInstance<Record<string, never>, Context> & {
  /** Who may call: the WebSocket server authenticates its connections with it too. */
  authGate: AuthGate;
};

const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' };

/** The client's address, where the server says (node:http: the socket's peer). */
function sourceOf(serverContext: unknown): string | null {
  const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  return req?.socket?.remoteAddress ?? null;
}

/**
 * The HTTP application: GraphQL at /graphql (queries and mutations over POST/GET,
 * subscriptions over SSE), the REST API under /api/v1 (rest/), its reference at /api/docs,
 * /healthz for load balancers. One fetch handler (`gateway.fetch(request)`), so tests call it
 * in process and any runtime that speaks Request → Response can host it.
 */
export function createGateway(services: GatewayServices & Metered): Gateway {
  const authGate = createAuthGate(
    services.auth.authenticator,
    (request, source, reason, message) => {
      const { pathname } = new URL(request.url);
      services.audit.recordInBackground({
        api: 'gateway',
        operation: `${request.method} ${pathname}`,
        outcome: 'UNAUTHENTICATED',
        code: ErrorCode.UNAUTHENTICATED,
        message: `${reason}: ${message}`,
        actor: null,
        source,
        input: null,
        ticketRef: null,
        idempotencyKey: null,
        jobId: null,
      });
    },
    (source) => services.rates.take('unauthenticated', source ?? 'unknown'),
  );
  const rest = createRestApp(services, (request) => authGate.originOf(request));
  const { healthzPublic } = services.config.auth;
  const metricsPublic = services.config.metrics.public;
  const yoga = createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    logging: {
      debug: (...args) => services.logger.debug({ yoga: args.map(String) }),
      info: (...args) => services.logger.info({ yoga: args.map(String) }),
      warn: (...args) => services.logger.warn({ yoga: args.map(String) }),
      error: (...args) => services.logger.error({ yoga: args.map(String) }),
    },
    // Bodies sent without a Content-Length (chunked) are counted while read (yoga answers them REQUEST_ENTITY_TOO_LARGE).
    maxRequestBodySize: services.config.graphql.bodyLimitBytes,
    // Who asks comes from the credentials the gateway checked (onRequest, below), never from a header a client sets.
    context: ({ request }) => createContext(services, authGate.originOf(request)),
    // Cross-origin requests only from configured origins (none by default): a browser page elsewhere cannot drive the API.
    cors: services.config.api.corsOrigins.length ? { origin: services.config.api.corsOrigins, credentials: true } : false,
    // A refusal thrown by a shared request (src/requests/refusal.ts) is the caller's answer, not a fault to hide.
    maskedErrors: {
      maskError(error, message, isDev) {
        const original = error instanceof GraphQLError ? error.originalError : error;
        // Redis down or refusing writes: the caller may retry; the status says so to HTTP clients too.
        if (isRedisUnavailable(original)) {
          return new GraphQLError(unavailableMessage(original), {
            nodes: error instanceof GraphQLError ? error.nodes : undefined,
            path: error instanceof GraphQLError ? error.path : undefined,
            extensions: {
              code: ErrorCode.SERVICE_UNAVAILABLE,
              http: { status: 503, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } },
            },
          });
        }
        if (original instanceof Refusal) {
          const first = original.userErrors[0];
          return new GraphQLError(original.message, {
            nodes: error instanceof GraphQLError ? error.nodes : undefined,
            path: error instanceof GraphQLError ? error.path : undefined,
            extensions: { code: first?.code, field: first?.field.slice(1).join('.') || undefined },
          });
        }
        return maskError(error, message, isDev);
      },
    },
    // GraphiQL needs introspection: both are development tools, on together.
    // Asked per request, before any plugin's onRequest: a page for a caller with valid credentials
    // only; for anyone else yoga goes on to the auth gate below, which answers 401 with a Basic prompt.
    graphiql: services.config.graphql.introspection
      ? async (request) => (await services.auth.authenticator.authenticate(request.headers.get('authorization'))).ok
      : false,
    // GraphiQL's scripts, styles and editor workers inlined from the package (yoga's default page
    // loads them from unpkg.com): management networks often have no internet.
    renderGraphiQL,
    plugins: [
      // First: their clocks start before any other plugin's work (src/metrics/; /metrics is served by route()).
      ...services.metrics.plugins(schema),
      ...queryLimitPlugins(services.config.graphql),
      useRateLimits(),
      useAudit(),
      // Compiles each distinct query once to plain JS: fleet queries resolve thousands of fields,
      // where graphql-js's generic executor costs more than the data.
      // Not for subscriptions: graphql-jit loses their arguments (seen with jobEvents filters).
      useGraphQlJit(
        {},
        {
          enableIf: (args) => operationOf(args.document, args.operationName) !== 'subscription',
          onError: (r) =>
            services.logger.warn({ errors: r.errors?.map((e) => e.message) }, 'graphql-jit could not compile; executing normally'),
        },
      ),
      // After graphql-jit: it bounds the compiled execution too.
      useExecutionTimeout(services.config.graphql.executionTimeoutMs),
      {
        // Every answer: no MIME sniffing, never framed (clickjacking of GraphiQL or the API reference), no Referer leaving.
        onResponse({ response }) {
          for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!response.headers.has(k)) response.headers.set(k, v);
          // A body refused as too large is left unread, or partly (yoga's and REST's limits stop
          // reading at the limit): the connection must close, or the client's next request on it
          // meets the rest of that body. Every 413 of both APIs passes here.
          if (response.status === 413) response.headers.set('connection', 'close');
        },
      },
      {
        // The REST API and its reference share the server: yoga's adapter turns Node requests
        // into fetch Requests for both, so the gateway stays one fetch handler.
        async onRequest(args) {
          try {
            await route(args);
          } catch (err) {
            // Authentication, rate limits and health checks read Redis before either API runs.
            if (!isRedisUnavailable(err)) throw err;
            services.logger.warn({ err: (err as Error).message, path: args.url.pathname }, 'request refused: Redis unavailable');
            args.endResponse(
              refusal(args.request, 503, ErrorCode.SERVICE_UNAVAILABLE, unavailableMessage(err), {
                'retry-after': String(RETRY_AFTER_SECONDS),
              }),
            );
          }
        },
      },
    ],
  });
  return Object.assign(yoga, { authGate });

  async function route({ request, url, endResponse, serverContext }: OnRequestArgs): Promise<void> {
    // The web UI's assets hold no data (its API calls send the token): answered before the auth
    // gate. Loaded on first use, so esbuild is only imported by a gateway whose UI is opened.
    if (url.pathname === '/ui' || url.pathname.startsWith('/ui/')) {
      const { uiResponse } = await import('./ui.ts');
      const page = await uiResponse(request, (err) => services.logger.error({ err }, 'the web UI could not be built'));
      if (page) return endResponse(page);
    }
    const healthz = HEALTH_PATHS.has(url.pathname) && request.method === 'GET';
    const metrics = url.pathname === METRICS_PATH;
    if (!(healthz && healthzPublic) && !(metrics && metricsPublic)) {
      const refused = await authGate.admit(request, sourceOf(serverContext));
      if (refused) return endResponse(refused);
    }
    const declared = Number(request.headers.get('content-length') ?? 0);
    if (url.pathname === '/graphql' && declared > services.config.graphql.bodyLimitBytes) {
      const message = `the request body is larger than ${services.config.graphql.bodyLimitBytes} bytes`;
      return endResponse(refusal(request, 413, ErrorCode.PAYLOAD_TOO_LARGE, message));
    }
    if (healthz) {
      endResponse(await healthResponse(services, url.pathname));
    } else if (metrics) {
      // Series of every host: for a caller whose scope is every host (no host groups), or anyone when public.
      const caller = metricsPublic ? null : authGate.originOf(request).caller;
      if (caller && caller.hostGroups !== null)
        return endResponse(
          refusal(request, 403, ErrorCode.FORBIDDEN, 'metrics name every hypervisor: they need a token without host groups'),
        );
      endResponse(await services.metrics.response(request));
    } else if (url.pathname.startsWith(`${API_BASE}/`) || url.pathname === API_BASE) {
      endResponse(await rest.fetch(request));
    } else if (url.pathname.startsWith('/api/')) {
      const docs = await docsResponse(request);
      endResponse(docs ?? (await rest.fetch(request)));
    }
  }
}

type OnRequestArgs = Parameters<NonNullable<Plugin<Record<string, never>>['onRequest']>>[0];

function operationOf(document: DocumentNode, name: string | null | undefined): string | undefined {
  for (const d of document.definitions) if (d.kind === 'OperationDefinition' && (!name || d.name?.value === name)) return d.operation;
  return undefined;
}
