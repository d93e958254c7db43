import type { InputObjectRef } from '@pothos/core';
import { JOB_KIND_DESCRIPTIONS } from '../../src/changes/descriptions.ts';
import type { ChangeJobKind } from '../../src/jobs/job-kinds.ts';
import { requestChange } from '../../src/requests/change-request.ts';
import { builder } from '../builder.ts';
import { changePayloadType } from './change-payload.ts';

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
      resolve: (_root, { input }, ctx) => requestChange(ctx, spec.name, input, ctx),
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
