import type { Server } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Gateway } from './create-gateway.ts';

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/**
 * GraphQL over WebSocket (the graphql-ws protocol) on the same path as HTTP, for clients that
 * prefer it to SSE. Operations run through Yoga's envelop, so context, validation and error
 * masking are the same as over HTTP.
 * @example attachWebSocket(httpServer, gateway) // ws://127.0.0.1:4000/graphql
 */
export function attachWebSocket(server: Server, gateway: Gateway): () => Promise<void> {
  const wss = new WebSocketServer({ server, path: gateway.graphqlEndpoint });
  const disposable = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = gateway.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          request: new Request('http://ws.local/graphql', { headers: ctx.extra.request.headers as Record<string, string> }),
        });
        const args: ExecutionArgs = {
          schema,
          operationName: payload.operationName,
          document: parse(payload.query),
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        return errors.length ? errors : args;
      },
    },
    wss,
  );
  return async () => {
    await disposable.dispose();
    wss.close();
  };
}
