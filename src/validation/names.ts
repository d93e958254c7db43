import { z } from 'zod';

/**
 * Names that end up in host commands. They are quoted anyway (see ssh/quote.ts); these
 * allow-lists exist so that bad input is refused with a clear message before any job exists.
 */

/** Linux interface names (bridges, ports): at most 15 bytes (IFNAMSIZ-1), no '/', ':' or whitespace. */
export const InterfaceName = z
  .string()
  .min(1, { message: 'must not be empty', abort: true })
  .max(15, { message: 'must be at most 15 characters (Linux interface name limit)', abort: true })
  .regex(/^[A-Za-z0-9_.-]+$/, 'may only contain letters, digits, "_", "." and "-"')
  .refine((s) => s !== '.' && s !== '..', 'must not be "." or ".."');

/** Hypervisor names as registered: DNS-label-like. */
export const HypervisorName = z
  .string()
  .min(1, { message: 'must not be empty', abort: true })
  .max(63, { message: 'must be at most 63 characters', abort: true })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must start with a letter or digit and contain only letters, digits, "_", "." and "-"');

export const DatapathType = z.enum(['netdev', 'system']);
export type DatapathType = z.infer<typeof DatapathType>;

/** 802.1Q VLAN ids usable for traffic (OVS itself accepts 0..4095). */
export const VlanId = z.number().int('must be an integer').min(1, 'must be 1..4094').max(4094, 'must be 1..4094');
