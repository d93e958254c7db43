import { orRefuse } from '../authorization.ts';
import { builder } from '../builder.ts';
import { visibleHost } from '../../src/requests/host-reads.ts';
import { toGlobalId } from '../global-id.ts';
import { interfaceOnPort, resolveDomain, type ResolvedInterface } from '../../src/fleet/vm-interfaces.ts';
import type { HostState } from '../../src/hosts/host-state.ts';
import type { Domain } from '../../src/libvirt/types.ts';
import type { Context } from '../context.ts';
import { PortRef } from './bridge.ts';
import { NodeRef, registerNodeLoader } from './node.ts';

export interface VmShape {
  hypervisor: string;
  domain: Domain;
  state: HostState;
}

export const VmRef = builder.objectRef<VmShape>('Vm');
export const VmInterfaceRef = builder.objectRef<ResolvedInterface>('VmInterface');

VmInterfaceRef.implement({
  description: 'A VM NIC, joined with its OVS port and libvirt portgroup.',
  fields: (t) => ({
    hypervisor: t.exposeString('hypervisor'),
    vmName: t.exposeString('vm'),
    vm: t.field({ type: VmRef, nullable: true, resolve: (i, _a, ctx) => vmByUuid(ctx, i.hypervisor, i.vmUuid) }),
    mac: t.string({ nullable: true, resolve: (i) => i.iface.mac }),
    type: t.string({ resolve: (i) => i.iface.type }),
    model: t.string({ nullable: true, resolve: (i) => i.iface.model }),
    network: t.string({ nullable: true, resolve: (i) => i.iface.network }),
    portgroup: t.string({
      nullable: true,
      description: 'The portgroup named by the NIC, else the default one in effect.',
      resolve: (i) => i.iface.portgroup ?? i.portgroup?.name ?? null,
    }),
    bridge: t.string({ nullable: true, resolve: (i) => i.iface.bridge }),
    target: t.string({ nullable: true, description: 'The OVS port (vnetN) while the VM runs.', resolve: (i) => i.iface.target }),
    virtualportType: t.string({ nullable: true, resolve: (i) => i.iface.virtualportType }),
    configuredVlanTags: t.intList({
      description: 'VLANs the NIC asks for (its portgroup, or its own <vlan>).',
      resolve: (i) => i.configuredTags,
    }),
    configuredTrunk: t.boolean({ resolve: (i) => i.configuredTrunk }),
    vlanTags: t.intList({
      nullable: true,
      description: 'VLANs actually in effect on the OVS port (tag, or trunks); null when the NIC is not plugged (VM not running).',
      resolve: (i) => i.liveTags,
    }),
    trunksAllVlans: t.boolean({
      description: 'The OVS port has neither tag nor trunks: it carries every VLAN.',
      resolve: (i) => i.liveTrunkAll,
    }),
    port: t.field({
      type: PortRef,
      nullable: true,
      resolve: (i, _a, ctx) =>
        i.port
          ? ctx
              .hostView(i.hypervisor)
              .then((v) => (v && i.port ? { hypervisor: i.hypervisor, bridge: i.iface.bridge ?? '', port: i.port, state: v.state } : null))
          : null,
    }),
  }),
});

VmRef.implement({
  description: 'A libvirt domain on a hypervisor.',
  interfaces: [NodeRef],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'domain' in v,
  fields: (t) => ({
    id: t.id({ resolve: (v) => toGlobalId('Vm', `${v.hypervisor}/${v.domain.uuid}`) }),
    name: t.string({ resolve: (v) => v.domain.name }),
    uuid: t.string({ resolve: (v) => v.domain.uuid }),
    state: t.string({ description: 'As virsh domstate says: running, shut off, paused, ...', resolve: (v) => v.domain.state }),
    vcpus: t.int({ resolve: (v) => v.domain.vcpus }),
    memoryMiB: t.int({ resolve: (v) => Math.round(v.domain.memoryKiB / 1024) }),
    hypervisorName: t.string({ resolve: (v) => v.hypervisor }),
    interfaces: t.field({
      type: [VmInterfaceRef],
      resolve: (v) => resolveDomain(v.state, v.domain),
    }),
  }),
});

async function vmByUuid(ctx: Context, hypervisor: string, uuid: string): Promise<VmShape | null> {
  const view = await ctx.hostView(hypervisor);
  const domain = view?.state.libvirt?.domains.find((d) => d.uuid === uuid);
  return view && domain ? { hypervisor, domain, state: view.state } : null;
}

builder.objectField(PortRef, 'vmInterface', (t) =>
  t.field({
    type: VmInterfaceRef,
    nullable: true,
    description: 'The VM NIC plugged into this port, if any.',
    resolve: (p) => interfaceOnPort(p.state, p.port.name),
  }),
);

registerNodeLoader('Vm', async (key, ctx) => {
  const [host, uuid] = key.split('/');
  // Another team's host: FORBIDDEN, as for its name (a guessed id tells nothing either).
  orRefuse(await visibleHost(ctx, host ?? ''));
  return vmByUuid(ctx, host ?? '', uuid ?? '');
});
