import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../src/errors/codes.ts';
import { builder } from '../builder.ts';
import { toGlobalId } from '../global-id.ts';
import {
  CARRIED,
  deriveVlans,
  vlanView,
  type VlanDrift,
  type VlanOnHost,
  type VlanPortgroup,
  type VlanView,
} from '../../src/fleet/vlans.ts';
import { lastVerification } from '../../src/requests/job-requests.ts';
import { VlanId } from '../../src/validation/names.ts';
import { JobRef } from './job.ts';
import { NodeRef, registerNodeLoader } from './node.ts';
import { HypervisorRef } from './hypervisor.ts';
import { VmInterfaceRef } from './vm.ts';

export const UplinkCarriageEnum = builder.enumType('UplinkCarriage', {
  values: {
    TRUNKED: { description: "The uplink's trunks list the VLAN." },
    TRUNKS_ALL: { description: 'The uplink has no tag and an empty trunks set: it carries every VLAN.' },
    ACCESS: { description: 'The uplink is an access port of this VLAN.' },
    MISSING: { description: 'The uplink exists but does not carry the VLAN.' },
    NO_UPLINK: { description: 'No uplink configured in the registry, or the port is not on the bridge.' },
    UNKNOWN: { description: 'The host was never read.' },
  } as const,
});

const VlanHostRef = builder.objectRef<VlanOnHost>('VlanHypervisor').implement({
  description: "How one hypervisor's uplink treats the VLAN.",
  fields: (t) => ({
    hypervisorName: t.exposeString('hypervisor'),
    hypervisor: t.field({ type: HypervisorRef, nullable: true, resolve: (h, _a, ctx) => ctx.hostView(h.hypervisor) }),
    bridge: t.exposeString('bridge'),
    uplink: t.exposeString('uplink', { nullable: true }),
    carriage: t.field({ type: UplinkCarriageEnum, resolve: (h) => h.carriage }),
    carried: t.boolean({ resolve: (h) => CARRIED.has(h.carriage) }),
  }),
});

const VlanPortgroupRef = builder.objectRef<VlanPortgroup>('VlanPortgroup').implement({
  description: 'A libvirt portgroup whose VLAN setting includes the tag.',
  fields: (t) => ({
    hypervisorName: t.exposeString('hypervisor'),
    network: t.exposeString('network'),
    name: t.exposeString('portgroup'),
    isDefault: t.exposeBoolean('isDefault'),
    trunk: t.exposeBoolean('trunk'),
  }),
});

export const DriftKindEnum = builder.enumType('VlanDriftKind', {
  values: {
    UPLINK_MISSING: { description: 'The uplink does not trunk the VLAN.' },
    PORTGROUP_MISSING: { description: 'The host network has no vlan-<tag> portgroup.' },
    PORTGROUP_DIFFERS: { description: 'vlan-<tag> exists with another VLAN setting.' },
    TRUNK_PORTGROUP_MISSING: { description: 'A trunk portgroup (vlan-all style) leaves the VLAN out.' },
    VM_PORT_TAG_DIFFERS: { description: "A running VM's OVS port is not tagged as its portgroup says." },
  } as const,
});

const VlanDriftRef = builder.objectRef<VlanDrift>('VlanDrift').implement({
  description: 'Where a hypervisor taking part in the VLAN differs from what it should be. ensureVlan repairs the first four.',
  fields: (t) => ({
    hypervisorName: t.exposeString('hypervisor'),
    kind: t.field({ type: DriftKindEnum, resolve: (d) => d.kind }),
    subject: t.exposeString('subject'),
    message: t.exposeString('message'),
  }),
});

export const VlanRef = builder.objectRef<VlanView>('Vlan').implement({
  description: "A VLAN across the fleet, derived from every host's cached state.",
  interfaces: [NodeRef],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'tag' in v && 'portgroups' in v,
  fields: (t) => ({
    id: t.id({ resolve: (v) => toGlobalId('Vlan', String(v.tag)) }),
    tag: t.exposeInt('tag'),
    name: t.string({
      nullable: true,
      description: 'As given to ensureVlan.',
      resolve: async (v, _a, ctx) => (await ctx.vlanNames.all()).get(v.tag) ?? null,
    }),
    drift: t.field({
      type: [VlanDriftRef],
      description: 'Differences from what the VLAN should be, per hypervisor.',
      resolve: (v) => v.drift,
    }),
    hypervisors: t.field({
      type: [HypervisorRef],
      description: 'Hypervisors whose uplink carries the VLAN.',
      resolve: async (v, _a, ctx) => {
        const names = new Set(v.hosts.filter((h) => CARRIED.has(h.carriage)).map((h) => h.hypervisor));
        return (await ctx.fleet()).filter((f) => names.has(f.host.name));
      },
    }),
    missingOn: t.field({
      type: [HypervisorRef],
      description: 'Hypervisors whose uplink does not carry it (MISSING or NO_UPLINK).',
      resolve: async (v, _a, ctx) => {
        const names = new Set(v.hosts.filter((h) => h.carriage === 'MISSING' || h.carriage === 'NO_UPLINK').map((h) => h.hypervisor));
        return (await ctx.fleet()).filter((f) => names.has(f.host.name));
      },
    }),
    uplinks: t.field({
      type: [VlanHostRef],
      description: 'Every hypervisor with how its uplink treats the VLAN.',
      resolve: (v) => v.hosts,
    }),
    portgroups: t.field({ type: [VlanPortgroupRef], resolve: (v) => v.portgroups }),
    interfaces: t.field({
      type: [VmInterfaceRef],
      description: 'VM NICs on the VLAN: by the live OVS port when plugged, else by their portgroup.',
      resolve: (v) => v.interfaces,
    }),
    lastVerification: t.field({
      type: JobRef,
      nullable: true,
      description:
        'The verifyVlan job that ended last (SUCCEEDED or FAILED) with a verification of this VLAN: its `verification` holds the matrix. Null when none is kept (jobs expire after TRUNKLINE_JOB_TTL_SECONDS), and when it touches a hypervisor outside your host groups. A verification still running is not it.',
      resolve: (v, _a, ctx) => lastVerification(ctx, v.tag),
    }),
  }),
});

function checkTag(tag: number): number {
  const r = VlanId.safeParse(tag);
  if (!r.success)
    throw new GraphQLError(`tag: ${r.error.issues[0]?.message}`, { extensions: { code: ErrorCode.INVALID_INPUT, field: 'tag' } });
  return tag;
}

registerNodeLoader('Vlan', async (key, ctx) => vlanView(await ctx.fleet(), checkTag(Number(key))));

builder.queryFields((t) => ({
  vlans: t.field({
    type: [VlanRef],
    description: 'Every VLAN seen on any uplink, port, portgroup or VM NIC, by tag.',
    resolve: async (_root, _args, ctx) => deriveVlans(await ctx.fleet()),
  }),
  vlan: t.field({
    type: VlanRef,
    description: 'One VLAN across the fleet (also when nothing uses it yet: then it shows where it is missing).',
    args: { tag: t.arg.int({ required: true }) },
    resolve: async (_root, { tag }, ctx) => vlanView(await ctx.fleet(), checkTag(tag)),
  }),
}));
