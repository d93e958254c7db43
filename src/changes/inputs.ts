import { z } from 'zod';
import { DatapathType, HypervisorName, InterfaceName, VlanId } from '../validation/names.ts';

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

export const RegisterHypervisorInput = z.object({
  name: HypervisorName,
  address: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9.:-]+$/, 'must be an IP address or a DNS name'),
  port: z.number().int().min(1).max(65535).default(22),
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a POSIX user name'),
  privateKeyPath: z
    .string()
    .regex(/^\/[^\0]*$/, 'must be an absolute path on the worker machines'),
  hostKeyFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must look like SHA256:<base64> (ssh-keygen -lf -E sha256)'),
  defaults: z
    .object({
      bridge: InterfaceName.default('ovsbr0'),
      uplink: InterfaceName.nullish(),
      network: z.string().max(64).regex(/^[A-Za-z0-9_.-]+$/).nullish(),
      datapathType: DatapathType.nullish(),
    })
    .nullish(),
  ticketRef: TicketRef.nullish(),
});
export type RegisterHypervisorInput = z.infer<typeof RegisterHypervisorInput>;

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
});
export type AddPortInput = z.infer<typeof AddPortInput>;

export const RemovePortInput = z.object({ ...ChangeBase, name: InterfaceName });
export type RemovePortInput = z.infer<typeof RemovePortInput>;

export const SetPortVlansInput = z.object({ ...ChangeBase, name: InterfaceName, ...PortVlanFields });
export type SetPortVlansInput = z.infer<typeof SetPortVlansInput>;
