import { z } from 'zod';
import { exportAudit, listAudit } from '../../src/audit/audit-requests.ts';
import { defineOperations } from '../operation.ts';
import { AuditEntrySchema, AuditOutcomeSchema, auditEntryView } from '../schemas/audit.ts';
import { pageSchema } from '../schemas/common.ts';

/** The audit log (admins of every host): a page at a time, or all of it as JSON lines. */

const NDJSON = 'application/x-ndjson';

export const AUDIT_OPERATIONS = defineOperations({
  operationId: 'listAuditEntries',
  method: 'get',
  path: '/audit',
  tag: 'Access',
  role: 'admin',
  summary: 'The audit log, newest first; with Accept: application/x-ndjson, every matching entry, oldest first, as JSON lines (an export).',
  description:
    'Every change request (accepted, dry run, refused), every denial and refused credential, every token, host-group, hypervisor and webhook administration. Kept TRUNKLINE_AUDIT_RETENTION_DAYS.',
  query: z.object({
    limit: z.coerce.number().int().min(1).max(100).default(50).describe('Entries per page (1..100).'),
    cursor: z
      .string()
      .regex(/^\d+-\d+$/)
      .optional()
      .describe('The id of the last entry of the previous page.'),
    actor: z.string().max(128).optional().describe('Only entries of this token name or tl_<id>.'),
    operation: z.string().max(64).optional().describe('Only this operation (createBridge, revokeApiToken, …).'),
    outcome: AuditOutcomeSchema.optional(),
    ticketRef: z.string().max(128).optional(),
    since: z.string().max(40).optional().describe('Only entries after this entry id or ISO time.'),
  }),
  answers: {
    200: {
      description: 'A page of entries (or, as JSON lines, all of them).',
      schema: pageSchema('AuditEntryPage', AuditEntrySchema),
      alternatives: { [NDJSON]: { description: 'One AuditEntry per line, oldest first: every entry the filters keep.' } },
    },
  },
  problems: [],
  async handle({ query, headers, ctx }) {
    const q = query as {
      limit: number;
      cursor?: string;
      actor?: string;
      operation?: string;
      outcome?: never;
      ticketRef?: string;
      since?: string;
    };
    const filter = { actor: q.actor, operation: q.operation, outcome: q.outcome, ticketRef: q.ticketRef, since: q.since };
    if ((headers.get('accept') ?? '').includes(NDJSON)) {
      const entries = exportAudit(ctx, filter);
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await entries.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(`${JSON.stringify(auditEntryView(next.value))}\n`));
        },
        async cancel() {
          await entries.return(undefined);
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': NDJSON } });
    }
    const { entries, more } = await listAudit(ctx, filter, { limit: q.limit, cursor: q.cursor ?? null });
    return { status: 200, body: { items: entries.map(auditEntryView), nextCursor: more ? entries.at(-1)!.id : null } };
  },
});
