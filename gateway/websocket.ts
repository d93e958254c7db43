import type { Server } from 'node:http';
import type { Server as TlsServer } from 'node:https';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { ErrorCode } from '../src/errors/codes.ts';
import type { Gateway } from './create-gateway.ts';

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/** What a socket keeps from its connection: the credentials it authenticated with, and the peer. */
interface SocketAuth {
  authorization: string | null;
  source: string | null;
}

/** graphql-ws close code of a connection whose credentials are missing or not valid (4403 is graphql-ws's Forbidden). */
export const CLOSE_UNAUTHORIZED = 4401;

/** The credentials of a connection: connection_init's payload `{ authorization: "Bearer …" }`, else the upgrade request's header. */
function authorizationOf(params: Readonly<Record<string, unknown>> | undefined, header: string | undefined): string | null {
  const given = params?.authorization ?? params?.Authorization;
  if (typeof given === 'string') return given;
  return header ?? null;
}

/**
 * GraphQL over WebSocket (the graphql-ws protocol) on the same path as HTTP, for clients that
 * prefer it to SSE. Operations run through Yoga's envelop, so context, validation and error
 * masking are the same as over HTTP. A connection is authenticated once when it opens (refused:
 * closed with 4401), and its credentials again for every operation it starts, so a token revoked
 * meanwhile starts nothing more.
 * @example attachWebSocket(httpServer, gateway) // ws://127.0.0.1:4000/graphql, connectionParams { authorization: 'Bearer tl_…' }
 */
export function attachWebSocket(server: Server | TlsServer, gateway: Gateway): () => Promise<void> {
  const wss = new WebSocketServer({ server, path: gateway.graphqlEndpoint });
  const sockets = new WeakMap<object, SocketAuth>();
  const requestWith = (auth: SocketAuth) =>
    new Request('http://ws.local/graphql', { headers: auth.authorization ? { authorization: auth.authorization } : {} });
  const disposable = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as never,
      onConnect: async (ctx) => {
        const auth = {
          authorization: authorizationOf(ctx.connectionParams, ctx.extra.request.headers.authorization),
          source: ctx.extra.request.socket.remoteAddress ?? null,
        };
        const refused = await gateway.authGate.admit(requestWith(auth), auth.source);
        if (refused) {
          const { errors } = (await refused.json()) as { errors?: { message: string }[] };
          // A close reason holds at most 123 bytes.
          ctx.extra.socket.close(CLOSE_UNAUTHORIZED, `Unauthorized: ${errors?.[0]?.message ?? ''}`.slice(0, 123));
          return false;
        }
        sockets.set(ctx.extra.socket, auth);
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const auth = sockets.get(ctx.extra.socket) ?? { authorization: null, source: null };
        const request = requestWith(auth);
        if (await gateway.authGate.admit(request, auth.source))
          return [
            new GraphQLError("the connection's credentials are no longer valid", { extensions: { code: ErrorCode.UNAUTHENTICATED } }),
          ];
        const { schema, execute, subscribe, contextFactory, parse, validate } = gateway.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          request,
        });
        try {
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
        } catch (err) {
          // A syntax error, or a limit armor throws on (gateway/query-limits.ts): an error of this operation, not of the socket.
          if (err instanceof GraphQLError) return [err];
          throw err;
        }
      },
    },
    wss,
  );
  return async () => {
    // Every open socket hears why it closes and what to do: reconnect (to any gateway) and
    // resubscribe, with `since` for jobEvents; jobProgress replays the job's past events anyway.
    for (const socket of wss.clients) socket.close(CLOSE_RESTART, RESTART_REASON);
    await disposable.dispose();
    wss.close();
  };
}

/** The WebSocket close code of a server going away for a restart (RFC 6455's 1012, Service Restart). */
export const CLOSE_RESTART = 1012;
const RESTART_REASON = 'gateway restarting: reconnect (any gateway) and resubscribe; jobEvents resumes with since';
