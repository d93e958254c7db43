import type { z } from 'zod';
import type { Role } from '../src/auth/roles.ts';
import type { RequestContext } from '../src/requests/request-context.ts';
import type { Problem } from './problem.ts';

/*
 * A REST operation is data: method, path, the zod schemas of its parameters, body and answers,
 * and a handler. The router (app.ts) serves exactly these and openapi.yaml is generated from
 * exactly these (openapi-document.ts), so what is documented is what is served.
 */

export type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';

export interface AnswerSpec {
  description: string;
  /** The JSON body's schema; none for 204. */
  schema?: z.ZodType;
  /** Other media types of the same answer (e.g. text/event-stream), with a description each. */
  alternatives?: Record<string, { description: string }>;
  headers?: Record<string, { description: string }>;
}

export interface RestRequest {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  /** The parsed JSON body (validated when the operation's body says so). */
  body: unknown;
  headers: Headers;
  request: Request;
  ctx: RequestContext;
}

/** What a handler answers: JSON with a status (problems are JSON too), or a Response it built (a stream). */
export type Reply =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { problem: Problem; headers?: Record<string, string> }
  | Response;

export interface Operation {
  operationId: string;
  method: Method;
  /** Below /api/v1, OpenAPI style: /hypervisors/{name}. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: {
    schema: z.ZodType;
    /**
     * 'router': the router validates the body with the schema (a failure is a 400 naming the
     * fields). 'handler': the handler's request module validates it (change requests, whose
     * schema also checks the path parameters merged into the input).
     */
    validatedBy: 'router' | 'handler';
    description?: string;
    /** Fields of the schema the body does not carry (they come from the path or the query). */
    omit?: readonly string[];
  };
  /**
   * The least role that may call it, checked before anything of the request is read (default:
   * viewer for GET, operator otherwise). The request modules check it again, with the scope.
   */
  role?: Role;
  /** Accepts an Idempotency-Key header: a retry with the same key answers the first answer again. */
  idempotent?: boolean;
  /** Success answers by status. */
  answers: Partial<Record<200 | 201 | 202 | 204, AnswerSpec>>;
  /** Error statuses it can answer (problem+json); 400 and 500 are added to every operation. */
  problems: readonly (400 | 404 | 409 | 413 | 415 | 422 | 503)[];
  handle(req: RestRequest): Promise<Reply>;
}

export const defineOperations = (...ops: Operation[]): Operation[] => ops;

/** The least role an operation needs. */
export const roleOf = (op: Pick<Operation, 'role' | 'method'>): Role => op.role ?? (op.method === 'get' ? 'viewer' : 'operator');

/** OpenAPI path → the router's: /hypervisors/{name} → /hypervisors/:name. */
export const routerPath = (path: string) => path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
