import { AUDIT_OUTCOMES, type AuditActor, type AuditEntry } from '../../src/audit/audit-entry.ts';
import { listAudit } from '../../src/audit/audit-requests.ts';
import { builder } from '../builder.ts';
import { connectionType, type Page, pageSize } from '../connection.ts';
import { RoleEnum } from './auth.ts';
import { ErrorCodeEnum } from './vocabularies.ts';

/* The audit log (admins of every host): the same records as REST's GET /api/v1/audit. */

const AuditOutcomeEnum = builder.enumType('AuditOutcome', {
  description:
    'ACCEPTED: a job was queued; DRY_RUN: a plan answered; DONE: an administration done; REFUSED: the input refused; DENIED: FORBIDDEN; UNAUTHENTICATED: credentials refused; FAILED: an error.',
  values: AUDIT_OUTCOMES,
});

const AuditActorRef = builder.objectRef<AuditActor>('AuditActor').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    tokenId: t.exposeString('tokenId', { nullable: true }),
    role: t.field({ type: RoleEnum, resolve: (a) => a.role }),
    hostGroups: t.exposeStringList('hostGroups', { nullable: true }),
  }),
});

const AuditEntryRef = builder.objectRef<AuditEntry>('AuditEntry').implement({
  description: 'Who asked for what, from where, and what came of it.',
  fields: (t) => ({
    id: t.exposeString('id', { description: 'Its position in the log.' }),
    at: t.expose('at', { type: 'DateTime' }),
    api: t.exposeString('api', { description: 'graphql, rest, command (npm run token) or gateway (a refused credential).' }),
    operation: t.exposeString('operation'),
    outcome: t.field({ type: AuditOutcomeEnum, resolve: (e) => e.outcome }),
    code: t.field({ type: ErrorCodeEnum, nullable: true, resolve: (e) => e.code }),
    message: t.exposeString('message', { nullable: true }),
    actor: t.field({ type: AuditActorRef, nullable: true, resolve: (e) => e.actor }),
    source: t.exposeString('source', { nullable: true }),
    inputJson: t.string({ description: 'The request input as JSON, secrets redacted.', resolve: (e) => JSON.stringify(e.input ?? null) }),
    ticketRef: t.exposeString('ticketRef', { nullable: true }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    jobId: t.exposeString('jobId', { nullable: true }),
  }),
});

const AuditFilterRef = builder.inputType('AuditFilter', {
  fields: (t) => ({
    actor: t.string({ description: 'A token name or tl_<id>.' }),
    operation: t.string(),
    outcome: t.field({ type: AuditOutcomeEnum }),
    ticketRef: t.string(),
    since: t.string({ description: 'After this entry id or ISO time.' }),
  }),
});

const AuditConnection = connectionType<AuditEntry>('AuditEntry', AuditEntryRef);

builder.queryField('auditLog', (t) =>
  t.field({
    type: AuditConnection,
    description: 'The audit log, newest first (admins of every host); `first` at most 100. REST exports it as JSON lines.',
    args: { first: t.arg.int(), after: t.arg.string(), filter: t.arg({ type: AuditFilterRef }) },
    resolve: async (_root, { first, after, filter }, ctx): Promise<Page<AuditEntry>> => {
      const { entries, more } = await listAudit(ctx, { ...filter }, { limit: pageSize(first), cursor: after ?? null });
      return { items: entries, cursors: entries.map((e) => e.id), hasNextPage: more, hasPreviousPage: Boolean(after), totalCount: null };
    },
  }),
);
