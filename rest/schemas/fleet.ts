import { z } from 'zod';
import { CARRIED, type VlanView } from '../../src/fleet/vlans.ts';
import type { ResolvedInterface } from '../../src/fleet/vm-interfaces.ts';
import { resolveDomain } from '../../src/fleet/vm-interfaces.ts';
import { isStale } from '../../src/hosts/host-state.ts';
import type { HostState } from '../../src/hosts/host-state.ts';
import type { HostView } from '../../src/hosts/host-view.ts';
import type { Domain, LibvirtNetwork } from '../../src/libvirt/types.ts';
import type { JobRecord } from '../../src/jobs/job-types.ts';
import type { OvsBridge, OvsPort } from '../../src/ovs/snapshot.ts';
import { DateTime, ErrorCodeSchema } from './common.ts';
import { JobStateSchema, VerificationSchema } from './job.ts';

/*
 * The REST representation of the fleet as the cache knows it: hypervisors, their OVS bridges
 * and ports, libvirt networks and portgroups, VMs and their NICs, and VLANs across hosts. The
 * same fields as GraphQL's types, nested where GraphQL nests them; each answer is built from
 * the cached state (`observedAt` says when it was read).
 */

export const OvsInterfaceSchema = z
  .object({
    name: z.string(),
    type: z.string().describe('OVS interface type; "system" when OVSDB leaves it empty.'),
    ofport: z.number().int().nullable(),
    error: z.string().nullable(),
    mac: z.string().nullable().describe('external_ids:attached-mac (set by libvirt for VM NICs).'),
  })
  .meta({ id: 'OvsInterface' });

export const PortSchema = z
  .object({
    hypervisor: z.string(),
    bridge: z.string(),
    name: z.string(),
    tag: z.number().int().nullable().describe('Access VLAN, if any.'),
    trunks: z.array(z.number().int()).describe('VLANs trunked; empty (with no tag) means ALL VLANs (OVS semantics).'),
    vlanMode: z.string().nullable(),
    interfaces: z.array(OvsInterfaceSchema),
  })
  .meta({ id: 'Port', description: 'A port of an Open vSwitch bridge.' });

export const BridgeSchema = z
  .object({
    hypervisor: z.string(),
    name: z.string(),
    datapathType: z.string(),
    ports: z.array(PortSchema),
  })
  .meta({ id: 'Bridge', description: 'An Open vSwitch bridge on a hypervisor.' });

export const PortgroupSchema = z
  .object({
    name: z.string(),
    isDefault: z.boolean().describe("Used by NICs that name no portgroup (default='yes')."),
    vlanTags: z.array(z.number().int()).describe('VLAN ids of its <vlan>; empty = untagged.'),
    trunk: z.boolean().describe("<vlan trunk='yes'>: NICs get a trunk of vlanTags."),
    nativeMode: z.string().nullable(),
  })
  .meta({ id: 'Portgroup' });

export const NetworkSchema = z
  .object({
    hypervisor: z.string(),
    name: z.string(),
    uuid: z.string(),
    forwardMode: z.string().nullable(),
    bridge: z.string().nullable(),
    virtualportType: z.string().nullable(),
    active: z.boolean(),
    autostart: z.boolean(),
    persistent: z.boolean(),
    portgroups: z.array(PortgroupSchema),
  })
  .meta({ id: 'Network', description: 'A libvirt network on a hypervisor.' });

export const VmInterfaceSchema = z
  .object({
    hypervisor: z.string(),
    vm: z.string(),
    index: z.number().int().describe("Position among the VM's NICs."),
    mac: z.string().nullable(),
    type: z.string(),
    model: z.string().nullable(),
    network: z.string().nullable(),
    portgroup: z.string().nullable().describe("The portgroup in effect (the network's default when the NIC names none)."),
    bridge: z.string().nullable(),
    target: z.string().nullable().describe('The OVS port (vnetN) while the VM runs.'),
    virtualportType: z.string().nullable(),
    configuredVlanTags: z.array(z.number().int()),
    configuredTrunk: z.boolean(),
    vlanTags: z.array(z.number().int()).nullable().describe('VLANs in effect on the OVS port; null when not plugged.'),
    trunksAllVlans: z.boolean(),
  })
  .meta({ id: 'VmInterface', description: 'A VM NIC joined with its OVS port and portgroup.' });

export const VmSchema = z
  .object({
    hypervisor: z.string(),
    name: z.string(),
    uuid: z.string(),
    state: z.string().describe('As virsh domstate says: running, shut off, paused, ...'),
    vcpus: z.number().int(),
    memoryMiB: z.number().int(),
    interfaces: z.array(VmInterfaceSchema),
  })
  .meta({ id: 'Vm', description: 'A libvirt domain on a hypervisor.' });

export const HypervisorSchema = z
  .object({
    name: z.string(),
    address: z.string(),
    port: z.number().int(),
    user: z.string().describe('The SSH login used for this host.'),
    hostKeyFingerprint: z
      .string()
      .nullable()
      .describe('The pinned SSH host key (SHA256); null until the first connection pins one (registered with trustOnFirstUse).'),
    defaults: z.object({
      bridge: z.string(),
      uplink: z.string().nullable(),
      network: z.string().nullable(),
      datapathType: z.string().nullable(),
    }),
    status: z.enum(['REACHABLE', 'UNREACHABLE', 'UNKNOWN']).describe('Result of the last read; UNKNOWN until read once.'),
    lastError: z.object({ code: ErrorCodeSchema, message: z.string() }).nullable(),
    observedAt: DateTime.nullable().describe('When the state was read (last successful read).'),
    checkedAt: DateTime.nullable().describe('Last read attempt, successful or not.'),
    stale: z.boolean().describe('Older than TRUNKLINE_STATE_FRESHNESS_SECONDS, never read, or the last read failed.'),
    versions: z.object({ ovs: z.string().nullable(), libvirt: z.string().nullable(), qemu: z.string().nullable() }),
    counts: z.object({ bridges: z.number().int(), ports: z.number().int(), networks: z.number().int(), vms: z.number().int() }),
  })
  .meta({ id: 'Hypervisor', description: 'A KVM host running Open vSwitch and libvirt; state from the cache.' });

export const VlanLastVerificationSchema = z
  .object({
    id: z.string().describe('The verifyVlan job (GET /api/v1/jobs/{id}: its steps, hosts and events).'),
    state: JobStateSchema.describe('SUCCEEDED (every ping did what it must) or FAILED.'),
    finishedAt: DateTime.describe('When the job ended: what makes it the last one.'),
    verification: VerificationSchema.describe('The connectivity matrix: each ping, what it had to do and what it did.'),
  })
  .meta({
    id: 'VlanLastVerification',
    description:
      'The verifyVlan job that ended last (SUCCEEDED or FAILED) with a verification of the VLAN; a verification still running is not it.',
  });

export const VlanSchema = z
  .object({
    tag: z.number().int(),
    name: z.string().nullable(),
    carriedBy: z.array(z.string()).describe('Hypervisors whose uplink carries the VLAN.'),
    missingOn: z.array(z.string()).describe('Hypervisors whose uplink does not carry it (MISSING or NO_UPLINK).'),
    uplinks: z.array(
      z.object({
        hypervisor: z.string(),
        bridge: z.string(),
        uplink: z.string().nullable(),
        carriage: z.enum(['TRUNKED', 'TRUNKS_ALL', 'ACCESS', 'MISSING', 'NO_UPLINK', 'UNKNOWN']),
        carried: z.boolean(),
      }),
    ),
    portgroups: z.array(
      z.object({ hypervisor: z.string(), network: z.string(), name: z.string(), isDefault: z.boolean(), trunk: z.boolean() }),
    ),
    interfaces: z.array(VmInterfaceSchema),
    drift: z.array(
      z.object({
        hypervisor: z.string(),
        kind: z.enum(['UPLINK_MISSING', 'PORTGROUP_MISSING', 'PORTGROUP_DIFFERS', 'TRUNK_PORTGROUP_MISSING', 'VM_PORT_TAG_DIFFERS']),
        subject: z.string(),
        message: z.string(),
      }),
    ),
    lastVerification: VlanLastVerificationSchema.nullable().describe(
      'Null when none is kept (jobs expire after TRUNKLINE_JOB_TTL_SECONDS), and when that job touches a hypervisor outside your host groups.',
    ),
  })
  .meta({ id: 'Vlan', description: "A VLAN across the fleet, derived from every host's cached state, with its drift." });

export function portView(hypervisor: string, bridge: string, port: OvsPort): z.infer<typeof PortSchema> {
  return {
    hypervisor,
    bridge,
    name: port.name,
    tag: port.tag,
    trunks: port.trunks,
    vlanMode: port.vlanMode,
    interfaces: port.interfaces.map((i) => ({
      name: i.name,
      type: i.type || 'system',
      ofport: i.ofport,
      error: i.error,
      mac: i.externalIds['attached-mac'] ?? null,
    })),
  };
}

export function bridgeView(hypervisor: string, bridge: OvsBridge): z.infer<typeof BridgeSchema> {
  return {
    hypervisor,
    name: bridge.name,
    datapathType: bridge.datapathType || 'system',
    ports: bridge.ports.map((p) => portView(hypervisor, bridge.name, p)),
  };
}

export function networkView(hypervisor: string, n: LibvirtNetwork): z.infer<typeof NetworkSchema> {
  return {
    hypervisor,
    name: n.name,
    uuid: n.uuid,
    forwardMode: n.forwardMode,
    bridge: n.bridge,
    virtualportType: n.virtualportType,
    active: n.active,
    autostart: n.autostart,
    persistent: n.persistent,
    portgroups: n.portgroups.map((p) => ({
      name: p.name,
      isDefault: p.isDefault,
      vlanTags: p.vlan?.tags ?? [],
      trunk: p.vlan?.trunk ?? false,
      nativeMode: p.vlan?.nativeMode ?? null,
    })),
  };
}

export function interfaceView(i: ResolvedInterface): z.infer<typeof VmInterfaceSchema> {
  return {
    hypervisor: i.hypervisor,
    vm: i.vm,
    index: i.index,
    mac: i.iface.mac,
    type: i.iface.type,
    model: i.iface.model,
    network: i.iface.network,
    portgroup: i.portgroup?.name ?? i.iface.portgroup,
    bridge: i.iface.bridge,
    target: i.iface.target,
    virtualportType: i.iface.virtualportType,
    configuredVlanTags: i.configuredTags,
    configuredTrunk: i.configuredTrunk,
    vlanTags: i.liveTags,
    trunksAllVlans: i.liveTrunkAll,
  };
}

export function vmView(hypervisor: string, state: HostState, domain: Domain): z.infer<typeof VmSchema> {
  return {
    hypervisor,
    name: domain.name,
    uuid: domain.uuid,
    state: domain.state,
    vcpus: domain.vcpus,
    memoryMiB: Math.round(domain.memoryKiB / 1024),
    interfaces: resolveDomain(state, domain).map(interfaceView),
  };
}

export function hypervisorView(view: HostView, freshnessSeconds: number): z.infer<typeof HypervisorSchema> {
  const { host, state } = view;
  const bridges = state.ovs?.bridges ?? [];
  return {
    name: host.name,
    address: host.address,
    port: host.port,
    user: host.user,
    hostKeyFingerprint: host.hostKeyFingerprint,
    defaults: {
      bridge: host.defaults.bridge,
      uplink: host.defaults.uplink ?? null,
      network: host.defaults.network ?? null,
      datapathType: host.defaults.datapathType ?? null,
    },
    status: state.status,
    lastError: state.error,
    observedAt: state.observedAt,
    checkedAt: state.status === 'UNKNOWN' ? null : state.checkedAt,
    stale: isStale(state, freshnessSeconds),
    versions: state.versions,
    counts: {
      bridges: bridges.length,
      ports: bridges.reduce((n, b) => n + b.ports.length, 0),
      networks: state.libvirt?.networks.length ?? 0,
      vms: state.libvirt?.domains.length ?? 0,
    },
  };
}

export function lastVerificationView(job: JobRecord): z.infer<typeof VlanLastVerificationSchema> | null {
  if (!job.verification || !job.finishedAt) return null;
  return { id: job.id, state: job.state, finishedAt: job.finishedAt, verification: job.verification };
}

/** The VLAN with its name and its last verification's job (as the caller may see it: src/requests/job-requests.ts). */
export function vlanViewBody(v: VlanView, name: string | null, verified: JobRecord | null): z.infer<typeof VlanSchema> {
  return {
    tag: v.tag,
    name,
    carriedBy: v.hosts.filter((h) => CARRIED.has(h.carriage)).map((h) => h.hypervisor),
    missingOn: v.hosts.filter((h) => h.carriage === 'MISSING' || h.carriage === 'NO_UPLINK').map((h) => h.hypervisor),
    uplinks: v.hosts.map((h) => ({ ...h, carried: CARRIED.has(h.carriage) })),
    portgroups: v.portgroups.map((p) => ({
      hypervisor: p.hypervisor,
      network: p.network,
      name: p.portgroup,
      isDefault: p.isDefault,
      trunk: p.trunk,
    })),
    interfaces: v.interfaces.map(interfaceView),
    drift: v.drift,
    lastVerification: verified && lastVerificationView(verified),
  };
}
