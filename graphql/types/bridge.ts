import { builder } from '../builder.ts';
import type { OvsBridge, OvsInterface, OvsPort } from '../../src/ovs/snapshot.ts';

export const InterfaceRef = builder.objectRef<OvsInterface>('OvsInterface').implement({
  description: 'An Open vSwitch interface of a port.',
  fields: (t) => ({
    name: t.exposeString('name'),
    type: t.string({ description: 'OVS interface type; "system" when OVSDB leaves it empty.', resolve: (i) => i.type || 'system' }),
    ofport: t.exposeInt('ofport', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
  }),
});

export const PortRef = builder.objectRef<OvsPort>('Port').implement({
  description: 'A port of an OVS bridge.',
  fields: (t) => ({
    name: t.exposeString('name'),
    tag: t.exposeInt('tag', { nullable: true, description: 'Access VLAN, if any.' }),
    trunks: t.exposeIntList('trunks', { description: 'VLANs trunked; empty means ALL VLANs (OVS semantics).' }),
    vlanMode: t.exposeString('vlanMode', { nullable: true }),
    interfaces: t.field({ type: [InterfaceRef], resolve: (p) => p.interfaces }),
  }),
});

export const BridgeRef = builder.objectRef<OvsBridge>('Bridge').implement({
  description: 'An Open vSwitch bridge on a hypervisor.',
  fields: (t) => ({
    name: t.exposeString('name'),
    datapathType: t.string({ resolve: (b) => b.datapathType || 'system' }),
    ports: t.field({ type: [PortRef], resolve: (b) => b.ports }),
  }),
});
