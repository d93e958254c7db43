import type { Plan } from '../../src/changes/plan.ts';
import { withIdempotencyKey } from '../../src/requests/idempotent-request.ts';
import type { Context } from '../context.ts';
import type { ChangePayload } from './change-payload.ts';

/** Splits the GraphQL-only `idempotencyKey` off a mutation's input. */
export function splitKey(input: unknown): { key: string | null; rest: Record<string, unknown> } {
  const { idempotencyKey, ...rest } = (input ?? {}) as Record<string, unknown> & { idempotencyKey?: string | null };
  return { key: idempotencyKey ?? null, rest };
}

/**
 * Runs a change mutation under its idempotencyKey: a retry with the same key and input answers
 * the same job (as it is now) and plan, and queues nothing.
 */
export function idempotentChange(
  ctx: Context,
  operation: string,
  input: unknown,
  run: (input: Record<string, unknown>) => Promise<ChangePayload>,
) {
  const { key, rest } = splitKey(input);
  return withIdempotencyKey<ChangePayload>(
    ctx.idempotency,
    { key, scope: ctx.caller.id, operation, input: rest },
    {
      keep: (a) => (a.job ? JSON.stringify({ jobId: a.job.id, plan: a.plan }) : null),
      replay: async (kept) => {
        const { jobId, plan } = JSON.parse(kept) as { jobId: string; plan: Plan | null };
        return { job: await ctx.store.get(jobId), plan, userErrors: [] };
      },
      refuse: (userErrors) => ({ job: null, plan: null, userErrors }),
    },
    () => run(rest),
  );
}
