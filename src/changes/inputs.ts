import { z } from 'zod';
import {
  DatapathType,
  DOT_NAME_MESSAGE,
  HypervisorName,
  InterfaceName,
  LibvirtName,
  notDotName,
  notOptionLike,
  notOptionLikeParams,
  PosixUserName,
  VlanId,
} from '../validation/names.ts';

export { LibvirtName };

/**
 * Input schemas of change operations, shared by the GraphQL and REST layers so both refuse the
 * same things with the same field paths.
 */
export const TicketRef = z
  .string()
  .min(1)
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:#/-]*$/, 'may contain letters, digits and _ . : # / - only');

const ChangeOptions = {
  dryRun: z.boolean().default(false),
  ticketRef: TicketRef.nullish(),
};

export const CreateBridgeInput = z.object({
  hypervisor: HypervisorName,
  name: InterfaceName,
  datapathType: DatapathType.nullish(),
  ...ChangeOptions,
});
export type CreateBridgeInput = z.infer<typeof CreateBridgeInput>;

const HostKeyFingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must look like SHA256:<base64> (ssh-keygen -lf -E sha256)');

export const RegisterHypervisorInput = z
  .object({
    name: HypervisorName,
    address: z
      .string()
      .min(1)
      .max(253)
      .refine(notOptionLike, notOptionLikeParams)
      .regex(/^[A-Za-z0-9.:-]+$/, 'must be an IP address or a DNS name')
      .refine(notDotName, DOT_NAME_MESSAGE),
    port: z.number().int().min(1).max(65535).default(22),
    user: PosixUserName,
    privateKeyPath: z.string().regex(/^\/[^\0]*$/, 'must be an absolute path on the worker machines'),
    hostKeyFingerprint: HostKeyFingerprint.nullish(),
    // Only when asked: without a fingerprint, the key the host presents at the first connection is pinned.
    trustOnFirstUse: z.boolean().default(false),
    defaults: z
      .object({
        bridge: InterfaceName.default('ovsbr0'),
        uplink: InterfaceName.nullish(),
        network: LibvirtName.nullish(),
        datapathType: DatapathType.nullish(),
      })
      .nullish(),
    ticketRef: TicketRef.nullish(),
  })
  .superRefine((v, ctx) => {
    if (!v.hostKeyFingerprint && !v.trustOnFirstUse)
      ctx.addIssue({
        code: 'custom',
        path: ['hostKeyFingerprint'],
        message: 'give the host key (ssh-keygen -lf -E sha256 on the host), or set trustOnFirstUse to pin the key it presents first',
      });
    if (v.hostKeyFingerprint && v.trustOnFirstUse)
      ctx.addIssue({
        code: 'custom',
        path: ['trustOnFirstUse'],
        message: 'a fingerprint is given: there is nothing to trust on first use',
      });
  });
export type RegisterHypervisorInput = z.infer<typeof RegisterHypervisorInput>;

export const HostKeyRotationInput = z.object({
  expectedFingerprint: HostKeyFingerprint.describe('The key pinned now: the rotation happens only if it still is.'),
  hostKeyFingerprint: HostKeyFingerprint.nullable().describe("The host's new key; null: pin the key it presents at the next connection."),
});
export type HostKeyRotationInput = z.infer<typeof HostKeyRotationInput>;

export const RefreshHypervisorInput = z.object({
  hypervisors: z.array(HypervisorName).min(1, 'name at least one hypervisor').max(1000),
});

const ChangeBase = {
  hypervisor: HypervisorName,
  ...ChangeOptions,
};

export const VlanMode = z.enum(['access', 'trunk', 'native-tagged', 'native-untagged']);

/** VLAN settings of a port; their consistency is checked by checkPortVlans. */
const PortVlanFields = {
  tag: VlanId.nullish(),
  trunks: z.array(VlanId).max(4094).nullish(),
  vlanMode: VlanMode.nullish(),
  // An untagged port with an empty trunks set carries EVERY VLAN; it must be asked for.
  trunkAllVlans: z.boolean().default(false),
};

export const DeleteBridgeInput = z.object({ ...ChangeBase, name: InterfaceName });
export type DeleteBridgeInput = z.infer<typeof DeleteBridgeInput>;

export const AddPortInput = z.object({
  ...ChangeBase,
  bridge: InterfaceName.nullish(),
  name: InterfaceName,
  type: z.enum(['internal', 'system']).default('system'),
  ...PortVlanFields,
  // OVS accepts a system port whose device does not exist; the job fails on it unless told so.
  deviceMayBeMissing: z.boolean().default(false),
});
export type AddPortInput = z.infer<typeof AddPortInput>;

export const RemovePortInput = z.object({ ...ChangeBase, name: InterfaceName });
export type RemovePortInput = z.infer<typeof RemovePortInput>;

export const SetPortVlansInput = z.object({ ...ChangeBase, name: InterfaceName, ...PortVlanFields });
export type SetPortVlansInput = z.infer<typeof SetPortVlansInput>;

export const PortgroupSpec = z
  .object({
    name: LibvirtName,
    vlanTags: z.array(VlanId).max(4094).default([]),
    trunk: z.boolean().default(false),
    isDefault: z.boolean().default(false),
    nativeMode: z.enum(['tagged', 'untagged']).nullish(),
  })
  .superRefine((pg, ctx) => {
    if (pg.trunk && pg.vlanTags.length === 0)
      ctx.addIssue({ code: 'custom', path: ['vlanTags'], message: 'a trunk portgroup needs at least one VLAN' });
    if (!pg.trunk && pg.vlanTags.length > 1)
      ctx.addIssue({ code: 'custom', path: ['vlanTags'], message: 'more than one VLAN needs trunk: true' });
    if (pg.nativeMode && !pg.trunk) ctx.addIssue({ code: 'custom', path: ['nativeMode'], message: 'nativeMode needs trunk: true' });
  });
export type PortgroupSpec = z.infer<typeof PortgroupSpec>;

export const DefineNetworkInput = z.object({
  ...ChangeBase,
  name: LibvirtName.nullish(),
  bridge: InterfaceName.nullish(),
  portgroups: z
    .array(PortgroupSpec)
    .max(64)
    .default([])
    .superRefine((pgs, ctx) => {
      const names = new Set<string>();
      pgs.forEach((pg, i) => {
        if (names.has(pg.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate portgroup ${pg.name}` });
        names.add(pg.name);
      });
      if (pgs.filter((p) => p.isDefault).length > 1)
        ctx.addIssue({ code: 'custom', path: [], message: 'at most one portgroup can be the default' });
    }),
});
export type DefineNetworkInput = z.infer<typeof DefineNetworkInput>;

export const DeleteNetworkInput = z.object({ ...ChangeBase, name: LibvirtName, force: z.boolean().default(false) });
export type DeleteNetworkInput = z.infer<typeof DeleteNetworkInput>;

export const AddPortgroupInput = z.object({ ...ChangeBase, network: LibvirtName.nullish(), portgroup: PortgroupSpec });
export type AddPortgroupInput = z.infer<typeof AddPortgroupInput>;

export const RemovePortgroupInput = z.object({
  ...ChangeBase,
  network: LibvirtName.nullish(),
  name: LibvirtName,
  force: z.boolean().default(false),
});
export type RemovePortgroupInput = z.infer<typeof RemovePortgroupInput>;

export const MacAddress = z
  .string()
  .regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, 'must be a MAC address like 52:54:00:12:34:56')
  .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, 'must be a unicast MAC (even first octet)')
  .transform((m) => m.toLowerCase());

const NicModel = z.enum(['virtio', 'e1000', 'rtl8139']).default('virtio');

export const NicInput = z.object({
  network: LibvirtName.nullish(),
  portgroup: LibvirtName.nullish(),
  mac: MacAddress.nullish(),
  model: NicModel,
});

export const DefineVmInput = z.object({
  ...ChangeBase,
  name: LibvirtName,
  vcpus: z.number().int().min(1, 'must be 1..64').max(64, 'must be 1..64').default(1),
  memoryMiB: z.number().int().min(16, 'must be 16..1048576').max(1_048_576, 'must be 16..1048576').default(512),
  nics: z.array(NicInput).max(16, 'at most 16 NICs').default([]),
});
export type DefineVmInput = z.infer<typeof DefineVmInput>;

export const VmRef = z.object({ ...ChangeBase, name: LibvirtName });
export type VmRefInput = z.infer<typeof VmRef>;

export const StopVmInput = z.object({
  ...ChangeBase,
  name: LibvirtName,
  timeoutSeconds: z.number().int().min(1, 'must be 1..3600').max(3600, 'must be 1..3600').default(60),
  force: z.boolean().default(false),
});
export type StopVmInput = z.infer<typeof StopVmInput>;

export const AttachVmInterfaceInput = z.object({ ...ChangeBase, vm: LibvirtName, ...NicInput.shape });
export type AttachVmInterfaceInput = z.infer<typeof AttachVmInterfaceInput>;

export const DetachVmInterfaceInput = z.object({
  ...ChangeBase,
  vm: LibvirtName,
  mac: MacAddress,
  // A live unplug completes only when the guest releases the device (ACPI hotplug).
  timeoutSeconds: z.number().int().min(1, 'must be 1..600').max(600, 'must be 1..600').default(10),
});
export type DetachVmInterfaceInput = z.infer<typeof DetachVmInterfaceInput>;

export const SetVmInterfaceVlanInput = z.object({ ...ChangeBase, vm: LibvirtName, mac: MacAddress, portgroup: LibvirtName });
export type SetVmInterfaceVlanInput = z.infer<typeof SetVmInterfaceVlanInput>;

const VlanHosts = z.array(HypervisorName).min(1, 'name at least one hypervisor').max(1000);

export const EnsureVlanInput = z.object({
  tag: VlanId,
  name: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9][A-Za-z0-9 _.:#/-]*$/, 'letters, digits, space and _ . : # / - only')
    .nullish(),
  hypervisors: VlanHosts,
  bridge: InterfaceName.nullish(),
  uplink: InterfaceName.nullish(),
  network: LibvirtName.nullish(),
  portgroup: LibvirtName.nullish(),
  dryRun: z.boolean().default(false),
  ticketRef: TicketRef.nullish(),
});
export type EnsureVlanInput = z.infer<typeof EnsureVlanInput>;

export const RemoveVlanInput = z.object({
  tag: VlanId,
  hypervisors: VlanHosts,
  force: z.boolean().default(false),
  uplink: InterfaceName.nullish(),
  network: LibvirtName.nullish(),
  portgroup: LibvirtName.nullish(),
  dryRun: z.boolean().default(false),
  ticketRef: TicketRef.nullish(),
});
export type RemoveVlanInput = z.infer<typeof RemoveVlanInput>;

export const VerifyVlanInput = z.object({
  tag: VlanId,
  hypervisors: VlanHosts,
  isolationFrom: z.array(VlanId).max(8, 'at most 8 VLANs').default([]),
  bridge: InterfaceName.nullish(),
  ticketRef: TicketRef.nullish(),
});
export type VerifyVlanInput = z.infer<typeof VerifyVlanInput>;
