import { orRefuse } from '../authorization.ts';
import { builder } from '../builder.ts';
import { connectionType, pageOf } from '../connection.ts';
import type { HostView } from '../context.ts';
import { isStale } from '../../src/hosts/host-state.ts';
import { refreshVisibleFleet, visibleHost } from '../../src/requests/host-reads.ts';
import { toGlobalId } from '../global-id.ts';
import { BridgeRef, PortRef } from './bridge.ts';
import { NetworkRef } from './network.ts';
import { NodeRef, registerNodeLoader } from './node.ts';
import { VmRef, type VmShape } from './vm.ts';
import { ErrorCodeEnum } from './vocabularies.ts';
import type { ErrorCode } from '../../src/errors/codes.ts';

export const HypervisorStatusEnum = builder.enumType('HypervisorStatus', {
  values: ['REACHABLE', 'UNREACHABLE', 'UNKNOWN'] as const,
});

export const HostErrorRef = builder.objectRef<{ code: ErrorCode; message: string }>('HostError').implement({
  description: 'Why a hypervisor could not be read.',
  fields: (t) => ({ code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }), message: t.exposeString('message') }),
});

export const VersionsRef = builder
  .objectRef<{ ovs: string | null; libvirt: string | null; qemu: string | null }>('SoftwareVersions')
  .implement({
    fields: (t) => ({
      ovs: t.exposeString('ovs', { nullable: true, description: 'Running ovs-vswitchd.' }),
      libvirt: t.exposeString('libvirt', { nullable: true }),
      qemu: t.exposeString('qemu', { nullable: true, description: 'The hypervisor libvirt drives.' }),
    }),
  });

export const HostDefaultsRef = builder.objectRef<HostView['host']['defaults']>('HypervisorDefaults').implement({
  description: 'Per-host names used when a request does not say (registry).',
  fields: (t) => ({
    bridge: t.exposeString('bridge'),
    uplink: t.exposeString('uplink', { nullable: true }),
    network: t.exposeString('network', { nullable: true }),
    datapathType: t.exposeString('datapathType', { nullable: true }),
  }),
});

const VmConnection = connectionType<VmShape>('Vm', VmRef);

export const HypervisorRef = builder.objectRef<HostView>('Hypervisor').implement({
  description: 'A KVM host running Open vSwitch and libvirt. State fields come from the cache (see observedAt, stale).',
  interfaces: [NodeRef],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'host' in v && 'state' in v,
  fields: (t) => ({
    id: t.id({ resolve: (h) => toGlobalId('Hypervisor', h.host.name) }),
    name: t.string({ resolve: (h) => h.host.name }),
    address: t.string({ resolve: (h) => h.host.address }),
    port: t.int({ resolve: (h) => h.host.port }),
    user: t.string({ description: 'The SSH login used for this host.', resolve: (h) => h.host.user }),
    hostKeyFingerprint: t.string({
      nullable: true,
      description: 'The pinned SSH host key (SHA256); null until the first connection pins one (registered with trustOnFirstUse).',
      resolve: (h) => h.host.hostKeyFingerprint,
    }),
    defaults: t.field({ type: HostDefaultsRef, resolve: (h) => h.host.defaults }),
    status: t.field({
      type: HypervisorStatusEnum,
      description: 'Result of the last read attempt; UNKNOWN until the host was read once.',
      resolve: (h) => h.state.status,
    }),
    lastError: t.field({
      type: HostErrorRef,
      nullable: true,
      description: 'Why the last read failed, if it did.',
      resolve: (h) => h.state.error,
    }),
    observedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the state below was read (last successful read).',
      resolve: (h) => h.state.observedAt,
    }),
    checkedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Last read attempt, successful or not.',
      resolve: (h) => (h.state.status === 'UNKNOWN' ? null : h.state.checkedAt),
    }),
    ageSeconds: t.int({
      nullable: true,
      description: 'Seconds since observedAt.',
      resolve: (h) => (h.state.observedAt ? Math.max(0, Math.floor((Date.now() - Date.parse(h.state.observedAt)) / 1000)) : null),
    }),
    stale: t.boolean({
      description:
        'True when the state is older than the configured freshness (TRUNKLINE_STATE_FRESHNESS_SECONDS), never read, or the last read failed.',
      resolve: (h, _a, ctx) => isStale(h.state, ctx.config.inventory.freshnessSeconds),
    }),
    versions: t.field({ type: VersionsRef, resolve: (h) => h.state.versions }),
    bridges: t.field({
      type: [BridgeRef],
      description: 'Open vSwitch bridges as last observed; empty when never read.',
      resolve: (h) => (h.state.ovs?.bridges ?? []).map((bridge) => ({ hypervisor: h.host.name, bridge, state: h.state })),
    }),
    bridge: t.field({
      type: BridgeRef,
      nullable: true,
      args: { name: t.arg.string({ required: true }) },
      resolve: (h, { name }) => {
        const bridge = h.state.ovs?.bridges.find((b) => b.name === name);
        return bridge ? { hypervisor: h.host.name, bridge, state: h.state } : null;
      },
    }),
    uplink: t.field({
      type: PortRef,
      nullable: true,
      description: "The uplink port (registry default) on the host's default bridge, if present.",
      resolve: (h) => {
        const bridge = h.state.ovs?.bridges.find((b) => b.name === h.host.defaults.bridge);
        const port = bridge?.ports.find((p) => p.name === h.host.defaults.uplink);
        return bridge && port ? { hypervisor: h.host.name, bridge: bridge.name, port, state: h.state } : null;
      },
    }),
    networks: t.field({
      type: [NetworkRef],
      resolve: (h) => (h.state.libvirt?.networks ?? []).map((network) => ({ hypervisor: h.host.name, network })),
    }),
    network: t.field({
      type: NetworkRef,
      nullable: true,
      args: { name: t.arg.string({ required: true }) },
      resolve: (h, { name }) => {
        const network = h.state.libvirt?.networks.find((n) => n.name === name);
        return network ? { hypervisor: h.host.name, network } : null;
      },
    }),
    vms: t.field({
      type: VmConnection,
      description: 'VMs sorted by name; `first` at most 100.',
      args: { first: t.arg.int(), after: t.arg.string(), state: t.arg.string({ description: 'Only VMs in this state (e.g. "running").' }) },
      resolve: (h, { first, after, state }) => {
        const all = (h.state.libvirt?.domains ?? [])
          .filter((d) => !state || d.state === state)
          .map((domain) => ({ hypervisor: h.host.name, domain, state: h.state }));
        return pageOf(all, first, after);
      },
    }),
    vm: t.field({
      type: VmRef,
      nullable: true,
      args: { name: t.arg.string({ required: true }) },
      resolve: (h, { name }) => {
        const domain = h.state.libvirt?.domains.find((d) => d.name === name);
        return domain ? { hypervisor: h.host.name, domain, state: h.state } : null;
      },
    }),
  }),
});

registerNodeLoader('Hypervisor', async (name, ctx) => orRefuse(await visibleHost(ctx, name)).view);

builder.queryFields((t) => ({
  hypervisors: t.field({
    type: [HypervisorRef],
    description: 'Every registered hypervisor, sorted by name, from the cache. `refresh: true` reads every host first (bounded wait).',
    args: { refresh: t.arg.boolean() },
    resolve: async (_root, { refresh }, ctx) => {
      if (refresh) orRefuse({ userErrors: await refreshVisibleFleet(ctx) });
      return ctx.fleet();
    },
  }),
  hypervisor: t.field({
    type: HypervisorRef,
    nullable: true,
    args: { name: t.arg.string({ required: true }), refresh: t.arg.boolean() },
    resolve: async (_root, { name, refresh }, ctx) => orRefuse(await visibleHost(ctx, name, refresh ?? false)).view,
  }),
}));
