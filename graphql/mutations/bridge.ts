import { planCreateBridge } from '../../src/changes/create-bridge.ts';
import { CreateBridgeInput } from '../../src/changes/inputs.ts';
import { userErrorsFromZod } from '../../src/changes/user-errors.ts';
import { ErrorCode } from '../../src/errors/codes.ts';
import { submitChange } from '../../src/jobs/submit-change.ts';
import { builder } from '../builder.ts';
import { changePayloadType, refused } from './change-payload.ts';

export const DatapathTypeEnum = builder.enumType('DatapathType', {
  values: { NETDEV: { value: 'netdev', description: 'userspace datapath' }, SYSTEM: { value: 'system', description: 'kernel datapath' } } as const,
});

const CreateBridgeInputRef = builder.inputType('CreateBridgeInput', {
  fields: (t) => ({
    hypervisor: t.string({ required: true, description: 'Name of a registered hypervisor.' }),
    name: t.string({ required: true, description: 'Bridge name: 1..15 characters of A-Z a-z 0-9 _ . -' }),
    datapathType: t.field({ type: DatapathTypeEnum, description: "Defaults to the host's default, else TRUNKLINE_DEFAULT_DATAPATH." }),
    dryRun: t.boolean({ description: 'Return the plan, queue nothing.' }),
    ticketRef: t.string({ description: 'Reference of the ticket that asked for this change.' }),
  }),
});

const CreateBridgePayload = changePayloadType('CreateBridgePayload');

builder.mutationField('createBridge', (t) =>
  t.field({
    type: CreateBridgePayload,
    description: 'Ensures an Open vSwitch bridge exists on a hypervisor. Idempotent.',
    args: { input: t.arg({ type: CreateBridgeInputRef, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const parsed = CreateBridgeInput.safeParse(input);
      if (!parsed.success) return refused(userErrorsFromZod(parsed.error));
      const { hypervisor, name, dryRun, ticketRef } = parsed.data;
      const host = await ctx.registry.get(hypervisor);
      if (!host) {
        const known = (await ctx.registry.list()).map((h) => h.name).join(', ') || '(none)';
        return refused([
          { field: ['input', 'hypervisor'], code: ErrorCode.UNKNOWN_HYPERVISOR, message: `hypervisor: no hypervisor named "${hypervisor}" (known: ${known})` },
        ]);
      }
      const datapathType = parsed.data.datapathType ?? host.defaults.datapathType ?? ctx.config.defaults.datapathType;
      const plan = planCreateBridge({ hypervisor, name, datapathType });
      if (dryRun) return { job: null, plan, userErrors: [] };
      const job = await submitChange(ctx, 'createBridge', { hypervisor, name, datapathType }, plan, {
        requestedBy: ctx.requestedBy,
        ticketRef: ticketRef ?? null,
      });
      return { job, plan, userErrors: [] };
    },
  }),
);
