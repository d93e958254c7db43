import type { AuthFailure, Authenticator } from '../src/auth/authenticator.ts';
import { ErrorCode } from '../src/errors/codes.ts';
import type { RequestOrigin } from '../src/requests/request-context.ts';
import { PROBLEM_CONTENT_TYPE, problem } from '../rest/problem.ts';

/*
 * Authentication at the gateway's door: every request but a public /healthz is authenticated
 * before anything reads it (GraphQL over HTTP and SSE, REST and its SSE streams, the API
 * reference, GraphiQL); the WebSocket server asks the same authenticator (gateway/websocket.ts).
 * A refusal is a 401 in the shape of what was asked for: problem+json under /api, a GraphQL
 * error for /graphql, with `WWW-Authenticate: Bearer`, or `Basic` for pages a browser opens, so
 * it prompts (the password is the token).
 */

export interface AuthGate {
  /** Authenticates a request: null when it may go on (its origin remembered), else the 401 to answer. */
  admit(request: Request, source: string | null): Promise<Response | null>;
  /** The origin of an admitted request. */
  originOf(request: Request): RequestOrigin;
  /** Admits a request another way (the WebSocket connection's, authenticated once). */
  remember(request: Request, origin: RequestOrigin): void;
}

const REALM = 'realm="Trunkline"';

/** Whether a browser is asking for a page (GraphiQL, the API reference): it gets a Basic prompt. */
function wantsPage(request: Request, url: URL): boolean {
  if (url.pathname.startsWith('/api/docs')) return true;
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

/**
 * A refusal made before GraphQL or REST read the request, in the shape of what was asked for: a
 * GraphQL error at /graphql (unless a browser asks for the page there), problem+json otherwise.
 */
export function refusal(
  request: Request,
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const url = new URL(request.url);
  if (url.pathname === '/graphql' && !wantsPage(request, url)) {
    const body = { errors: [{ message, extensions: { code } }] };
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
  }
  return new Response(JSON.stringify(problem(status, code, message)), {
    status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...headers },
  });
}

export function unauthenticated(request: Request, message: string): Response {
  const challenge = wantsPage(request, new URL(request.url)) ? `Basic ${REALM}, charset="UTF-8"` : `Bearer ${REALM}`;
  return refusal(request, 401, ErrorCode.UNAUTHENTICATED, message, { 'www-authenticate': challenge });
}

/** Told of every refused credential (the audit log). */
export type OnRefused = (request: Request, source: string | null, reason: AuthFailure, message: string) => void;
/** Counts a refused credential of an address: null while it is within its limit, else how long it must wait. */
export type Throttle = (source: string | null) => Promise<{ retryAfterSeconds: number } | null>;

/** A 429 in the shape of what was asked for, with Retry-After. */
export function rateLimited(request: Request, message: string, retryAfterSeconds: number): Response {
  return refusal(request, 429, ErrorCode.RATE_LIMITED, message, { 'retry-after': String(retryAfterSeconds) });
}

export function createAuthGate(
  authenticator: Authenticator,
  onRefused: OnRefused = () => {},
  throttle: Throttle = async () => null,
): AuthGate {
  const origins = new WeakMap<Request, RequestOrigin>();
  return {
    async admit(request, source) {
      const outcome = await authenticator.authenticate(request.headers.get('authorization'));
      if (!outcome.ok) {
        const limited = await throttle(source);
        if (limited)
          return rateLimited(
            request,
            `too many refused credentials from this address; retry in ${limited.retryAfterSeconds} s`,
            limited.retryAfterSeconds,
          );
        onRefused(request, source, outcome.reason, outcome.message);
        return unauthenticated(request, outcome.message);
      }
      origins.set(request, { caller: outcome.caller, source });
      return null;
    },
    originOf(request) {
      const origin = origins.get(request);
      // Every path goes through admit() first (create-gateway.ts): a request without an origin is a bug.
      if (!origin) throw new Error('request was not authenticated');
      return origin;
    },
    remember(request, origin) {
      origins.set(request, origin);
    },
  };
}
