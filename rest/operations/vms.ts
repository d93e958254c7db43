import { z } from 'zod';
import { ErrorCode } from '../../src/errors/codes.ts';
import { defineOperations } from '../operation.ts';
import { problem } from '../problem.ts';
import { pageSchema, PageQuery } from '../schemas/common.ts';
import { VmSchema, vmView } from '../schemas/fleet.ts';
import { changeOperation } from './change-operation.ts';
import { hostFromPath, noHost } from './hypervisors.ts';
import { pageOf } from './paging.ts';
import { HostParams, NicParams, VmParams } from './params.ts';

const TAG = 'VMs';
const TimeoutQuery = z.object({ timeoutSeconds: z.coerce.number().int().optional(), ticketRef: z.string().optional() });

export const VM_OPERATIONS = defineOperations(
  {
    operationId: 'listVms',
    method: 'get',
    path: '/hypervisors/{name}/vms',
    tag: TAG,
    summary: "The host's VMs with their NICs (joined with OVS ports and portgroups), as last read.",
    params: HostParams,
    query: z.object({ ...PageQuery, state: z.string().max(32).optional().describe('Only VMs in this state (e.g. running).') }),
    answers: { 200: { description: 'A page of VMs, by name.', schema: pageSchema('VmPage', VmSchema) } },
    problems: [404],
    async handle({ params, query, ctx }) {
      const view = await hostFromPath(ctx, params.name as string);
      if (!view) return noHost(params.name);
      const vms = (view.state.libvirt?.domains ?? [])
        .filter((d) => !query.state || d.state === query.state)
        .map((d) => vmView(view.host.name, view.state, d));
      return { status: 200, body: pageOf(vms, query as { limit: number; cursor?: string }, (v) => v.name) };
    },
  },
  changeOperation({
    kind: 'defineVm',
    operationId: 'defineVm',
    method: 'post',
    path: '/hypervisors/{name}/vms',
    tag: TAG,
    summary: 'Ensures a minimal VM (no disk) is defined, with its NICs.',
    params: HostParams,
    fromPath: { hypervisor: 'name' },
    input: 'body',
  }),
  {
    operationId: 'getVm',
    method: 'get',
    path: '/hypervisors/{name}/vms/{vm}',
    tag: TAG,
    summary: 'One VM with its NICs.',
    params: VmParams,
    answers: { 200: { description: 'The VM.', schema: VmSchema } },
    problems: [404],
    async handle({ params, ctx }) {
      const view = await hostFromPath(ctx, params.name as string);
      if (!view) return noHost(params.name);
      const domain = view.state.libvirt?.domains.find((d) => d.name === params.vm);
      if (domain) return { status: 200, body: vmView(view.host.name, view.state, domain) };
      const message = `vm: no VM "${String(params.vm)}" on ${String(params.name)}`;
      return {
        problem: problem(404, ErrorCode.NOT_FOUND, message, {
          errors: [{ field: ['vm'], in: 'path', code: ErrorCode.NOT_FOUND, message }],
        }),
      };
    },
  },
  changeOperation({
    kind: 'undefineVm',
    operationId: 'undefineVm',
    method: 'delete',
    path: '/hypervisors/{name}/vms/{vm}',
    tag: TAG,
    summary: 'Ensures a (stopped) VM is undefined.',
    params: VmParams,
    fromPath: { hypervisor: 'name', name: 'vm' },
    input: { query: z.object({ ticketRef: z.string().optional() }) },
  }),
  changeOperation({
    kind: 'startVm',
    operationId: 'startVm',
    method: 'post',
    path: '/hypervisors/{name}/vms/{vm}/start',
    tag: TAG,
    summary: 'Ensures a VM is running.',
    params: VmParams,
    fromPath: { hypervisor: 'name', name: 'vm' },
    input: 'body',
  }),
  changeOperation({
    kind: 'stopVm',
    operationId: 'stopVm',
    method: 'post',
    path: '/hypervisors/{name}/vms/{vm}/stop',
    tag: TAG,
    summary: 'Ensures a VM is shut off (ACPI shutdown; with force, powered off after the timeout).',
    params: VmParams,
    fromPath: { hypervisor: 'name', name: 'vm' },
    input: 'body',
  }),
  changeOperation({
    kind: 'attachVmInterface',
    operationId: 'attachVmInterface',
    method: 'post',
    path: '/hypervisors/{name}/vms/{vm}/interfaces',
    tag: TAG,
    summary: 'Ensures a VM has a NIC on a network/portgroup (hot-plugged while it runs).',
    params: VmParams,
    fromPath: { hypervisor: 'name', vm: 'vm' },
    input: 'body',
  }),
  changeOperation({
    kind: 'detachVmInterface',
    operationId: 'detachVmInterface',
    method: 'delete',
    path: '/hypervisors/{name}/vms/{vm}/interfaces/{mac}',
    tag: TAG,
    summary: 'Ensures a NIC (by MAC) is gone from a VM, live and persistent.',
    params: NicParams,
    fromPath: { hypervisor: 'name', vm: 'vm', mac: 'mac' },
    input: { query: TimeoutQuery },
  }),
  changeOperation({
    kind: 'setVmInterfaceVlan',
    operationId: 'setVmInterfaceVlan',
    method: 'put',
    path: '/hypervisors/{name}/vms/{vm}/interfaces/{mac}/portgroup',
    tag: TAG,
    summary: "Moves a NIC to another portgroup (its definition, and a running VM's OVS port VLANs).",
    params: NicParams,
    fromPath: { hypervisor: 'name', vm: 'vm', mac: 'mac' },
    input: 'body',
  }),
);
