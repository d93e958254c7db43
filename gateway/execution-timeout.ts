import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode } from '../src/errors/codes.ts';

/**
 * A bound on how long one query or mutation may run: past `ms`, the client is answered
 * EXECUTION_TIMEOUT (HTTP 504) and execution is told to stop (graphql-js stops resolving fields
 * once the abort signal fires; a compiled query ends its current work). The depth, cost and alias
 * limits bound how much an operation can ask for; this bounds how long waiting can take (a
 * `refresh: true` no worker takes, a Redis that stalls). Subscriptions are long-lived by design:
 * not bounded. 0 turns it off.
 */
export function useExecutionTimeout(ms: number): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      if (ms <= 0) return;
      setExecuteFn(async (args) => {
        const abort = new AbortController();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<{ errors: GraphQLError[] }>((resolve) => {
          timer = setTimeout(() => {
            abort.abort();
            resolve({
              errors: [
                new GraphQLError(`the operation ran longer than ${ms} ms (TRUNKLINE_GRAPHQL_EXECUTION_TIMEOUT_MS)`, {
                  extensions: { code: ErrorCode.EXECUTION_TIMEOUT, http: { status: 504 } },
                }),
              ],
            });
          }, ms);
        });
        try {
          return await Promise.race([Promise.resolve(executeFn({ ...args, abortSignal: abort.signal } as typeof args)), timedOut]);
        } finally {
          clearTimeout(timer);
        }
      });
    },
  };
}
