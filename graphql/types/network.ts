import { orRefuse } from '../authorization.ts';
import { builder } from '../builder.ts';
import { visibleHost } from '../../src/requests/host-reads.ts';
import { toGlobalId } from '../global-id.ts';
import type { LibvirtNetwork, Portgroup } from '../../src/libvirt/types.ts';
import { NodeRef, registerNodeLoader } from './node.ts';

export interface NetworkShape {
  hypervisor: string;
  network: LibvirtNetwork;
}

export const PortgroupRef = builder.objectRef<Portgroup>('Portgroup').implement({
  description: 'A libvirt portgroup: the VLAN setting VM NICs get when they name it.',
  fields: (t) => ({
    name: t.exposeString('name'),
    isDefault: t.exposeBoolean('isDefault', { description: "Used by NICs that name no portgroup (default='yes')." }),
    vlanTags: t.intList({ description: 'VLAN ids of its <vlan>; empty = untagged.', resolve: (p) => p.vlan?.tags ?? [] }),
    trunk: t.boolean({ description: "<vlan trunk='yes'>: NICs get a trunk of vlanTags.", resolve: (p) => p.vlan?.trunk ?? false }),
    nativeMode: t.string({ nullable: true, resolve: (p) => p.vlan?.nativeMode ?? null }),
  }),
});

export const NetworkRef = builder.objectRef<NetworkShape>('Network').implement({
  description: 'A libvirt network on a hypervisor (for OVS: forward mode bridge, virtualport openvswitch).',
  interfaces: [NodeRef],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'network' in v,
  fields: (t) => ({
    id: t.id({ resolve: (n) => toGlobalId('Network', `${n.hypervisor}/${n.network.name}`) }),
    name: t.string({ resolve: (n) => n.network.name }),
    uuid: t.string({ resolve: (n) => n.network.uuid }),
    forwardMode: t.string({ nullable: true, resolve: (n) => n.network.forwardMode }),
    bridge: t.string({ nullable: true, resolve: (n) => n.network.bridge }),
    virtualportType: t.string({ nullable: true, resolve: (n) => n.network.virtualportType }),
    active: t.boolean({ resolve: (n) => n.network.active }),
    autostart: t.boolean({ resolve: (n) => n.network.autostart }),
    persistent: t.boolean({ resolve: (n) => n.network.persistent }),
    portgroups: t.field({ type: [PortgroupRef], resolve: (n) => n.network.portgroups }),
  }),
});

registerNodeLoader('Network', async (key, ctx) => {
  const [host, name] = key.split('/');
  // Another team's host: FORBIDDEN, as for its name (a guessed id tells nothing either).
  const view = orRefuse(await visibleHost(ctx, host ?? '')).view;
  const network = view?.state.libvirt?.networks.find((n) => n.name === name);
  return view && network ? { hypervisor: view.host.name, network } : null;
});
