import { actorOf, type AuditOutcome, type NewAuditEntry } from '../src/audit/audit-entry.ts';
import type { RequestOrigin } from '../src/requests/request-context.ts';
import type { Operation, Reply } from './operation.ts';

/**
 * The audit record of a REST request, or null when it needs none: every operation that is not a
 * read, and every read that was denied (403).
 */
export function restAuditEntry(
  op: Operation,
  origin: RequestOrigin,
  req: { params: unknown; query: Record<string, unknown>; body: unknown; headers: Headers },
  reply: Reply,
): NewAuditEntry | null {
  const status = reply instanceof Response ? reply.status : 'problem' in reply ? reply.problem.status : reply.status;
  if (op.method === 'get' && status !== 403) return null;
  const problem = !(reply instanceof Response) && 'problem' in reply ? reply.problem : null;
  const body = !(reply instanceof Response) && !('problem' in reply) ? (reply.body as Record<string, unknown> | undefined) : undefined;
  const outcome: AuditOutcome =
    status === 202
      ? 'ACCEPTED'
      : status < 300
        ? req.query.dryRun
          ? 'DRY_RUN'
          : 'DONE'
        : status === 403
          ? 'DENIED'
          : status === 401
            ? 'UNAUTHENTICATED'
            : status >= 500
              ? 'FAILED'
              : 'REFUSED';
  const input = (req.body ?? {}) as Record<string, unknown>;
  // A 202 answers the job itself; a registration, { hypervisor, job }.
  const job = status === 202 ? ((body?.job as { id?: string } | undefined)?.id ?? (body?.id as string | undefined)) : undefined;
  return {
    api: 'rest',
    operation: op.operationId,
    outcome,
    code: problem?.code ?? null,
    message: problem?.detail ?? null,
    actor: actorOf(origin.caller),
    source: origin.source,
    input: { params: req.params, query: req.query, body: req.body },
    ticketRef: typeof input.ticketRef === 'string' ? input.ticketRef : null,
    idempotencyKey: req.headers.get('idempotency-key'),
    jobId: job ?? problem?.jobId ?? null,
  };
}
