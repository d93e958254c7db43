import { createRequestContext, type GatewayServices, type RequestContext, type RequestOrigin } from '../src/requests/request-context.ts';

export type { GatewayServices } from '../src/requests/request-context.ts';
export type { HostView } from '../src/hosts/host-view.ts';

/** What GraphQL resolvers get: the request context every API shares (src/requests/request-context.ts). */
export type Context = RequestContext;

export function createContext(services: GatewayServices, origin: RequestOrigin): Context {
  return createRequestContext(services, origin);
}
