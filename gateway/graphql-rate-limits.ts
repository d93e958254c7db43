import { getOperationAST, GraphQLError, Kind } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../graphql/context.ts';
import { ErrorCode } from '../src/errors/codes.ts';

/*
 * The per-token rate limits (src/limits/rate-limiter.ts) for GraphQL: a mutation takes one
 * change per root field, a query or subscription one read, before anything runs. Over the limit:
 * 429 with Retry-After (yoga sets both from the error's extensions.http), nothing executed.
 */

function limitedError(kind: 'changes' | 'reads', retryAfterSeconds: number): GraphQLError {
  return new GraphQLError(`too many ${kind} by this token this minute; retry in ${retryAfterSeconds} s`, {
    extensions: { code: ErrorCode.RATE_LIMITED, http: { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } } },
  });
}

async function take(ctx: Context, document: Parameters<typeof getOperationAST>[0], operationName: string | null | undefined) {
  const op = getOperationAST(document, operationName);
  const kind = op?.operation === 'mutation' ? 'changes' : 'reads';
  const points = kind === 'changes' ? Math.max(1, op!.selectionSet.selections.filter((s) => s.kind === Kind.FIELD).length) : 1;
  const limited = await ctx.rates.take(kind, ctx.caller.id, points);
  return limited ? limitedError(kind, limited.retryAfterSeconds) : null;
}

export function useRateLimits(): Plugin<Context> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const error = await take(args.contextValue as Context, args.document, args.operationName);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const error = await take(args.contextValue as Context, args.document, args.operationName);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
