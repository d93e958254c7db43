import { z } from 'zod';

/**
 * Names that end up in host commands. They are quoted anyway (see ssh/quote.ts); these
 * allow-lists exist so that bad input is refused with a clear message before any job exists.
 */

/**
 * Quoting does not help against a name that begins with '-': `ip`, `ovs-vsctl` and `virsh` read
 * it as an option (argument injection, CWE-88). Every identifier that can reach a host refuses it
 * first, and alone: the message says why rather than listing the allowed characters.
 */
export const OPTION_LIKE_MESSAGE = 'must not start with "-" (it would be read as an option)';

/** For `.refine(notOptionLike, notOptionLikeParams)`: aborts, so no other message follows. */
export function notOptionLike(s: string): boolean {
  return !s.startsWith('-');
}
export const notOptionLikeParams = { message: OPTION_LIKE_MESSAGE, abort: true } as const;
/** '.' and '..' as whole names: path components (/sys/class/net, libvirt's XML files). */
export function notDotName(s: string): boolean {
  return s !== '.' && s !== '..';
}
export const DOT_NAME_MESSAGE = 'must not be "." or ".."';

/** Linux interface names (bridges, ports): at most 15 bytes (IFNAMSIZ-1), no '/', ':' or whitespace. */
export const InterfaceName = z
  .string()
  .min(1, { message: 'must not be empty', abort: true })
  .max(15, { message: 'must be at most 15 characters (Linux interface name limit)', abort: true })
  .refine(notOptionLike, notOptionLikeParams)
  .regex(/^[A-Za-z0-9_.-]+$/, 'may only contain letters, digits, "_", "." and "-"')
  .refine(notDotName, DOT_NAME_MESSAGE);

/** Hypervisor names as registered: DNS-label-like. */
export const HypervisorName = z
  .string()
  .min(1, { message: 'must not be empty', abort: true })
  .max(63, { message: 'must be at most 63 characters', abort: true })
  .refine(notOptionLike, notOptionLikeParams)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must start with a letter or digit and contain only letters, digits, "_", "." and "-"');

/** libvirt object names (networks, portgroups, domains) by allow-list. */
export const LibvirtName = z
  .string()
  .min(1, { message: 'must not be empty', abort: true })
  .max(64, { message: 'must be at most 64 characters', abort: true })
  .refine(notOptionLike, notOptionLikeParams)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must start with a letter or digit and contain only letters, digits, "_", "." and "-"');

/** SSH login names: POSIX user names (never reach argv, but are refused alike). */
export const PosixUserName = z
  .string()
  .min(1, { message: 'must not be empty', abort: true })
  .refine(notOptionLike, notOptionLikeParams)
  .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a POSIX user name');

export const DatapathType = z.enum(['netdev', 'system']);
export type DatapathType = z.infer<typeof DatapathType>;

/** 802.1Q VLAN ids usable for traffic (OVS itself accepts 0..4095). */
export const VlanId = z.number().int('must be an integer').min(1, 'must be 1..4094').max(4094, 'must be 1..4094');
