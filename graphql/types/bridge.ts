import { orRefuse } from '../authorization.ts';
import { builder } from '../builder.ts';
import { visibleHost } from '../../src/requests/host-reads.ts';
import { toGlobalId } from '../global-id.ts';
import type { HostState } from '../../src/hosts/host-state.ts';
import type { OvsBridge, OvsInterface, OvsPort } from '../../src/ovs/snapshot.ts';
import { NodeRef, registerNodeLoader } from './node.ts';

/** Shapes carry their host's state, so nested fields resolve without another lookup. */
export interface BridgeShape {
  hypervisor: string;
  bridge: OvsBridge;
  state: HostState;
}
export interface PortShape {
  hypervisor: string;
  bridge: string;
  port: OvsPort;
  state: HostState;
}

export const InterfaceRef = builder.objectRef<OvsInterface>('OvsInterface').implement({
  description: 'An Open vSwitch interface of a port.',
  fields: (t) => ({
    name: t.exposeString('name'),
    type: t.string({ description: 'OVS interface type; "system" when OVSDB leaves it empty.', resolve: (i) => i.type || 'system' }),
    ofport: t.exposeInt('ofport', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    mac: t.string({
      nullable: true,
      description: 'external_ids:attached-mac (set by libvirt for VM NICs).',
      resolve: (i) => i.externalIds['attached-mac'] ?? null,
    }),
  }),
});

export const PortRef = builder.objectRef<PortShape>('Port').implement({
  description: 'A port of an OVS bridge.',
  interfaces: [NodeRef],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'port' in v && 'bridge' in v,
  fields: (t) => ({
    id: t.id({ resolve: (p) => toGlobalId('Port', `${p.hypervisor}/${p.bridge}/${p.port.name}`) }),
    name: t.string({ resolve: (p) => p.port.name }),
    tag: t.int({ nullable: true, description: 'Access VLAN, if any.', resolve: (p) => p.port.tag }),
    trunks: t.intList({
      description: 'VLANs trunked; empty (with no tag) means ALL VLANs (OVS semantics).',
      resolve: (p) => p.port.trunks,
    }),
    vlanMode: t.string({ nullable: true, resolve: (p) => p.port.vlanMode }),
    interfaces: t.field({ type: [InterfaceRef], resolve: (p) => p.port.interfaces }),
  }),
});

export const BridgeRef = builder.objectRef<BridgeShape>('Bridge').implement({
  description: 'An Open vSwitch bridge on a hypervisor.',
  interfaces: [NodeRef],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'bridge' in v && typeof (v as BridgeShape).bridge === 'object',
  fields: (t) => ({
    id: t.id({ resolve: (b) => toGlobalId('Bridge', `${b.hypervisor}/${b.bridge.name}`) }),
    name: t.string({ resolve: (b) => b.bridge.name }),
    datapathType: t.string({ resolve: (b) => b.bridge.datapathType || 'system' }),
    ports: t.field({
      type: [PortRef],
      resolve: (b) => b.bridge.ports.map((port) => ({ hypervisor: b.hypervisor, bridge: b.bridge.name, port, state: b.state })),
    }),
  }),
});

registerNodeLoader('Bridge', async (key, ctx) => {
  const [host, name] = key.split('/');
  // Another team's host: FORBIDDEN, as for its name (a guessed id tells nothing either).
  const view = orRefuse(await visibleHost(ctx, host ?? '')).view;
  const bridge = view?.state.ovs?.bridges.find((b) => b.name === name);
  return view && bridge ? { hypervisor: view.host.name, bridge, state: view.state } : null;
});

registerNodeLoader('Port', async (key, ctx) => {
  const [host, bridgeName, name] = key.split('/');
  // Another team's host: FORBIDDEN, as for its name (a guessed id tells nothing either).
  const view = orRefuse(await visibleHost(ctx, host ?? '')).view;
  const bridge = view?.state.ovs?.bridges.find((b) => b.name === bridgeName);
  const port = bridge?.ports.find((p) => p.name === name);
  return view && bridge && port ? { hypervisor: view.host.name, bridge: bridge.name, port, state: view.state } : null;
});
