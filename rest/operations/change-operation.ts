import { z } from 'zod';
import { JOB_KIND_DESCRIPTIONS } from '../../src/changes/descriptions.ts';
import { CHANGE_KINDS } from '../../src/changes/planners.ts';
import type { ChangeJobKind } from '../../src/jobs/job-kinds.ts';
import { requestChange } from '../../src/requests/change-request.ts';
import type { Method, Operation } from '../operation.ts';
import { changeReply } from '../replies.ts';
import { JobSchema, PlanSchema } from '../schemas/job.ts';

/** `true`/`false` (and 1/0) in a query string. */
export const QueryBoolean = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .describe('true or false');

/** A list in a query string: repeated (`?h=a&h=b`) or comma-separated (`?h=a,b`). */
export const QueryList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).filter((s) => s.length > 0))
  .describe('repeat the parameter or separate values with commas');

export const DryRunQuery = z.object({
  dryRun: QueryBoolean.optional().describe('true: answer the plan (200), queue nothing.'),
});

export const ACCEPTED_ANSWERS = {
  202: {
    description: 'The change was accepted: the queued job. Follow it at Location (GET, or its events as SSE).',
    schema: JobSchema,
    headers: { location: { description: 'The job: /api/v1/jobs/{id}.' } },
  },
  200: { description: 'dryRun: the plan, judged against the cached state; nothing was queued.', schema: PlanSchema },
} as const;

/**
 * A REST operation for a change job kind: the input is the JSON body (or, for DELETE, the query
 * string) merged with the path parameters `fromPath` names; it goes through the same request
 * module as the GraphQL mutation (validate, plan from the cache, one job), so both APIs refuse
 * the same inputs with the same codes.
 */
export function changeOperation(spec: {
  kind: ChangeJobKind;
  operationId: string;
  method: Method;
  path: string;
  tag: string;
  summary: string;
  description?: string;
  params: z.ZodObject;
  /** Input field ← path parameter, e.g. { hypervisor: 'name', name: 'bridge' }. */
  fromPath: Readonly<Record<string, string>>;
  /** Where the rest of the input comes from. DELETE: the query (with `query`, its schema). */
  input: 'body' | 'none' | { query: z.ZodObject };
}): Operation {
  const schema = CHANGE_KINDS[spec.kind].schema;
  const paramOfField = spec.fromPath;
  const query = typeof spec.input === 'object' ? spec.input.query.extend(DryRunQuery.shape) : DryRunQuery;
  return {
    operationId: spec.operationId,
    method: spec.method,
    path: spec.path,
    tag: spec.tag,
    summary: spec.summary,
    description: `${spec.description ?? JOB_KIND_DESCRIPTIONS[spec.kind]} The same change as the GraphQL mutation ${spec.kind}; a retry with the same Idempotency-Key answers the first answer again.`,
    params: spec.params,
    query,
    ...(spec.input === 'body' ? { body: { schema, validatedBy: 'handler' as const, omit: [...Object.keys(paramOfField), 'dryRun'] } } : {}),
    idempotent: true,
    answers: ACCEPTED_ANSWERS,
    problems: [404, 409, 413, 415, 422],
    async handle({ params, query: q, body, ctx }) {
      const { dryRun, ...fromQuery } = q as { dryRun?: boolean } & Record<string, unknown>;
      const fromParams = Object.fromEntries(Object.entries(paramOfField).map(([field, param]) => [field, params[param]]));
      const fromBody = spec.input === 'body' ? (body as Record<string, unknown>) : fromQuery;
      // A `dryRun` in the body (as in the GraphQL input) is a dry run too, never overridden into
      // a real change; the schema refuses one that is not a boolean.
      const input = { ...fromBody, ...fromParams, dryRun: dryRun === true ? true : (fromBody.dryRun ?? false) };
      return changeReply(await requestChange(ctx, spec.kind, input, ctx), paramOfField, spec.input === 'body' ? 'body' : 'query');
    },
  };
}
