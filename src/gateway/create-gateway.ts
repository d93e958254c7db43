import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { createContext, type Context, type GatewayServices } from '../../graphql/context.ts';
import { schema } from '../../graphql/schema.ts';

export type Gateway = YogaServerInstance<Record<string, never>, Context>;

/**
 * The HTTP application: GraphQL at /graphql (queries and mutations over POST/GET,
 * subscriptions over SSE), /healthz for load balancers. A fetch handler, so tests call
 * `gateway.fetch(...)` and any runtime can host it.
 */
export function createGateway(services: GatewayServices): Gateway {
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
    plugins: [
      {
        onRequest({ request, url, endResponse, fetchAPI }) {
          if (url.pathname === '/healthz' && request.method === 'GET') {
            endResponse(new fetchAPI.Response(JSON.stringify({ status: 'ok' }), { headers: { 'content-type': 'application/json' } }));
          }
        },
      },
    ],
  });
}
