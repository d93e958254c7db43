import { builder } from '../builder.ts';
import { toGlobalId } from '../global-id.ts';
import type { Host } from '../../src/inventory/host-registry.ts';
import { BridgeRef } from './bridge.ts';
import { NodeRef, registerNodeLoader } from './node.ts';

export const HypervisorStatusEnum = builder.enumType('HypervisorStatus', {
  values: ['REACHABLE', 'UNREACHABLE', 'UNKNOWN'] as const,
});

export const HostErrorRef = builder.objectRef<{ code: string; message: string }>('HostError').implement({
  description: 'Why a hypervisor could not be read.',
  fields: (t) => ({ code: t.exposeString('code'), message: t.exposeString('message') }),
});

export const HypervisorRef = builder.objectRef<Host>('Hypervisor').implement({
  description: 'A KVM host running Open vSwitch and libvirt, reached over SSH.',
  interfaces: [NodeRef],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'hostKeyFingerprint' in v,
  fields: (t) => ({
    id: t.id({ resolve: (h) => toGlobalId('Hypervisor', h.name) }),
    name: t.exposeString('name'),
    address: t.exposeString('address'),
    port: t.exposeInt('port'),
    user: t.exposeString('user', { description: 'The SSH login used for this host.' }),
    hostKeyFingerprint: t.exposeString('hostKeyFingerprint', { description: 'The pinned SSH host key (SHA256).' }),
    status: t.field({
      type: HypervisorStatusEnum,
      resolve: async (h, _args, ctx) => (await ctx.observe(h)).status,
    }),
    observedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the state below was read from the host.',
      resolve: async (h, _args, ctx) => (await ctx.observe(h)).observedAt,
    }),
    lastError: t.field({
      type: HostErrorRef,
      nullable: true,
      resolve: async (h, _args, ctx) => (await ctx.observe(h)).error,
    }),
    bridges: t.field({
      type: [BridgeRef],
      description: 'Open vSwitch bridges; empty when the host cannot be read (see status and lastError).',
      resolve: async (h, _args, ctx) => (await ctx.observe(h)).ovs?.bridges ?? [],
    }),
  }),
});

registerNodeLoader('Hypervisor', (name, ctx) => ctx.registry.get(name));

builder.queryFields((t) => ({
  hypervisors: t.field({
    type: [HypervisorRef],
    description: 'Every registered hypervisor, sorted by name.',
    resolve: async (_root, _args, ctx) => [...(await ctx.registry.list())].sort((a, b) => a.name.localeCompare(b.name)),
  }),
  hypervisor: t.field({
    type: HypervisorRef,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_root, { name }, ctx) => (await ctx.registry.get(name)) ?? null,
  }),
}));
