import { type DocumentNode, type GraphQLSchema, getOperationAST, Kind, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/*
 * Label values come from closed sets only: the schema's root fields, the REST API's operationIds,
 * job and step kinds, BullMQ job names, HTTP statuses, error codes, the registered hosts. Nothing a
 * client names freely (a GraphQL operationName, an alias, a URL with its ids and query) and no job
 * id ever becomes a label value: each distinct value is a time series Prometheus keeps.
 */

/** The value of a label whose input is outside its closed set. */
export const UNKNOWN = 'unknown';
/** A GraphQL operation that selects several root fields. */
export const MULTIPLE = 'multiple';
/** A GraphQL operation that selects only meta fields (__schema, __type, __typename). */
export const INTROSPECTION = 'introspection';

/** `value` when `known` has it, else `fallback`. */
export function bounded(value: string | null | undefined, known: ReadonlySet<string>, fallback = UNKNOWN): string {
  return value != null && known.has(value) ? value : fallback;
}

export interface GraphqlOperationLabels {
  operation_type: string;
  /** The root field the operation selects (its name, never its alias), or unknown / multiple / introspection. */
  operation: string;
}

const UNKNOWN_OPERATION: GraphqlOperationLabels = Object.freeze({ operation_type: UNKNOWN, operation: UNKNOWN });
const OPERATION_TYPES: ReadonlySet<string> = new Set(['query', 'mutation', 'subscription']);

/** The operation a request runs: the named one, the only one, else the first. */
function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | null {
  const named = operationName ? getOperationAST(document, operationName) : null;
  return (
    named ??
    getOperationAST(document) ??
    (document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode | undefined) ??
    null
  );
}

/** The names of the fields an operation selects at its root, through inline fragments and fragment spreads. */
export function rootFieldNames(document: DocumentNode, operation: OperationDefinitionNode): Set<string> {
  const fragments = new Map<string, SelectionSetNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d.selectionSet);
  const names = new Set<string>();
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) names.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) walk(fragment);
      }
    }
  };
  walk(operation.selectionSet);
  return names;
}

const memo = new WeakMap<DocumentNode, Map<string, GraphqlOperationLabels>>();

/**
 * The GraphQL labels of a request: its operation type and the one root field of the schema it
 * selects. The client's operationName only picks the operation out of the document; a field the
 * schema lacks (the operation fails validation) is `unknown`. Memoised per parsed document (yoga
 * and graphql-jit reuse the document of a query they have seen).
 */
export function graphqlOperationLabels(
  schema: GraphQLSchema,
  document: DocumentNode | null | undefined,
  operationName?: string | null,
): GraphqlOperationLabels {
  if (!document) return UNKNOWN_OPERATION;
  let byName = memo.get(document);
  if (!byName) {
    byName = new Map();
    memo.set(document, byName);
  }
  const key = operationName ?? '';
  let labels = byName.get(key);
  if (!labels) {
    labels = computeLabels(schema, document, operationName);
    // Bounded by the document's operations: a key that picks none falls back to the same answer.
    if (byName.size < 16) byName.set(key, labels);
  }
  return labels;
}

function computeLabels(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): GraphqlOperationLabels {
  const op = operationOf(document, operationName);
  if (!op || !OPERATION_TYPES.has(op.operation)) return UNKNOWN_OPERATION;
  const root =
    op.operation === 'query'
      ? schema.getQueryType()
      : op.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  const fields = root?.getFields() ?? {};
  const names = [...rootFieldNames(document, op)];
  const meta = names.filter((n) => n.startsWith('__'));
  const known = names.filter((n) => !n.startsWith('__') && Object.hasOwn(fields, n));
  const operation =
    known.length + meta.length < names.length
      ? UNKNOWN
      : known.length === 0
        ? meta.length
          ? INTROSPECTION
          : UNKNOWN
        : known.length === 1
          ? known[0]!
          : MULTIPLE;
  return { operation_type: op.operation, operation };
}

/** A REST operation as the router serves it: the method and the OpenAPI path under the API's base. */
export interface RestRoute {
  operationId: string;
  method: string;
  /** The full path, OpenAPI style: /api/v1/hypervisors/{name}/bridges. */
  path: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The operationId a request was routed to (HEAD as the path's GET), or `unknown` for a path or
 * method the API does not serve: path parameters (host names, job ids) never reach a label.
 */
export function restOperationMatcher(routes: readonly RestRoute[]): (method: string, pathname: string) => string {
  const compiled = routes
    .map((r) => {
      const segments = r.path.split('/');
      const params = segments.filter((s) => /^\{[^}]+\}$/.test(s)).length;
      const re = new RegExp(`^${segments.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : escapeRegExp(s))).join('/')}$`);
      return { operationId: r.operationId, method: r.method.toUpperCase(), re, params };
    })
    // A literal segment wins over a parameter (/jobs/stream before /jobs/{id}), as the router has it.
    .sort((a, b) => a.params - b.params);
  return (method, pathname) => {
    const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
    return compiled.find((c) => c.method === m && c.re.test(pathname))?.operationId ?? UNKNOWN;
  };
}

/** Which part of the gateway a path belongs to: the closed set of its entry points. */
export function httpRoute(pathname: string, restBase: string): string {
  if (pathname === '/graphql') return 'graphql';
  if (pathname === restBase || pathname.startsWith(`${restBase}/`)) return 'rest';
  if (pathname.startsWith('/api/')) return 'docs';
  if (pathname === '/metrics') return 'metrics';
  if (pathname === '/healthz' || pathname.startsWith('/healthz/')) return 'healthz';
  if (pathname === '/ui' || pathname.startsWith('/ui/')) return 'ui';
  return 'other';
}

const METHODS: ReadonlySet<string> = new Set(['get', 'head', 'post', 'put', 'patch', 'delete', 'options']);

/** An HTTP method (upper case), or `other` for one a client made up. */
export const httpMethod = (method: string): string => (METHODS.has(method.toLowerCase()) ? method.toUpperCase() : 'other');
