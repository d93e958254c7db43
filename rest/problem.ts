import { z } from 'zod';
import type { UserError } from '../src/changes/user-errors.ts';
import { ERROR_CODE_DESCRIPTIONS, ErrorCode } from '../src/errors/codes.ts';
import { ErrorCodeSchema } from './schemas/common.ts';

/*
 * RFC 9457 problem details, the body of every REST error answer. `type` is a stable URN per
 * error code (the codes GraphQL userErrors carry); `errors` names each offending field.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Where a field of a request is: the path, the query string, a header or the JSON body. */
export type FieldLocation = 'path' | 'query' | 'header' | 'body';

export interface FieldError {
  /** Path to the field within its location, e.g. ["hypervisors", "0"]; empty for the whole body. */
  field: string[];
  in: FieldLocation;
  code: ErrorCode;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
  /** The job a problem is about (an idempotency key whose job exists). */
  jobId?: string;
}

export const problemType = (code: ErrorCode) => `urn:trunkline:error:${code}`;

const TITLES: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, code: ErrorCode, detail: string, extra: Partial<Problem> = {}): Problem {
  return { type: problemType(code), title: TITLES[status] ?? 'Error', status, detail, code, ...extra };
}

/** Refusals that depend on the hosts' state, not on the input: the resource is in the way. */
const CONFLICTS: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.IN_USE,
  ErrorCode.PORT_ON_OTHER_BRIDGE,
  ErrorCode.VM_RUNNING,
  ErrorCode.WOULD_EMPTY_TRUNK,
  ErrorCode.WOULD_TRUNK_ALL_VLANS,
  ErrorCode.NETWORK_RESTART_REQUIRED,
  ErrorCode.VM_NOT_MANAGED,
  ErrorCode.UPLINK_IS_ACCESS,
  ErrorCode.JOB_FINISHED,
  ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS,
  ErrorCode.HOST_KEY_CONFLICT,
]);

/**
 * userErrors (fields rooted at `input`) as a problem. `pathFields` maps input fields that came
 * from the URL to their path parameter (also for an element of one: `hypervisors.0` ← `name`);
 * the other fields are in `otherIn` (the body, or the query string of a DELETE). Status: 400 for
 * invalid input, 404 when what the path names does not exist, 409 for a state conflict, 422 for
 * the rest (well-formed but refused).
 */
export function problemFromUserErrors(
  userErrors: readonly UserError[],
  pathFields: Readonly<Record<string, string>> = {},
  otherIn: 'body' | 'query' = 'body',
): Problem {
  const errors: FieldError[] = userErrors.map((e) => {
    const field = e.field[0] === 'input' ? e.field.slice(1) : e.field;
    const param = field.length > 0 ? pathFields[field[0]!] : undefined;
    if (!param) return { field, in: otherIn, code: e.code, message: e.message };
    // The message starts with the input's dotted field; the client named the path parameter.
    const prefix = `${field.join('.')}: `;
    const message = e.message.startsWith(prefix) ? `${param}: ${e.message.slice(prefix.length)}` : e.message;
    return { field: [param], in: 'path', code: e.code, message };
  });
  const codes = new Set(errors.map((e) => e.code));
  const status = codes.has(ErrorCode.INVALID_INPUT)
    ? 400
    : codes.has(ErrorCode.FORBIDDEN)
      ? 403
      : codes.has(ErrorCode.RATE_LIMITED)
        ? 429
        : errors.some((e) => e.in === 'path' && (e.code === ErrorCode.UNKNOWN_HYPERVISOR || e.code === ErrorCode.NOT_FOUND))
          ? 404
          : [...codes].some((c) => CONFLICTS.has(c))
            ? 409
            : 422;
  const first =
    errors.find((e) =>
      status === 400
        ? e.code === ErrorCode.INVALID_INPUT
        : status === 403
          ? e.code === ErrorCode.FORBIDDEN
          : status === 429
            ? e.code === ErrorCode.RATE_LIMITED
            : true,
    ) ?? errors[0];
  const code = first?.code ?? ErrorCode.INVALID_INPUT;
  const detail = errors.map((e) => e.message).join('; ') || ERROR_CODE_DESCRIPTIONS[code];
  return problem(status, code, detail, { errors });
}

/** Field errors of a zod failure in one location of the request. */
export function fieldErrorsFromZod(error: z.ZodError, location: FieldLocation): FieldError[] {
  return error.issues.flatMap((issue) => {
    const field = issue.path.map(String);
    // An unknown parameter is named itself (a typo such as ?dryrun=true must not pass unnoticed).
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({
        field: [...field, key],
        in: location,
        code: ErrorCode.INVALID_INPUT,
        message: `${[...field, key].join('.')}: unknown parameter`,
      }));
    return [{ field, in: location, code: ErrorCode.INVALID_INPUT, message: `${field.join('.') || location}: ${issue.message}` }];
  });
}

/** The schema of a problem body (components/schemas/Problem in openapi.yaml). */
export const ProblemSchema = z
  .object({
    type: z.string().describe('A URN naming the error code, e.g. urn:trunkline:error:INVALID_INPUT.'),
    title: z.string().describe('The HTTP status in words.'),
    status: z.number().int(),
    detail: z.string().describe('What went wrong, for humans.'),
    code: ErrorCodeSchema.describe('The error code, as GraphQL userErrors and job errors carry it.'),
    errors: z
      .array(
        z.object({
          field: z.array(z.string()).describe('Path to the field within its location; empty for the whole body.'),
          in: z.enum(['path', 'query', 'header', 'body']),
          code: ErrorCodeSchema,
          message: z.string(),
        }),
      )
      .optional()
      .describe('One entry per offending field.'),
    jobId: z.string().optional().describe('The job the problem is about, if any.'),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details: the body of every error answer.' });
