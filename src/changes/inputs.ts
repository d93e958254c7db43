import { z } from 'zod';
import { DatapathType, HypervisorName, InterfaceName } from '../validation/names.ts';

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
