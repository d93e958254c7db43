import { builder } from '../builder.ts';
import { DatapathTypeEnum, PortTypeEnum, VlanModeEnum } from '../types/enums.ts';
import { changeFields, hostChangeMutation } from './host-change.ts';

/** Mutations on Open vSwitch bridges and ports. */

const vlanFields = (t: Parameters<typeof changeFields>[0]) => ({
  tag: t.int({ description: 'Access VLAN (1..4094).' }),
  trunks: t.intList({ description: 'VLANs the port trunks (1..4094 each).' }),
  vlanMode: t.field({ type: VlanModeEnum }),
  trunkAllVlans: t.boolean({
    description: 'Required to leave a port with neither tag nor trunks: OVS then trunks EVERY VLAN.',
  }),
});

hostChangeMutation({
  name: 'createBridge',
  input: builder.inputType('CreateBridgeInput', {
    fields: (t) => ({
      ...changeFields(t),
      name: t.string({ required: true, description: 'Bridge name: 1..15 characters of A-Z a-z 0-9 _ . -' }),
      datapathType: t.field({ type: DatapathTypeEnum, description: "Defaults to the host's default, else TRUNKLINE_DEFAULT_DATAPATH." }),
    }),
  }),
});

hostChangeMutation({
  name: 'deleteBridge',
  input: builder.inputType('DeleteBridgeInput', {
    fields: (t) => ({ ...changeFields(t), name: t.string({ required: true }) }),
  }),
});

hostChangeMutation({
  name: 'addPort',
  input: builder.inputType('AddPortInput', {
    fields: (t) => ({
      ...changeFields(t),
      name: t.string({ required: true, description: 'Port (and interface) name.' }),
      bridge: t.string(),
      type: t.field({ type: PortTypeEnum, description: 'Default SYSTEM (an existing device).' }),
      ...vlanFields(t),
      deviceMayBeMissing: t.boolean({
        description:
          "For a SYSTEM port whose device does not exist yet and will appear later (a NIC to be hotplugged, a VM's or container's veth): OVS accepts such a port but cannot open it. By default (false) the job then FAILS with OVS's message and the port is removed again; with true the job succeeds and the step carries a warning (OVS attaches the device when it appears).",
      }),
    }),
  }),
});

hostChangeMutation({
  name: 'removePort',
  input: builder.inputType('RemovePortInput', {
    fields: (t) => ({ ...changeFields(t), name: t.string({ required: true }) }),
  }),
});

hostChangeMutation({
  name: 'setPortVlans',
  input: builder.inputType('SetPortVlansInput', {
    fields: (t) => ({ ...changeFields(t), name: t.string({ required: true }), ...vlanFields(t) }),
  }),
});
