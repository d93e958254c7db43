import { builder } from '../builder.ts';
import { changeFields, hostChangeMutation } from './host-change.ts';

/** Mutations on VMs (libvirt domains) and their NICs. */

const NicModelEnum = builder.enumType('NicModel', {
  values: { VIRTIO: { value: 'virtio' }, E1000: { value: 'e1000' }, RTL8139: { value: 'rtl8139' } } as const,
});

const nicFields = (t: Parameters<typeof changeFields>[0]) => ({
  network: t.string({ description: "libvirt network; default: the host's default network (else ovs-network)." }),
  portgroup: t.string({ description: "Portgroup (its VLAN); default: the network's default portgroup." }),
  mac: t.string({ description: 'Default: derived from the VM and NIC, stable across retries.' }),
  model: t.field({ type: NicModelEnum, description: 'Default VIRTIO.' }),
});

const NicInputRef = builder.inputType('VmNicInput', { fields: (t) => nicFields(t) });

hostChangeMutation({
  name: 'defineVm',
  input: builder.inputType('DefineVmInput', {
    fields: (t) => ({
      ...changeFields(t),
      name: t.string({ required: true }),
      vcpus: t.int({ description: '1..64, default 1.' }),
      memoryMiB: t.int({ description: '16..1048576, default 512.' }),
      nics: t.field({ type: [NicInputRef] }),
    }),
  }),
});

const vmRef = (name: string) =>
  builder.inputType(name, { fields: (t) => ({ ...changeFields(t), name: t.string({ required: true, description: 'VM name.' }) }) });

hostChangeMutation({ name: 'startVm', input: vmRef('StartVmInput') });

hostChangeMutation({
  name: 'stopVm',
  input: builder.inputType('StopVmInput', {
    fields: (t) => ({
      ...changeFields(t),
      name: t.string({ required: true }),
      timeoutSeconds: t.int({ description: '1..3600, default 60.' }),
      force: t.boolean({ description: 'Power off when the graceful shutdown times out.' }),
    }),
  }),
});

hostChangeMutation({
  name: 'undefineVm',
  input: vmRef('UndefineVmInput'),
});

hostChangeMutation({
  name: 'attachVmInterface',
  input: builder.inputType('AttachVmInterfaceInput', {
    fields: (t) => ({ ...changeFields(t), vm: t.string({ required: true }), ...nicFields(t) }),
  }),
});

hostChangeMutation({
  name: 'detachVmInterface',
  input: builder.inputType('DetachVmInterfaceInput', {
    fields: (t) => ({
      ...changeFields(t),
      vm: t.string({ required: true }),
      mac: t.string({ required: true }),
      timeoutSeconds: t.int({ description: 'How long to wait for the guest to release the NIC when the VM runs (1..600, default 10).' }),
    }),
  }),
});

hostChangeMutation({
  name: 'setVmInterfaceVlan',
  input: builder.inputType('SetVmInterfaceVlanInput', {
    fields: (t) => ({
      ...changeFields(t),
      vm: t.string({ required: true }),
      mac: t.string({ required: true }),
      portgroup: t.string({ required: true }),
    }),
  }),
});
