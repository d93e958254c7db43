import { Hono, type Context as HonoContext } from 'hono';
import { z } from 'zod';
import { ErrorCode, TrunklineError } from '../src/errors/codes.ts';
import { isRedisUnavailable, RETRY_AFTER_SECONDS, unavailableMessage } from '../src/redis/availability.ts';
import { createRequestContext, type GatewayServices, type RequestOrigin } from '../src/requests/request-context.ts';
import type { Operation, Reply } from './operation.ts';
import { roleOf, routerPath } from './operation.ts';
import { roleDenials } from '../src/auth/authorize.ts';
import { OPERATIONS } from './operations/index.ts';
import { fieldErrorsFromZod, PROBLEM_CONTENT_TYPE, type Problem, problem } from './problem.ts';
import { API_BASE } from './replies.ts';
import { withIdempotency } from './idempotency.ts';
import { Refusal } from '../src/requests/refusal.ts';
import { restAuditEntry } from './audit.ts';
import { refusedReply } from './replies.ts';

/**
 * The REST API under /api/v1: every operation of rest/operations/, nothing else. Errors of
 * every kind (unknown route, wrong method, bad JSON, wrong media type, a body too large, a
 * refused input, a crash) answer RFC 9457 problem+json.
 */
export function createRestApp(
  services: GatewayServices,
  /** Who sent a request: the gateway authenticated it before handing it here. */
  originOf: (request: Request) => RequestOrigin,
  operations: readonly Operation[] = OPERATIONS,
): Hono {
  const app = new Hono().basePath(API_BASE);

  const methodsByPath = new Map<string, string[]>();
  for (const op of operations) {
    const path = routerPath(op.path);
    methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), op.method.toUpperCase()]);
    // Unknown query parameters are refused, not ignored: ?dryRun=true where no dry run exists would otherwise act.
    const query = (op.query ?? z.object({})).strict();
    app.on(op.method.toUpperCase(), path, (c) => handle(c, op, query, services, originOf));
  }
  // After every operation of a path: the methods it does not have.
  for (const [path, methods] of methodsByPath) {
    const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].join(', ');
    app.all(path, (c) => {
      c.header('allow', allow);
      return problemResponse(c, problem(405, ErrorCode.METHOD_NOT_ALLOWED, `${c.req.method} is not allowed here; allowed: ${allow}`));
    });
  }
  app.notFound((c) => problemResponse(c, problem(404, ErrorCode.NOT_FOUND, `no API route ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err, c) => {
    if (isRedisUnavailable(err)) {
      services.logger.warn(
        { err: err.message, method: c.req.method, path: new URL(c.req.url).pathname },
        'REST request: Redis unavailable',
      );
      const jobId = err instanceof TrunklineError && typeof err.details.jobId === 'string' ? { jobId: err.details.jobId } : {};
      return problemResponse(c, problem(503, ErrorCode.SERVICE_UNAVAILABLE, unavailableMessage(err), jobId), {
        'retry-after': String(RETRY_AFTER_SECONDS),
      });
    }
    services.logger.error({ err, method: c.req.method, path: new URL(c.req.url).pathname }, 'REST request failed');
    return problemResponse(c, problem(500, ErrorCode.INTERNAL, 'an unexpected error; the gateway log has the details'));
  });
  return app;
}

/**
 * The request body as text, read at most `limit` bytes far (more is a 413, with or without a
 * Content-Length). Only operations that take a body read it. Not hono/body-limit: it rebuilds
 * the request with the global Request constructor, which refuses the Request objects of the
 * server adapter (yoga's) whenever the body has no Content-Length (chunked, or none at all).
 */
async function readBodyText(c: HonoContext, limit: number): Promise<{ text: string } | { problem: Problem }> {
  const tooLarge = { problem: wholeBodyProblem(413, ErrorCode.PAYLOAD_TOO_LARGE, `the request body is larger than ${limit} bytes`) };
  const stream = c.req.raw.body;
  if (!stream) return { text: '' };
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > limit) return tooLarge;
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return tooLarge;
    }
    text += decoder.decode(value, { stream: true });
  }
  return { text: text + decoder.decode() };
}

// (A 413's connection is closed by the gateway, for every API: gateway/create-gateway.ts.)
function problemResponse(c: HonoContext, p: Problem, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(p), p.status as 400, { ...headers, 'content-type': PROBLEM_CONTENT_TYPE });
}

function toReply(c: HonoContext, reply: Reply): Response {
  if (reply instanceof Response) return reply;
  if ('problem' in reply) return problemResponse(c, reply.problem, reply.headers);
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.status === 204) return c.body(null, 204, headers);
  headers['content-type'] = 'application/json';
  return c.body(JSON.stringify(reply.body), reply.status as 200, headers);
}

/** Query parameters as an object: a repeated parameter becomes a list. */
function queryObject(c: HonoContext): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => [k, v.length === 1 ? v[0]! : v]));
}

/** A problem with the body as a whole (or its Content-Type header), naming it in `errors` like every refusal. */
function wholeBodyProblem(status: number, code: ErrorCode, detail: string, where: 'body' | 'header' = 'body'): Problem {
  return problem(status, code, detail, { errors: [{ field: where === 'body' ? [] : ['Content-Type'], in: where, code, message: detail }] });
}

async function readBody(c: HonoContext, op: Operation, limit: number): Promise<{ body: unknown } | { problem: Problem }> {
  if (!op.body) return { body: undefined };
  const type = c.req.header('content-type') ?? '';
  const read = await readBodyText(c, limit);
  if ('problem' in read) return read;
  const text = read.text;
  if (text.length === 0) return { body: {} };
  if (!/^application\/([a-z.+-]+\+)?json\s*(;|$)/i.test(type))
    return {
      problem: wholeBodyProblem(
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        `the body must be application/json, not "${type || 'none'}"`,
        'header',
      ),
    };
  try {
    return { body: JSON.parse(text) };
  } catch (err) {
    return { problem: wholeBodyProblem(400, ErrorCode.MALFORMED_BODY, `the body is not valid JSON: ${(err as Error).message}`) };
  }
}

async function handle(
  c: HonoContext,
  op: Operation,
  querySchema: z.ZodObject,
  services: GatewayServices,
  originOf: (request: Request) => RequestOrigin,
): Promise<Response> {
  const origin = originOf(c.req.raw);
  const rawParams = c.req.param();
  const rawQuery = queryObject(c);
  /** Answers a reply, audited with the request as it came (or as validated, once it was). */
  const audited = (
    reply: Reply,
    req: { params: unknown; query: Record<string, unknown>; body: unknown } = { params: rawParams, query: rawQuery, body: null },
  ) => {
    const entry = restAuditEntry(op, origin, { ...req, headers: c.req.raw.headers }, reply);
    if (entry) services.audit.recordInBackground(entry);
    return toReply(c, reply);
  };
  // The role first: a caller that may not call the operation learns nothing from validating its input.
  const denied = roleDenials(origin.caller, roleOf(op), op.operationId);
  if (denied.length) return audited(refusedReply(denied));
  const limited = await services.rates.take(op.method === 'get' ? 'reads' : 'changes', origin.caller.id);
  if (limited)
    return problemResponse(
      c,
      problem(
        429,
        ErrorCode.RATE_LIMITED,
        `too many ${op.method === 'get' ? 'reads' : 'changes'} by this token this minute; retry in ${limited.retryAfterSeconds} s`,
      ),
      { 'retry-after': String(limited.retryAfterSeconds) },
    );
  const params = op.params ? op.params.safeParse(rawParams) : { success: true as const, data: {} };
  const query = querySchema.safeParse(rawQuery);
  const read = await readBody(c, op, services.config.api.restBodyLimitBytes);
  if ('problem' in read) return audited({ problem: read.problem });
  let body = read.body;
  const errors = [
    ...(params.success ? [] : fieldErrorsFromZod(params.error, 'path')),
    ...(query.success ? [] : fieldErrorsFromZod(query.error, 'query')),
  ];
  if (op.body?.validatedBy === 'router') {
    const parsed = op.body.schema.safeParse(body);
    if (parsed.success) body = parsed.data;
    else errors.push(...fieldErrorsFromZod(parsed.error, 'body'));
  } else if (op.body && (typeof body !== 'object' || body === null || Array.isArray(body))) {
    return audited(
      { problem: wholeBodyProblem(400, ErrorCode.MALFORMED_BODY, 'the body must be a JSON object') },
      { params: rawParams, query: rawQuery, body },
    );
  }
  if (errors.length)
    return audited(
      { problem: problem(400, ErrorCode.INVALID_INPUT, errors.map((e) => e.message).join('; '), { errors }) },
      { params: rawParams, query: rawQuery, body },
    );
  const ctx = createRequestContext(services, origin);
  const req = {
    params: params.success ? params.data : {},
    query: query.success ? query.data : {},
    body,
    headers: c.req.raw.headers,
    request: c.req.raw,
    ctx,
  };
  const run = async (): Promise<Reply> => {
    try {
      return await op.handle(req);
    } catch (err) {
      if (err instanceof Refusal) return refusedReply(err.userErrors, err.pathFields);
      throw err;
    }
  };
  const reply = op.idempotent ? await withIdempotency(services, op, req, run) : await run();
  return audited(reply, req);
}
