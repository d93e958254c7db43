import { ErrorCode } from '../src/errors/codes.ts';

/*
 * What the CLI's exit status says (docs/cli.md): scripts branch on it, so each outcome has one
 * code and every error is mapped here, nowhere else.
 */
export const Exit = {
  OK: 0,
  /** The job ended FAILED or CANCELLED. */
  JOB_FAILED: 1,
  /** Bad arguments, or the gateway refused the input (problem+json 4xx other than 401/403). */
  USAGE: 2,
  /** No answer from the gateway (connection refused, DNS, timeout), or it cannot serve now (5xx, 429, not Trunkline). */
  UNREACHABLE: 3,
  /** 401 or 403: no valid token, or its role or host groups do not allow this. */
  UNAUTHORISED: 4,
  /** --timeout passed before the job ended (the job goes on). */
  TIMED_OUT: 5,
  /** Ctrl-C while waiting (the job goes on), as shells report SIGINT. */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** The CLI's own error codes, next to the gateway's (src/errors/codes.ts) that problems carry. */
export const CliCode = {
  USAGE: 'USAGE',
  GATEWAY_UNREACHABLE: 'GATEWAY_UNREACHABLE',
  BAD_ANSWER: 'BAD_ANSWER',
  WAIT_TIMEOUT: 'WAIT_TIMEOUT',
  INTERRUPTED: 'INTERRUPTED',
} as const;
export type CliCode = (typeof CliCode)[keyof typeof CliCode];

/** One offending field, as problem+json `errors[]` names it (plus the CLI flag it came from, when known). */
export interface FieldProblem {
  field: string[];
  in: string;
  code: string;
  message: string;
}

/** The body of a problem+json answer (rest/problem.ts), as far as the CLI reads it. */
export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: FieldProblem[];
  jobId?: string;
}

export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly code: string;
  readonly fields: readonly FieldProblem[];
  /** Lines printed after the message (hints). */
  readonly hints: readonly string[];
  /** The CLI flag each request field came from (its first path segment → e.g. `--hosts`), for the message. */
  flags: Readonly<Record<string, string>> = {};
  constructor(
    exitCode: ExitCode,
    code: string,
    message: string,
    opts: { fields?: readonly FieldProblem[]; hints?: readonly string[] } = {},
  ) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.code = code;
    this.fields = opts.fields ?? [];
    this.hints = opts.hints ?? [];
  }
}

export const usageError = (message: string, hints: readonly string[] = []) => new CliError(Exit.USAGE, CliCode.USAGE, message, { hints });

/** The exit code of an HTTP error status: 401/403 → 4; 429 and 5xx (busy, Redis down, crashed) → 3; other 4xx → 2. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return Exit.UNAUTHORISED;
  if (status === 429 || status >= 500) return Exit.UNREACHABLE;
  if (status >= 400) return Exit.USAGE;
  return Exit.OK;
}

/** The exit code of a job's final state. */
export function exitCodeForJobState(state: string): ExitCode {
  return state === 'SUCCEEDED' ? Exit.OK : Exit.JOB_FAILED;
}

const isProblem = (body: unknown): body is ProblemBody =>
  typeof body === 'object' && body !== null && typeof (body as ProblemBody).code === 'string';

/**
 * The error for a non-2xx answer. A problem+json body gives the code, detail and fields; any
 * other body (a proxy's HTML page, an old gateway) still maps by status.
 */
export function errorFromAnswer(status: number, body: unknown, what: string): CliError {
  const exitCode = exitCodeForStatus(status) || Exit.UNREACHABLE;
  if (!isProblem(body)) {
    const text = typeof body === 'string' && body.trim() ? `: ${body.trim().split('\n')[0]!.slice(0, 200)}` : '';
    return new CliError(exitCode, status >= 500 ? CliCode.BAD_ANSWER : `HTTP_${status}`, `${what}: HTTP ${status}${text}`);
  }
  const hints: string[] = [];
  if (status === 401)
    hints.push('give a token: --token, TRUNKLINE_TOKEN, or token/tokenFile in the config file (trunkline --help: Configuration)');
  if (status === 403) hints.push("the token's role or host groups do not allow this (trunkline token whoami)");
  if (body.code === ErrorCode.SERVICE_UNAVAILABLE || status === 429) hints.push('retry later');
  if (body.jobId) hints.push(`job: ${body.jobId}`);
  return new CliError(exitCode, body.code!, body.detail ?? body.title ?? `HTTP ${status}`, { fields: body.errors ?? [], hints });
}

/** The error for a request that got no HTTP answer at all. */
export function unreachableError(url: string, cause: unknown): CliError {
  const err = cause as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const why =
    err?.name === 'TimeoutError'
      ? 'no answer in time'
      : (err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(cause)).toString();
  return new CliError(Exit.UNREACHABLE, CliCode.GATEWAY_UNREACHABLE, `cannot reach the gateway at ${url}: ${why}`, {
    hints: ['is the gateway running? Set its URL with --url, TRUNKLINE_URL or url in the config file'],
  });
}

/**
 * The lines an error prints (on stderr): the message with its code, then each field named as
 * the request had it (where: body, query, path, header) and, when known, the CLI flag it came from.
 */
export function formatError(err: CliError): string[] {
  const flagOf = (field: readonly string[]) => (field.length ? err.flags[field[0]!] : undefined);
  const lines = [`error: ${err.code === CliCode.USAGE ? '' : `${err.code}: `}${err.message}`];
  for (const f of err.fields) {
    const path = f.field.length ? f.field.join('.') : `(the whole ${f.in})`;
    const flag = flagOf(f.field);
    const message = f.message.startsWith(`${f.field.join('.')}: `) ? f.message.slice(f.field.join('.').length + 2) : f.message;
    lines.push(`  field ${path} (${f.in}${flag ? `, ${flag}` : ''}): ${f.code}: ${message}`);
  }
  for (const h of err.hints) lines.push(`  hint: ${h}`);
  return lines;
}
