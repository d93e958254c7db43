import { builder } from '../builder.ts';
import { changeFields, hostChangeMutation } from './host-change.ts';

/** Mutations on libvirt networks and their portgroups. */

const NativeModeEnum = builder.enumType('PortgroupNativeMode', {
  values: { TAGGED: { value: 'tagged' }, UNTAGGED: { value: 'untagged' } } as const,
});

const PortgroupInputRef = builder.inputType('PortgroupInput', {
  description: 'A portgroup: NICs that name it get its VLAN setting. vlanTags [] = untagged.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'e.g. vlan-1001' }),
    vlanTags: t.intList({ description: 'One VLAN (access), or several with trunk: true.' }),
    trunk: t.boolean({ description: "<vlan trunk='yes'>" }),
    isDefault: t.boolean({ description: 'Used by NICs that name no portgroup; at most one per network.' }),
    nativeMode: t.field({ type: NativeModeEnum, description: 'Native VLAN (the first tag) of a trunk.' }),
  }),
});

hostChangeMutation({
  name: 'defineNetwork',
  input: builder.inputType('DefineNetworkInput', {
    fields: (t) => ({
      ...changeFields(t),
      name: t.string(),
      bridge: t.string({ description: 'An existing OVS bridge.' }),
      portgroups: t.field({ type: [PortgroupInputRef] }),
    }),
  }),
});

hostChangeMutation({
  name: 'deleteNetwork',
  input: builder.inputType('DeleteNetworkInput', {
    fields: (t) => ({ ...changeFields(t), name: t.string({ required: true }), force: t.boolean() }),
  }),
});

hostChangeMutation({
  name: 'addPortgroup',
  input: builder.inputType('AddPortgroupInput', {
    fields: (t) => ({
      ...changeFields(t),
      network: t.string({ description: "Default: the host's default network (else ovs-network)." }),
      portgroup: t.field({ type: PortgroupInputRef, required: true }),
    }),
  }),
});

hostChangeMutation({
  name: 'removePortgroup',
  input: builder.inputType('RemovePortgroupInput', {
    fields: (t) => ({ ...changeFields(t), network: t.string(), name: t.string({ required: true }), force: t.boolean() }),
  }),
});
