import { z } from 'zod';
import { deriveVlans, vlanView } from '../../src/fleet/vlans.ts';
import { requestVerify } from '../../src/requests/change-request.ts';
import { lastVerification } from '../../src/requests/job-requests.ts';
import { defineOperations } from '../operation.ts';
import { changeReply } from '../replies.ts';
import { pageSchema, PageQuery } from '../schemas/common.ts';
import { VlanSchema, vlanViewBody } from '../schemas/fleet.ts';
import { JobSchema } from '../schemas/job.ts';
import { pageOf } from './paging.ts';
import { changeOperation, QueryBoolean, QueryList } from './change-operation.ts';
import { TagParams } from './params.ts';
import { VerifyVlanInput } from '../../src/changes/inputs.ts';
import { JOB_KIND_DESCRIPTIONS } from '../../src/changes/descriptions.ts';

const TAG = 'VLANs';

export const VLAN_OPERATIONS = defineOperations(
  {
    operationId: 'listVlans',
    method: 'get',
    path: '/vlans',
    tag: TAG,
    summary: 'Every VLAN seen on any uplink, port, portgroup or VM NIC, by tag, with drift and its last verification.',
    query: z.object(PageQuery),
    answers: { 200: { description: 'A page of VLANs, by tag.', schema: pageSchema('VlanPage', VlanSchema) } },
    problems: [],
    async handle({ query, ctx }) {
      const names = await ctx.vlanNames.all();
      const page = pageOf(deriveVlans(await ctx.fleet()), query as { limit: number; cursor?: string }, (v) =>
        String(v.tag).padStart(4, '0'),
      );
      // The last verifications of this page's VLANs only.
      const items = await Promise.all(
        page.items.map(async (v) => vlanViewBody(v, names.get(v.tag) ?? null, await lastVerification(ctx, v.tag))),
      );
      return { status: 200, body: { items, nextCursor: page.nextCursor } };
    },
  },
  {
    operationId: 'getVlan',
    method: 'get',
    path: '/vlans/{tag}',
    tag: TAG,
    summary: 'One VLAN across the fleet: where it is carried and missing, its portgroups, NICs, drift and last verification.',
    description: 'Also for a VLAN nothing uses yet: then it shows where it is missing.',
    params: TagParams,
    answers: { 200: { description: 'The VLAN.', schema: VlanSchema } },
    problems: [],
    async handle({ params, ctx }) {
      const tag = params.tag as number;
      const [names, fleet, verified] = await Promise.all([ctx.vlanNames.all(), ctx.fleet(), lastVerification(ctx, tag)]);
      return { status: 200, body: vlanViewBody(vlanView(fleet, tag), names.get(tag) ?? null, verified) };
    },
  },
  changeOperation({
    kind: 'ensureVlan',
    operationId: 'ensureVlan',
    method: 'put',
    path: '/vlans/{tag}',
    tag: TAG,
    summary: 'Makes a VLAN usable on hypervisors, in one job (hosts in parallel).',
    params: TagParams,
    fromPath: { tag: 'tag' },
    input: 'body',
  }),
  changeOperation({
    kind: 'removeVlan',
    operationId: 'removeVlan',
    method: 'delete',
    path: '/vlans/{tag}',
    tag: TAG,
    summary: 'Takes a VLAN off hypervisors (portgroup, trunk portgroups, uplink trunks).',
    params: TagParams,
    fromPath: { tag: 'tag' },
    input: {
      query: z.object({
        hypervisors: QueryList.describe('The hypervisors to take the VLAN off (repeat, or comma-separated).'),
        force: QueryBoolean.optional(),
        uplink: z.string().optional(),
        network: z.string().optional(),
        portgroup: z.string().optional(),
        ticketRef: z.string().optional(),
      }),
    },
  }),
  {
    operationId: 'verifyVlan',
    method: 'post',
    path: '/vlans/{tag}/verify',
    tag: TAG,
    summary: 'Proves a VLAN works: probes on each hypervisor ping across hosts; isolation VLANs must not reach them.',
    description: JOB_KIND_DESCRIPTIONS.verifyVlan,
    params: TagParams,
    body: { schema: VerifyVlanInput, validatedBy: 'handler', omit: ['tag'] },
    idempotent: true,
    answers: {
      202: {
        description: 'The verification job; its `verification` holds the connectivity matrix when it ends.',
        schema: JobSchema,
        headers: { location: { description: 'The job.' } },
      },
    },
    problems: [404, 413, 415, 422],
    async handle({ params, body, ctx }) {
      return changeReply(await requestVerify(ctx, { ...(body as object), tag: params.tag }, ctx), { tag: 'tag' });
    },
  },
);
