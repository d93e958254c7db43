import type { InputObjectRef } from '@pothos/core';
import type { z } from 'zod';
import { userErrorsFromZod } from '../../src/changes/user-errors.ts';
import { ErrorCode } from '../../src/errors/codes.ts';
import { submitChange } from '../../src/jobs/submit-change.ts';
import { CHANGE_KINDS } from '../../src/changes/planners.ts';
import type { ChangeJobKind } from '../../src/jobs/job-kinds.ts';
import { builder } from '../builder.ts';
import { changePayloadType, refused, type ChangePayload } from './change-payload.ts';

interface ChangeOptions {
  hypervisor: string;
  dryRun: boolean;
  ticketRef?: string | null;
}

/**
 * Declares a mutation that changes one hypervisor: validate (zod, same schema as REST) →
 * known host → plan from the cached state → dryRun answers the plan, otherwise a queued job.
 * Every refusal is a userError naming the field; nothing reaches the queue or the host.
 */
export function hostChangeMutation<S extends z.ZodType<ChangeOptions>>(spec: {
  name: ChangeJobKind;
  description: string;
  // biome-ignore lint/suspicious/noExplicitAny: any mutation's Pothos input type
  input: InputObjectRef<any, any>;
  schema: S;
}): void {
  // The same planner the worker runs when the host part's turn comes (src/changes/planners.ts).
  const kind = CHANGE_KINDS[spec.name];
  if (!kind) throw new Error(`${spec.name} has no planner in src/changes/planners.ts`);
  const Payload = changePayloadType(`${spec.name[0]!.toUpperCase()}${spec.name.slice(1)}Payload`);
  builder.mutationField(spec.name, (t) =>
    t.field({
      type: Payload,
      description: spec.description,
      args: { input: t.arg({ type: spec.input, required: true }) },
      resolve: async (_root, { input }, ctx): Promise<ChangePayload> => {
        const parsed = spec.schema.safeParse(input);
        if (!parsed.success) return refused(userErrorsFromZod(parsed.error));
        const data = parsed.data as z.infer<S>;
        const view = await ctx.hostView(data.hypervisor);
        if (!view) {
          const known = (await ctx.fleet()).map((v) => v.host.name).join(', ') || 'none';
          return refused([
            {
              field: ['input', 'hypervisor'],
              code: ErrorCode.UNKNOWN_HYPERVISOR,
              message: `hypervisor: no hypervisor named "${data.hypervisor}" (known: ${known})`,
            },
          ]);
        }
        const planned = kind.planHost(
          { host: view.host, state: view.state.status === 'UNKNOWN' ? null : view.state },
          data as never,
          ctx.config,
        );
        if (planned.errors) return refused(planned.errors);
        if (data.dryRun) return { job: null, plan: planned.plan, userErrors: [] };
        const { dryRun: _d, ticketRef, ...rest } = data as ChangeOptions & Record<string, unknown>;
        const job = await submitChange(ctx, spec.name, rest, planned.plan, { requestedBy: ctx.requestedBy, ticketRef: ticketRef ?? null });
        return { job, plan: planned.plan, userErrors: [] };
      },
    }),
  );
}

type InputFieldBuilder = Parameters<Parameters<typeof builder.inputType>[1]['fields']>[0];

/** Input fields every host change takes. */
export function changeFields(t: InputFieldBuilder) {
  return {
    hypervisor: t.string({ required: true, description: 'Name of a registered hypervisor.' }),
    dryRun: t.boolean({ description: 'Return the plan (judged against the cached state), queue nothing.' }),
    ticketRef: t.string({ description: 'Reference of the ticket that asked for this change.' }),
  };
}
