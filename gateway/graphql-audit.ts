import {
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../graphql/context.ts';
import { fromGlobalId } from '../graphql/global-id.ts';
import { actorOf, type AuditOutcome, type NewAuditEntry } from '../src/audit/audit-entry.ts';
import { ErrorCode } from '../src/errors/codes.ts';

/*
 * The audit log's GraphQL side: after a mutation, one record per root field (its arguments, what
 * came of it: the job, the plan of a dry run, the userErrors); after any operation, a record of
 * every FORBIDDEN it was answered (a denied read). Recorded after the answer is made, never on
 * the answer's path: a slow log write does not slow the request.
 */

interface Payload {
  job?: { id?: string } | null;
  plan?: unknown;
  userErrors?: { code: ErrorCode; message: string }[];
}

type Record_ = Omit<NewAuditEntry, 'actor' | 'source' | 'api'>;

/** What an operation and its answer come to for the log. */
interface Done {
  op: OperationDefinitionNode;
  variables: Record<string, unknown>;
  result: ExecutionResult;
}

function mutationRecords(schema: GraphQLSchema, { op, variables, result }: Done): Record_[] {
  const mutation = schema.getMutationType();
  if (op.operation !== 'mutation' || !mutation) return [];
  const coerced = getVariableValues(schema, op.variableDefinitions ?? [], variables);
  const values = 'variableValues' in coerced ? coerced.variableValues : undefined;
  const out: Record_[] = [];
  for (const sel of op.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD) continue;
    const field = sel as FieldNode;
    const def = mutation.getFields()[field.name.value];
    if (!def) continue;
    const alias = field.alias?.value ?? field.name.value;
    let args: Record<string, unknown> = {};
    try {
      args = { ...getArgumentValues(def, field, values) };
    } catch {
      args = { unparsed: variables };
    }
    const input = (args.input ?? {}) as Record<string, unknown>;
    const payload = (result.data?.[alias] ?? null) as Payload | null;
    const error = result.errors?.find((e) => e.path?.[0] === alias);
    const userErrors = payload?.userErrors ?? [];
    const firstCode = (userErrors[0]?.code ?? error?.extensions?.code ?? null) as ErrorCode | null;
    const outcome: AuditOutcome =
      firstCode === ErrorCode.FORBIDDEN
        ? 'DENIED'
        : userErrors.length
          ? 'REFUSED'
          : error || !payload
            ? 'FAILED'
            : payload.job
              ? 'ACCEPTED'
              : payload.plan
                ? 'DRY_RUN'
                : 'DONE';
    const jobId = payload?.job?.id ? (fromGlobalId(payload.job.id)?.key ?? payload.job.id) : null;
    out.push({
      operation: field.name.value,
      outcome,
      code: firstCode,
      message: userErrors.map((e) => e.message).join('; ') || error?.message || null,
      input: args,
      ticketRef: typeof input.ticketRef === 'string' ? input.ticketRef : null,
      idempotencyKey: typeof input.idempotencyKey === 'string' ? input.idempotencyKey : null,
      jobId,
    });
  }
  return out;
}

/** Denied reads: each FORBIDDEN error a query or subscription was answered. */
function deniedReads({ op, variables, result }: Done): Record_[] {
  if (op.operation === 'mutation') return [];
  return (result.errors ?? [])
    .filter((e) => e.extensions?.code === ErrorCode.FORBIDDEN)
    .map((e) => ({
      operation: String(e.path?.[0] ?? op.name?.value ?? op.operation),
      outcome: 'DENIED' as const,
      code: ErrorCode.FORBIDDEN,
      message: e.message,
      input: { variables, path: e.path ?? null },
      ticketRef: null,
      idempotencyKey: null,
      jobId: null,
    }));
}

/** The operation and its answer, when there is one to log (not a stream of a subscription). */
function doneOf(args: { document: DocumentNode; operationName?: string | null; variableValues?: unknown }, result: unknown): Done | null {
  if (!result || Symbol.asyncIterator in (result as object)) return null;
  const op = getOperationAST(args.document, args.operationName);
  return op ? { op, variables: (args.variableValues ?? {}) as Record<string, unknown>, result: result as ExecutionResult } : null;
}

function recordAll(ctx: Context, records: readonly Record_[]): void {
  for (const r of records) ctx.audit.recordInBackground({ ...r, api: 'graphql', actor: actorOf(ctx.caller), source: ctx.source });
}

export function useAudit(): Plugin<Context> {
  return {
    // A subscription refused at its start (another team's job for jobProgress) is a denied read too.
    onSubscribe({ args }) {
      return {
        onSubscribeResult({ result }) {
          const done = doneOf(args, result);
          if (done) recordAll(args.contextValue as Context, deniedReads(done));
        },
      };
    },
    onExecute({ args }) {
      return {
        onExecuteDone({ result }) {
          const done = doneOf(args, result);
          if (done) recordAll(args.contextValue as Context, [...mutationRecords(args.schema, done), ...deniedReads(done)]);
        },
      };
    },
  };
}
