import { z } from 'zod';

/*
 * Path parameters. Names are taken as strings here and checked by the request modules (the
 * same allow-lists as every input), so a bad name is a 400 naming the path parameter.
 */
export const HostParams = z.object({ name: z.string().describe('The hypervisor.') });
export const BridgeParams = HostParams.extend({ bridge: z.string().describe('The OVS bridge.') });
export const PortParams = HostParams.extend({ port: z.string().describe('The OVS port (names are unique per host).') });
export const NetworkParams = HostParams.extend({ network: z.string().describe('The libvirt network.') });
export const PortgroupParams = NetworkParams.extend({ portgroup: z.string().describe('The portgroup of the network.') });
export const VmParams = HostParams.extend({ vm: z.string().describe('The VM (libvirt domain) name.') });
export const NicParams = VmParams.extend({ mac: z.string().describe("The NIC's MAC address.") });
export const TagParams = z.object({ tag: z.coerce.number().int().min(1).max(4094).describe('The VLAN id, 1..4094.') });
export const JobParams = z.object({ id: z.uuid().describe('The job id.') });
