import { useGraphQlJit } from '@envelop/graphql-jit';
import type { DocumentNode } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { createContext, type Context, type GatewayServices } from '../graphql/context.ts';
import { schema } from '../graphql/schema.ts';
import { createRestApp } from '../rest/app.ts';
import { docsResponse } from '../rest/docs.ts';
import { API_BASE } from '../rest/replies.ts';
import { queryLimitPlugins } from './query-limits.ts';

export type Gateway = YogaServerInstance<Record<string, never>, Context>;

/**
 * The HTTP application: GraphQL at /graphql (queries and mutations over POST/GET,
 * subscriptions over SSE), the REST API under /api/v1 (rest/), its reference at /api/docs,
 * /healthz for load balancers. One fetch handler (`gateway.fetch(request)`), so tests call it
 * in process and any runtime that speaks Request → Response can host it.
 */
export function createGateway(services: GatewayServices): Gateway {
  const rest = createRestApp(services);
  return createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    logging: {
      debug: (...args) => services.logger.debug({ yoga: args.map(String) }),
      info: (...args) => services.logger.info({ yoga: args.map(String) }),
      warn: (...args) => services.logger.warn({ yoga: args.map(String) }),
      error: (...args) => services.logger.error({ yoga: args.map(String) }),
    },
    // Until authentication exists, callers may say who they are; it is recorded, not trusted.
    context: ({ request }) => createContext(services, request.headers.get('x-trunkline-user')),
    // GraphiQL needs introspection: both are development tools, on together.
    graphiql: services.config.graphql.introspection,
    plugins: [
      ...queryLimitPlugins(services.config.graphql),
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
      {
        // The REST API and its reference share the server: yoga's adapter turns Node requests
        // into fetch Requests for both, so the gateway stays one fetch handler.
        async onRequest({ request, url, endResponse, fetchAPI }) {
          if (url.pathname === '/healthz' && request.method === 'GET') {
            endResponse(new fetchAPI.Response(JSON.stringify({ status: 'ok' }), { headers: { 'content-type': 'application/json' } }));
          } else if (url.pathname.startsWith(`${API_BASE}/`) || url.pathname === API_BASE) {
            endResponse(await rest.fetch(request));
          } else if (url.pathname.startsWith('/api/')) {
            const docs = await docsResponse(request);
            endResponse(docs ?? (await rest.fetch(request)));
          }
        },
      },
    ],
  });
}

function operationOf(document: DocumentNode, name: string | null | undefined): string | undefined {
  for (const d of document.definitions) if (d.kind === 'OperationDefinition' && (!name || d.name?.value === name)) return d.operation;
  return undefined;
}
