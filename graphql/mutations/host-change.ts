import type { InputObjectRef } from '@pothos/core';
import { JOB_KIND_DESCRIPTIONS } from '../../src/changes/descriptions.ts';
import type { ChangeJobKind } from '../../src/jobs/job-kinds.ts';
import { requestChange } from '../../src/requests/change-request.ts';
import { builder } from '../builder.ts';
import { changePayloadType } from './change-payload.ts';
import { idempotentChange } from './idempotency.ts';

/**
 * Declares a mutation that changes one hypervisor; the request goes the way every API's does
 * (src/requests/change-request.ts: validate, known host, plan from the cache, dryRun or a job).
 */
export function hostChangeMutation(spec: {
  name: ChangeJobKind;
  // biome-ignore lint/suspicious/noExplicitAny: any mutation's Pothos input type
  input: InputObjectRef<any, any>;
}): void {
  const Payload = changePayloadType(`${spec.name[0]!.toUpperCase()}${spec.name.slice(1)}Payload`);
  builder.mutationField(spec.name, (t) =>
    t.field({
      type: Payload,
      description: JOB_KIND_DESCRIPTIONS[spec.name],
      args: { input: t.arg({ type: spec.input, required: true }) },
      resolve: (_root, { input }, ctx) => idempotentChange(ctx, spec.name, input, (rest) => requestChange(ctx, spec.name, rest, ctx)),
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
    idempotencyKey: idempotencyKeyField(t),
  };
}

/** The field every change mutation takes to make a retry safe. */
export function idempotencyKeyField(t: InputFieldBuilder) {
  return t.string({
    description:
      'Makes a retry safe: the same key with the same input answers the first job again (nothing new is queued) for TRUNKLINE_IDEMPOTENCY_TTL_SECONDS; with another input it is refused (IDEMPOTENCY_KEY_REUSED).',
  });
}
