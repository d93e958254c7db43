import { z } from 'zod';
import { ErrorCode } from '../../src/errors/codes.ts';
import { defineOperations } from '../operation.ts';
import { problem } from '../problem.ts';
import { pageSchema, PageQuery } from '../schemas/common.ts';
import { NetworkSchema, networkView } from '../schemas/fleet.ts';
import { changeOperation, QueryBoolean } from './change-operation.ts';
import { hostFromPath, noHost } from './hypervisors.ts';
import { pageOf } from './paging.ts';
import { HostParams, NetworkParams, PortgroupParams } from './params.ts';

const TAG = 'libvirt networks';

export const NETWORK_OPERATIONS = defineOperations(
  {
    operationId: 'listNetworks',
    method: 'get',
    path: '/hypervisors/{name}/networks',
    tag: TAG,
    summary: "The host's libvirt networks with their portgroups, as last read.",
    params: HostParams,
    query: z.object(PageQuery),
    answers: { 200: { description: 'A page of networks, by name.', schema: pageSchema('NetworkPage', NetworkSchema) } },
    problems: [404],
    async handle({ params, query, ctx }) {
      const view = await hostFromPath(ctx, params.name as string);
      if (!view) return noHost(params.name);
      const networks = (view.state.libvirt?.networks ?? []).map((n) => networkView(view.host.name, n));
      return { status: 200, body: pageOf(networks, query as { limit: number; cursor?: string }, (n) => n.name) };
    },
  },
  changeOperation({
    kind: 'defineNetwork',
    operationId: 'defineNetwork',
    method: 'post',
    path: '/hypervisors/{name}/networks',
    tag: TAG,
    summary: 'Ensures a libvirt network for OVS with these portgroups is defined, active and autostarted.',
    params: HostParams,
    fromPath: { hypervisor: 'name' },
    input: 'body',
  }),
  {
    operationId: 'getNetwork',
    method: 'get',
    path: '/hypervisors/{name}/networks/{network}',
    tag: TAG,
    summary: 'One libvirt network with its portgroups.',
    params: NetworkParams,
    answers: { 200: { description: 'The network.', schema: NetworkSchema } },
    problems: [404],
    async handle({ params, ctx }) {
      const view = await hostFromPath(ctx, params.name as string);
      if (!view) return noHost(params.name);
      const network = view.state.libvirt?.networks.find((n) => n.name === params.network);
      if (network) return { status: 200, body: networkView(view.host.name, network) };
      const message = `network: no network "${String(params.network)}" on ${String(params.name)}`;
      return {
        problem: problem(404, ErrorCode.NOT_FOUND, message, {
          errors: [{ field: ['network'], in: 'path', code: ErrorCode.NOT_FOUND, message }],
        }),
      };
    },
  },
  changeOperation({
    kind: 'deleteNetwork',
    operationId: 'deleteNetwork',
    method: 'delete',
    path: '/hypervisors/{name}/networks/{network}',
    tag: TAG,
    summary: 'Ensures a libvirt network is stopped and undefined (refused while VM NICs use it, unless force).',
    params: NetworkParams,
    fromPath: { hypervisor: 'name', name: 'network' },
    input: { query: z.object({ force: QueryBoolean.optional(), ticketRef: z.string().optional() }) },
  }),
  changeOperation({
    kind: 'addPortgroup',
    operationId: 'addPortgroup',
    method: 'post',
    path: '/hypervisors/{name}/networks/{network}/portgroups',
    tag: TAG,
    summary: 'Adds or changes a portgroup in a network, live and persistent; running VMs on it are retagged.',
    params: NetworkParams,
    fromPath: { hypervisor: 'name', network: 'network' },
    input: 'body',
  }),
  changeOperation({
    kind: 'removePortgroup',
    operationId: 'removePortgroup',
    method: 'delete',
    path: '/hypervisors/{name}/networks/{network}/portgroups/{portgroup}',
    tag: TAG,
    summary: 'Removes a portgroup, live and persistent (refused while VM NICs use it, unless force).',
    params: PortgroupParams,
    fromPath: { hypervisor: 'name', network: 'network', name: 'portgroup' },
    input: { query: z.object({ force: QueryBoolean.optional(), ticketRef: z.string().optional() }) },
  }),
);
