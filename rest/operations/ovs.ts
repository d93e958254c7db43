import { z } from 'zod';
import { defineOperations } from '../operation.ts';
import { problem } from '../problem.ts';
import { pageSchema, PageQuery } from '../schemas/common.ts';
import { BridgeSchema, bridgeView, PortSchema, portView } from '../schemas/fleet.ts';
import { changeOperation } from './change-operation.ts';
import { hostFromPath, noHost } from './hypervisors.ts';
import { pageOf } from './paging.ts';
import { BridgeParams, HostParams, PortParams } from './params.ts';
import { ErrorCode } from '../../src/errors/codes.ts';

const TAG = 'Open vSwitch';
const missing = (what: string, field: string, name: unknown, host: unknown) => ({
  problem: problem(404, ErrorCode.NOT_FOUND, `no ${what} "${String(name)}" on ${String(host)}`, {
    errors: [
      { field: [field], in: 'path', code: ErrorCode.NOT_FOUND, message: `${field}: no ${what} "${String(name)}" on ${String(host)}` },
    ],
  }),
});

export const OVS_OPERATIONS = defineOperations(
  {
    operationId: 'listBridges',
    method: 'get',
    path: '/hypervisors/{name}/bridges',
    tag: TAG,
    summary: "The host's Open vSwitch bridges with their ports, as last read.",
    params: HostParams,
    query: z.object(PageQuery),
    answers: { 200: { description: 'A page of bridges, by name.', schema: pageSchema('BridgePage', BridgeSchema) } },
    problems: [404],
    async handle({ params, query, ctx }) {
      const view = await hostFromPath(ctx, params.name as string);
      if (!view) return noHost(params.name);
      const bridges = (view.state.ovs?.bridges ?? []).map((b) => bridgeView(view.host.name, b));
      return { status: 200, body: pageOf(bridges, query as { limit: number; cursor?: string }, (b) => b.name) };
    },
  },
  changeOperation({
    kind: 'createBridge',
    operationId: 'createBridge',
    method: 'post',
    path: '/hypervisors/{name}/bridges',
    tag: TAG,
    summary: 'Ensures an OVS bridge exists (datapath from the host or fleet default).',
    params: HostParams,
    fromPath: { hypervisor: 'name' },
    input: 'body',
  }),
  {
    operationId: 'getBridge',
    method: 'get',
    path: '/hypervisors/{name}/bridges/{bridge}',
    tag: TAG,
    summary: 'One bridge with its ports.',
    params: BridgeParams,
    answers: { 200: { description: 'The bridge.', schema: BridgeSchema } },
    problems: [404],
    async handle({ params, ctx }) {
      const view = await hostFromPath(ctx, params.name as string);
      if (!view) return noHost(params.name);
      const bridge = view.state.ovs?.bridges.find((b) => b.name === params.bridge);
      return bridge ? { status: 200, body: bridgeView(view.host.name, bridge) } : missing('bridge', 'bridge', params.bridge, params.name);
    },
  },
  changeOperation({
    kind: 'deleteBridge',
    operationId: 'deleteBridge',
    method: 'delete',
    path: '/hypervisors/{name}/bridges/{bridge}',
    tag: TAG,
    summary: 'Ensures a bridge is gone, with all its ports.',
    params: BridgeParams,
    fromPath: { hypervisor: 'name', name: 'bridge' },
    input: { query: z.object({ ticketRef: z.string().optional() }) },
  }),
  {
    operationId: 'listBridgePorts',
    method: 'get',
    path: '/hypervisors/{name}/bridges/{bridge}/ports',
    tag: TAG,
    summary: "A bridge's ports, with their VLAN settings and interfaces.",
    params: BridgeParams,
    query: z.object(PageQuery),
    answers: { 200: { description: 'A page of ports, by name.', schema: pageSchema('PortPage', PortSchema) } },
    problems: [404],
    async handle({ params, query, ctx }) {
      const view = await hostFromPath(ctx, params.name as string);
      if (!view) return noHost(params.name);
      const bridge = view.state.ovs?.bridges.find((b) => b.name === params.bridge);
      if (!bridge) return missing('bridge', 'bridge', params.bridge, params.name);
      const ports = bridge.ports.map((p) => portView(view.host.name, bridge.name, p));
      return { status: 200, body: pageOf(ports, query as { limit: number; cursor?: string }, (p) => p.name) };
    },
  },
  changeOperation({
    kind: 'addPort',
    operationId: 'addPort',
    method: 'post',
    path: '/hypervisors/{name}/bridges/{bridge}/ports',
    tag: TAG,
    summary: 'Ensures a port on the bridge, with its VLAN settings (access tag or trunks).',
    params: BridgeParams,
    fromPath: { hypervisor: 'name', bridge: 'bridge' },
    input: 'body',
  }),
  {
    operationId: 'getPort',
    method: 'get',
    path: '/hypervisors/{name}/ports/{port}',
    tag: TAG,
    summary: 'One OVS port of the host (whichever bridge it is on).',
    params: PortParams,
    answers: { 200: { description: 'The port.', schema: PortSchema } },
    problems: [404],
    async handle({ params, ctx }) {
      const view = await hostFromPath(ctx, params.name as string);
      if (!view) return noHost(params.name);
      for (const b of view.state.ovs?.bridges ?? []) {
        const port = b.ports.find((p) => p.name === params.port);
        if (port) return { status: 200, body: portView(view.host.name, b.name, port) };
      }
      return missing('port', 'port', params.port, params.name);
    },
  },
  changeOperation({
    kind: 'removePort',
    operationId: 'removePort',
    method: 'delete',
    path: '/hypervisors/{name}/ports/{port}',
    tag: TAG,
    summary: 'Ensures a port is gone.',
    params: PortParams,
    fromPath: { hypervisor: 'name', name: 'port' },
    input: { query: z.object({ ticketRef: z.string().optional() }) },
  }),
  changeOperation({
    kind: 'setPortVlans',
    operationId: 'setPortVlans',
    method: 'put',
    path: '/hypervisors/{name}/ports/{port}/vlans',
    tag: TAG,
    summary: "Sets a port's VLANs: tag, trunks and vlan_mode (what is not given is cleared).",
    params: PortParams,
    fromPath: { hypervisor: 'name', name: 'port' },
    input: 'body',
  }),
);
