import type { z } from 'zod';
import { EnsureVlanInput, RemoveVlanInput, VerifyVlanInput } from '../../src/changes/inputs.ts';
import { planVerifyVlan } from '../../src/changes/plans/verify.ts';
import { planEnsureVlan, planRemoveVlan, type Member } from '../../src/changes/plans/vlan.ts';
import type { Plan } from '../../src/changes/plan.ts';
import { userErrorsFromZod, type UserError } from '../../src/changes/user-errors.ts';
import { ErrorCode } from '../../src/errors/codes.ts';
import type { ChangeJobKind } from '../../src/jobs/job-kinds.ts';
import { submitChange } from '../../src/jobs/submit-change.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { changePayloadType, refused, type ChangePayload } from './change-payload.ts';

/** Fleet VLAN mutations: one request, one job whose steps run per host in parallel. */

async function members(ctx: Context, names: string[]): Promise<{ members: Member[]; errors: UserError[] }> {
  const fleet = new Map((await ctx.fleet()).map((v) => [v.host.name, v]));
  const errors: UserError[] = [];
  const found: Member[] = [];
  [...new Set(names)].forEach((n, i) => {
    const v = fleet.get(n);
    if (!v)
      errors.push({
        field: ['input', 'hypervisors', String(i)],
        code: ErrorCode.UNKNOWN_HYPERVISOR,
        message: `hypervisors.${i}: no hypervisor named "${n}"`,
      });
    else found.push({ host: v.host, state: v.state.status === 'UNKNOWN' ? null : v.state });
  });
  return { members: found, errors };
}

async function fleetChange<S extends z.ZodType<{ hypervisors: string[]; dryRun: boolean; ticketRef?: string | null }>>(
  ctx: Context,
  kind: ChangeJobKind,
  schema: S,
  input: unknown,
  plan: (members: Member[], data: z.infer<S>) => { plan?: Plan; errors?: UserError[] },
  after?: (data: z.infer<S>) => Promise<void>,
): Promise<ChangePayload> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) return refused(userErrorsFromZod(parsed.error));
  const data = parsed.data as z.infer<S>;
  const found = await members(ctx, data.hypervisors);
  if (found.errors.length) return refused(found.errors);
  const planned = plan(found.members, data);
  if (planned.errors?.length || !planned.plan) return refused(planned.errors ?? []);
  if (data.dryRun) return { job: null, plan: planned.plan, userErrors: [] };
  const { dryRun: _d, ticketRef, ...rest } = data;
  const job = await submitChange(ctx, kind, rest, planned.plan, { requestedBy: ctx.requestedBy, ticketRef: ticketRef ?? null });
  await after?.(data);
  return { job, plan: planned.plan, userErrors: [] };
}

const EnsureVlanPayload = changePayloadType('EnsureVlanPayload');
builder.mutationField('ensureVlan', (t) =>
  t.field({
    type: EnsureVlanPayload,
    description:
      "Makes a VLAN usable on hypervisors, in one job (hosts in parallel, each host's steps in order): the bridge exists, the uplink trunks the tag (added, other VLANs kept), the libvirt network exists with portgroup vlan-<tag>, and trunk portgroups (vlan-all style) include it. Bridge, uplink and network default to each host's registry defaults. Idempotent; repairs drift.",
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('EnsureVlanInput', {
          fields: (f) => ({
            tag: f.int({ required: true, description: '1..4094' }),
            name: f.string({ description: 'A human name, e.g. DMZ.' }),
            hypervisors: f.stringList({ required: true }),
            bridge: f.string(),
            uplink: f.string(),
            network: f.string(),
            portgroup: f.string({ description: 'Default vlan-<tag> (4 digits: vlan-1001).' }),
            dryRun: f.boolean(),
            ticketRef: f.string(),
          }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) =>
      fleetChange(
        ctx,
        'ensureVlan',
        EnsureVlanInput,
        input,
        (m, data) => planEnsureVlan(m, data, ctx.config),
        async (data) => {
          if (data.name) await ctx.vlanNames.set(data.tag, data.name);
        },
      ),
  }),
);

const RemoveVlanPayload = changePayloadType('RemoveVlanPayload');
builder.mutationField('removeVlan', (t) =>
  t.field({
    type: RemoveVlanPayload,
    description:
      'Takes a VLAN off hypervisors: its portgroup, the tag in trunk portgroups and in the uplink trunks. Refused while VM NICs are on it (they are listed) unless force; never leaves a trunk empty (that would carry every VLAN).',
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('RemoveVlanInput', {
          fields: (f) => ({
            tag: f.int({ required: true }),
            hypervisors: f.stringList({ required: true }),
            force: f.boolean(),
            uplink: f.string({ description: "Default: each host's default uplink." }),
            network: f.string(),
            portgroup: f.string(),
            dryRun: f.boolean(),
            ticketRef: f.string(),
          }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) => fleetChange(ctx, 'removeVlan', RemoveVlanInput, input, planRemoveVlan),
  }),
);

const VerifyVlanPayload = changePayloadType('VerifyVlanPayload');
builder.mutationField('verifyVlan', (t) =>
  t.field({
    type: VerifyVlanPayload,
    description:
      "Proves a VLAN works: on each hypervisor a temporary probe (a network namespace on an access port of the VLAN, address in 198.19.0.0/16) pings the others across hosts, and probes on each isolationFrom VLAN, in the same subnet, must reach none of them. Probes are always removed, also on failure or cancel. The job's `verification` holds the connectivity matrix.",
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('VerifyVlanInput', {
          fields: (f) => ({
            tag: f.int({ required: true }),
            hypervisors: f.stringList({ required: true }),
            isolationFrom: f.intList({ description: 'VLANs that must NOT reach this one (e.g. [1002] for 1001).' }),
            bridge: f.string({ description: "Default: each host's default bridge." }),
            ticketRef: f.string(),
          }),
        }),
      }),
    },
    resolve: async (_root, { input }, ctx) => {
      const parsed = VerifyVlanInput.safeParse(input);
      if (!parsed.success) return refused(userErrorsFromZod(parsed.error));
      const found = await members(ctx, parsed.data.hypervisors);
      if (found.errors.length) return refused(found.errors);
      const planned = planVerifyVlan(
        found.members.map((m) => m.host),
        parsed.data,
      );
      if (planned.errors || !planned.plan) return refused(planned.errors ?? []);
      const { ticketRef, ...rest } = parsed.data;
      const job = await submitChange(ctx, 'verifyVlan', { ...rest, spec: planned.spec }, planned.plan, {
        requestedBy: ctx.requestedBy,
        ticketRef: ticketRef ?? null,
      });
      return { job, plan: planned.plan, userErrors: [] };
    },
  }),
);
