import { z } from 'zod';
import { AUDIT_OUTCOMES, type AuditEntry } from '../../src/audit/audit-entry.ts';
import { DateTime, ErrorCodeSchema } from './common.ts';
import { RoleSchema } from './auth.ts';

export const AuditOutcomeSchema = z.enum(AUDIT_OUTCOMES).meta({
  id: 'AuditOutcome',
  description:
    'ACCEPTED: a job was queued; DRY_RUN: a plan answered; DONE: an administration done; REFUSED: the input refused; DENIED: FORBIDDEN; UNAUTHENTICATED: credentials refused; FAILED: an error.',
});

export const AuditEntrySchema = z
  .object({
    id: z.string().describe('Its position in the log: the cursor of the next page.'),
    at: DateTime,
    api: z.enum(['graphql', 'rest', 'command', 'gateway']),
    operation: z.string().describe('The GraphQL field or REST operationId (createBridge), or METHOD path for a refused credential.'),
    outcome: AuditOutcomeSchema,
    code: ErrorCodeSchema.nullable(),
    message: z.string().nullable(),
    actor: z
      .object({ name: z.string(), tokenId: z.string().nullable(), role: RoleSchema, hostGroups: z.array(z.string()).nullable() })
      .nullable()
      .describe('Null when no credential was accepted.'),
    source: z.string().nullable().describe("The client's address as the gateway saw it."),
    input: z.unknown().describe('The request input (arguments, or path, query and body), secrets redacted.'),
    ticketRef: z.string().nullable(),
    idempotencyKey: z.string().nullable(),
    jobId: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry', description: 'Who asked for what, from where, and what came of it.' });

export const auditEntryView = (e: AuditEntry) => ({ ...e });
