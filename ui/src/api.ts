/*
 * GraphQL over HTTP (POST /graphql) with the token as Bearer. Failures are sorted into what the
 * operator must do about them: sign in again (401), ask for another role or host group (403),
 * or fix or retry the request.
 */

export type FailureKind = 'unauthenticated' | 'forbidden' | 'rate-limited' | 'unavailable' | 'network' | 'request';

export class ApiError extends Error {
  readonly kind: FailureKind;
  readonly status: number | null;
  readonly code: string | null;

  constructor(kind: FailureKind, message: string, status: number | null = null, code: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = status;
    this.code = code;
  }
}

export interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; [k: string]: unknown };
}

export interface GraphQLBody<T> {
  data?: T | null;
  errors?: GraphQLErrorBody[];
}

/** What an answer means: its data, or the failure (HTTP status first, then the errors' codes). */
export function interpret<T>(status: number, body: GraphQLBody<T> | null): T {
  const first = body?.errors?.[0];
  const code = first?.extensions?.code ?? null;
  const detail = first?.message ?? `HTTP ${status}`;
  if (status === 401 || code === 'UNAUTHENTICATED')
    return fail('unauthenticated', `The gateway refused the token (401): ${detail}`, status, code);
  if (status === 403 || code === 'FORBIDDEN')
    return fail(
      'forbidden',
      `Not allowed for this token (403): ${detail}. Ask an admin for a token with the role or host groups it needs.`,
      status,
      code,
    );
  if (status === 429 || code === 'RATE_LIMITED') return fail('rate-limited', `Rate limited: ${detail}`, status, code);
  if (status === 503 || code === 'SERVICE_UNAVAILABLE') return fail('unavailable', `The gateway is unavailable: ${detail}`, status, code);
  if (first) return fail('request', `${code ? `${code}: ` : ''}${detail}`, status, code);
  if (status < 200 || status >= 300 || !body?.data)
    return fail('request', `Unexpected answer from the gateway (HTTP ${status})`, status, null);
  return body.data;
}

function fail(kind: FailureKind, message: string, status: number, code: string | null): never {
  throw new ApiError(kind, message, status, code);
}

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export interface Api {
  query<T>(document: string, variables?: Record<string, unknown>, token?: string): Promise<T>;
}

export const GRAPHQL_PATH = '/graphql';

/** `token()` is read at each call: signing out or in takes effect on the next request. */
export function createApi(token: () => string | null, fetchImpl: Fetch = (i, init) => fetch(i, init)): Api {
  return {
    async query<T>(document: string, variables: Record<string, unknown> = {}, explicitToken?: string): Promise<T> {
      const bearer = explicitToken ?? token();
      let res: Response;
      try {
        res = await fetchImpl(GRAPHQL_PATH, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/graphql-response+json, application/json',
            ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
          },
          body: JSON.stringify({ query: document, variables }),
        });
      } catch (err) {
        throw new ApiError('network', `Cannot reach the gateway: ${(err as Error).message}`);
      }
      let body: GraphQLBody<T> | null = null;
      try {
        body = (await res.json()) as GraphQLBody<T>;
      } catch {
        body = null;
      }
      return interpret(res.status, body);
    },
  };
}
