import { createCounter, createHistogram, type FillLabelsFnParams, usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { DocumentNode, ExecutionResult, GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Registry } from 'prom-client';
import type { GatewayMetricSet } from './definitions.ts';
import { type GraphqlOperationLabels, graphqlOperationLabels, httpMethod } from './labels.ts';

/*
 * GraphQL's metrics. Timings come from @graphql-yoga/plugin-prometheus, with every metric it keeps
 * configured here: the client's operationName never becomes a label (it is the client's choice, so
 * unbounded); the root field the operation selects does (labels.ts), and the URL, the error path
 * (list indexes, aliases) and resolver names are left out. Its own /metrics endpoint is off: the
 * gateway serves /metrics behind its authentication (create-gateway.ts). Outcomes
 * (trunkline_graphql_operations_total) come from a plugin of ours, which knows what a payload's
 * userErrors are.
 */

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const OPERATION = ['operation_type', 'operation'] as const;

/** The yoga plugins of the gateway's GraphQL metrics. */
export function graphqlMetricPlugins(registry: Registry, set: GatewayMetricSet, schema: GraphQLSchema): Plugin[] {
  const labelsOf = (params: FillLabelsFnParams): GraphqlOperationLabels =>
    graphqlOperationLabels(schema, params.document, params.operationName);
  // One histogram for every phase (createHistogram keeps one instance per name and registry).
  const phase = <P extends 'parse' | 'validate' | 'context' | 'execute' | 'subscribe'>(name: P) =>
    createHistogram<P, 'phase' | 'operation_type'>({
      registry,
      histogram: {
        name: 'graphql_envelop_phase_duration_seconds',
        help: 'Time GraphQL spent in a phase of an operation (parse, validate, context, execute, subscribe: the start of a subscription), by phase and operation type',
        labelNames: ['phase', 'operation_type'],
        buckets: BUCKETS,
      },
      fillLabelsFn: (params: FillLabelsFnParams) => ({ phase: name, operation_type: labelsOf(params).operation_type }),
      phases: [name],
    });
  const prometheus = usePrometheus({
    registry,
    endpoint: false,
    // For anything left to the plugin's defaults (nothing is): never these labels.
    labels: { operationName: false, path: false, url: false },
    metrics: {
      graphql_envelop_request: createCounter({
        registry,
        counter: {
          name: 'graphql_envelop_request_total',
          help: 'GraphQL operations executed (a subscription when it ends), by operation type and root field',
          labelNames: OPERATION,
        },
        fillLabelsFn: (params: FillLabelsFnParams) => ({ ...labelsOf(params) }),
      }),
      graphql_envelop_request_duration: createHistogram({
        registry,
        histogram: {
          name: 'graphql_envelop_request_duration_seconds',
          help: 'Time to run a GraphQL query or mutation, parse to execute, by operation type and root field',
          labelNames: OPERATION,
          buckets: BUCKETS,
        },
        fillLabelsFn: (params: FillLabelsFnParams) => ({ ...labelsOf(params) }),
        // Not subscriptions: their "duration" is how long a client stayed subscribed.
        phases: ['execute'],
      }),
      graphql_envelop_phase_parse: phase('parse'),
      graphql_envelop_phase_validate: phase('validate'),
      graphql_envelop_phase_context: phase('context'),
      graphql_envelop_phase_execute: phase('execute'),
      graphql_envelop_phase_subscribe: phase('subscribe'),
      graphql_envelop_error_result: createCounter({
        registry,
        counter: {
          name: 'graphql_envelop_error_result_total',
          help: 'Errors in GraphQL answers, by operation type, root field and phase (parse, validate, context, execute, subscribe)',
          labelNames: [...OPERATION, 'phase'],
        },
        fillLabelsFn: (params: FillLabelsFnParams) => ({ ...labelsOf(params), phase: params.errorPhase ?? 'execute' }),
      }),
      graphql_yoga_http_duration: createHistogram({
        registry,
        histogram: {
          name: 'graphql_yoga_http_duration_seconds',
          help: 'Time to answer a GraphQL HTTP request, by operation type, root field, method and status',
          labelNames: [...OPERATION, 'method', 'status_code'],
          buckets: BUCKETS,
        },
        fillLabelsFn: (params: FillLabelsFnParams & { request: Request; response: Response }) => ({
          ...labelsOf(params),
          method: httpMethod(params.request.method),
          status_code: String(params.response.status),
        }),
      }),
      // A summary is not aggregatable across gateways; the histogram above says the same.
      graphql_envelop_request_time_summary: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
      graphql_envelop_execute_resolver: false,
    },
  });
  return [prometheus, useOperationOutcomes(set, schema)];
}

/** ok, user_error (a root payload answered userErrors), error (errors in the answer). */
export function outcomeOf(result: ExecutionResult): 'ok' | 'user_error' | 'error' {
  if (result.errors?.length) return 'error';
  const data = result.data as Record<string, unknown> | null | undefined;
  for (const payload of Object.values(data ?? {})) {
    const userErrors = (payload as { userErrors?: unknown } | null)?.userErrors;
    if (Array.isArray(userErrors) && userErrors.length) return 'user_error';
  }
  return 'ok';
}

const isStream = (result: unknown): boolean => typeof result === 'object' && result !== null && Symbol.asyncIterator in (result as object);

/** Counts every operation by its outcome, the ones refused before they ran (parse, validation) as invalid. */
function useOperationOutcomes(set: GatewayMetricSet, schema: GraphQLSchema): Plugin {
  const count = (labels: GraphqlOperationLabels, outcome: string) => set.graphqlOperations.inc({ ...labels, outcome });
  const labelsOf = (document: DocumentNode | undefined, name?: string | null) => graphqlOperationLabels(schema, document, name);
  return {
    onParse() {
      return ({ result }) => {
        if (result instanceof Error) count(labelsOf(undefined), 'invalid');
      };
    },
    onValidate({ params }) {
      return ({ valid }) => {
        if (!valid) count(labelsOf(params.documentAST), 'invalid');
      };
    },
    onExecute({ args }) {
      return {
        onExecuteDone({ result }) {
          count(labelsOf(args.document, args.operationName), isStream(result) ? 'ok' : outcomeOf(result as ExecutionResult));
        },
      };
    },
    onSubscribe({ args }) {
      return {
        onSubscribeResult({ result }) {
          count(labelsOf(args.document, args.operationName), isStream(result) ? 'ok' : outcomeOf(result as ExecutionResult));
        },
      };
    },
  };
}
