import { ErrorCode } from '../src/errors/codes.ts';
import { parseIdempotencyKey, requestFingerprint } from '../src/requests/idempotency.ts';
import type { GatewayServices } from '../src/requests/request-context.ts';
import type { Operation, Reply, RestRequest } from './operation.ts';
import { problem } from './problem.ts';

export const IDEMPOTENCY_HEADER = 'idempotency-key';

interface StoredAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/**
 * Runs a change operation under its Idempotency-Key, if the request has one: the first request
 * runs and, when it was accepted (2xx, not a dryRun), its answer is kept; a retry with the same
 * key and the same request answers it again (same status, body and Location, plus
 * `Idempotent-Replayed: true`); the same key with another request is 422, one still being handled
 * 409. Keys are per caller (today the X-Trunkline-User name; the authenticated principal once
 * tokens exist).
 */
export async function withIdempotency(
  services: GatewayServices,
  op: Operation,
  req: RestRequest,
  run: () => Promise<Reply>,
): Promise<Reply> {
  const raw = req.headers.get(IDEMPOTENCY_HEADER);
  if (raw === null) return run();
  const key = parseIdempotencyKey(raw);
  if (!key)
    return {
      problem: problem(400, ErrorCode.INVALID_INPUT, 'Idempotency-Key: 1 to 255 printable ASCII characters (optionally quoted)', {
        errors: [
          {
            field: ['Idempotency-Key'],
            in: 'header',
            code: ErrorCode.INVALID_INPUT,
            message: 'Idempotency-Key: 1 to 255 printable ASCII characters',
          },
        ],
      }),
    };
  const scope = req.ctx.caller.id;
  const fingerprint = requestFingerprint(op.operationId, { params: req.params, query: req.query, body: req.body });
  const claim = await services.idempotency.claim('rest', scope, key, fingerprint);
  if (claim.state === 'reused')
    return {
      problem: problem(422, ErrorCode.IDEMPOTENCY_KEY_REUSED, `Idempotency-Key "${key}" was used for a different request`),
    };
  if (claim.state === 'in-progress')
    return {
      problem: problem(
        409,
        ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS,
        `the first request with Idempotency-Key "${key}" is still being handled`,
      ),
      headers: { 'retry-after': '1' },
    };
  if (claim.state === 'answered') {
    const stored = JSON.parse(claim.answer) as StoredAnswer;
    return { status: stored.status, body: stored.body, headers: { ...stored.headers, 'idempotent-replayed': 'true' } };
  }
  const { owner } = claim;
  let reply: Reply;
  try {
    reply = await run();
  } catch (err) {
    await services.idempotency.release('rest', scope, key, owner).catch(() => {});
    throw err;
  }
  // Every answer that accepted something is kept (202 of a change, 201/200 of a registration and
  // its first read); a dryRun's plan queued nothing and a refusal left nothing: the key is free again.
  const dryRun = req.query.dryRun === true || (req.body as { dryRun?: unknown } | undefined)?.dryRun === true;
  if (!(reply instanceof Response) && 'status' in reply && reply.status >= 200 && reply.status < 300 && !dryRun) {
    const stored: StoredAnswer = { status: reply.status, body: reply.body, headers: reply.headers ?? {} };
    await services.idempotency.answer('rest', scope, key, owner, JSON.stringify(stored));
  } else {
    await services.idempotency.release('rest', scope, key, owner);
  }
  return reply;
}
