import type { HostState } from '../hosts/host-state.ts';
import type { Host } from '../inventory/host-registry.ts';
import { resolveInterfaces, type ResolvedInterface } from './vm-interfaces.ts';

/** How a host's uplink treats a VLAN. */
export type UplinkCarriage = 'TRUNKED' | 'TRUNKS_ALL' | 'ACCESS' | 'MISSING' | 'NO_UPLINK' | 'UNKNOWN';

export interface VlanOnHost {
  hypervisor: string;
  bridge: string;
  uplink: string | null;
  carriage: UplinkCarriage;
}

export interface VlanPortgroup {
  hypervisor: string;
  network: string;
  portgroup: string;
  isDefault: boolean;
  trunk: boolean;
}

export type DriftKind = 'UPLINK_MISSING' | 'PORTGROUP_MISSING' | 'PORTGROUP_DIFFERS' | 'TRUNK_PORTGROUP_MISSING' | 'VM_PORT_TAG_DIFFERS';

/** Where a host differs from what the VLAN should be there. */
export interface VlanDrift {
  hypervisor: string;
  kind: DriftKind;
  subject: string;
  message: string;
}

export interface VlanView {
  tag: number;
  hosts: VlanOnHost[];
  portgroups: VlanPortgroup[];
  interfaces: ResolvedInterface[];
  drift: VlanDrift[];
}

const sameSet = (a: number[], b: number[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
export const vlanPortgroupName = (tag: number) => `vlan-${String(tag).padStart(4, '0')}`;

/**
 * Drift on one host, for a host that takes part in the VLAN (its uplink, a portgroup or a VM
 * NIC has it): the uplink does not carry it, the vlan-T portgroup is missing or says otherwise,
 * a trunk portgroup leaves it out, or a running VM's port is not tagged as its portgroup says.
 */
function driftOnHost(m: FleetMember, tag: number, carriage: VlanOnHost, ifaces: ResolvedInterface[]): VlanDrift[] {
  const host = m.host.name;
  const network = m.state.libvirt?.networks.find((n) => n.name === (m.host.defaults.network ?? 'ovs-network'));
  const pgName = vlanPortgroupName(tag);
  const pg = network?.portgroups.find((p) => p.name === pgName);
  const onIt = ifaces.filter((i) => i.configuredTags.includes(tag) || (i.liveTags ?? []).includes(tag));
  const uplinkHasIt = carriage.carriage === 'TRUNKED' || carriage.carriage === 'ACCESS';
  const participates =
    uplinkHasIt || Boolean(pg) || onIt.length > 0 || Boolean(network?.portgroups.some((p) => p.vlan?.tags.includes(tag)));
  if (!participates) return [];
  const out: VlanDrift[] = [];
  const d = (kind: DriftKind, subject: string, message: string) => out.push({ hypervisor: host, kind, subject, message });
  if (carriage.carriage === 'MISSING' || carriage.carriage === 'NO_UPLINK')
    d(
      'UPLINK_MISSING',
      carriage.uplink ?? '(no uplink)',
      `uplink ${carriage.uplink ?? '(none configured)'} on ${carriage.bridge} does not trunk VLAN ${tag}`,
    );
  if (network && !pg) d('PORTGROUP_MISSING', `${network.name}/${pgName}`, `network ${network.name} has no portgroup ${pgName}`);
  if (pg && !(pg.vlan && !pg.vlan.trunk && sameSet(pg.vlan.tags, [tag])))
    d(
      'PORTGROUP_DIFFERS',
      `${network!.name}/${pgName}`,
      `portgroup ${pgName} has ${pg.vlan ? `${pg.vlan.trunk ? 'trunk ' : 'tag '}${pg.vlan.tags.join(',')}` : 'no VLAN'}, not tag ${tag}`,
    );
  for (const t of network?.portgroups.filter((p) => p.vlan?.trunk && !p.vlan.tags.includes(tag)) ?? [])
    d('TRUNK_PORTGROUP_MISSING', `${network!.name}/${t.name}`, `trunk portgroup ${t.name} does not include VLAN ${tag}`);
  for (const i of onIt)
    if (i.liveTags !== null && !i.liveTrunkAll && !sameSet(i.liveTags, i.configuredTags))
      d(
        'VM_PORT_TAG_DIFFERS',
        `${i.vm}/${i.iface.mac}`,
        `${i.vm} NIC ${i.iface.mac}: port ${i.port?.name} carries [${i.liveTags.join(',')}], its portgroup says [${i.configuredTags.join(',')}]`,
      );
  return out;
}

interface FleetMember {
  host: Host;
  state: HostState;
}

/** Whether a host's uplink (registry defaults: bridge + uplink port) carries `tag`. */
export function uplinkCarriage({ host, state }: FleetMember, tag: number): VlanOnHost {
  const bridgeName = host.defaults.bridge;
  const uplink = host.defaults.uplink ?? null;
  const base = { hypervisor: host.name, bridge: bridgeName, uplink };
  if (!state.ovs) return { ...base, carriage: 'UNKNOWN' };
  const port = state.ovs.bridges.find((b) => b.name === bridgeName)?.ports.find((p) => p.name === uplink);
  if (!uplink || !port) return { ...base, carriage: 'NO_UPLINK' };
  if (port.trunks.includes(tag)) return { ...base, carriage: 'TRUNKED' };
  if (port.tag === tag && port.trunks.length === 0) return { ...base, carriage: 'ACCESS' };
  if (port.tag === null && port.trunks.length === 0) return { ...base, carriage: 'TRUNKS_ALL' };
  return { ...base, carriage: 'MISSING' };
}

export const CARRIED: ReadonlySet<UplinkCarriage> = new Set(['TRUNKED', 'TRUNKS_ALL', 'ACCESS']);

/** Whether an interface is on the VLAN: by its live port if plugged, else by its configuration. */
function interfaceOn(i: ResolvedInterface, tag: number): boolean {
  if (i.liveTags !== null) return i.liveTags.includes(tag);
  return i.configuredTags.includes(tag);
}

/**
 * The fleet-wide VLAN view, derived from cached host state: every tag seen on any uplink,
 * port, portgroup or VM NIC, with where it is carried, which portgroups map to it and which
 * VM interfaces sit on it.
 */
export function deriveVlans(fleet: readonly FleetMember[]): VlanView[] {
  const tags = new Set<number>();
  const interfacesByHost = new Map<string, ResolvedInterface[]>();
  for (const m of fleet) {
    for (const b of m.state.ovs?.bridges ?? [])
      for (const p of b.ports) {
        if (p.tag !== null) tags.add(p.tag);
        for (const t of p.trunks) tags.add(t);
      }
    for (const n of m.state.libvirt?.networks ?? []) for (const pg of n.portgroups) for (const t of pg.vlan?.tags ?? []) tags.add(t);
    const ifaces = resolveInterfaces(m.state);
    interfacesByHost.set(m.host.name, ifaces);
    for (const i of ifaces) for (const t of i.configuredTags) tags.add(t);
  }
  return [...tags].sort((a, b) => a - b).map((tag) => vlanView(fleet, tag, interfacesByHost));
}

export function vlanView(fleet: readonly FleetMember[], tag: number, interfacesByHost?: Map<string, ResolvedInterface[]>): VlanView {
  const portgroups: VlanPortgroup[] = [];
  const interfaces: ResolvedInterface[] = [];
  for (const m of fleet) {
    for (const n of m.state.libvirt?.networks ?? [])
      for (const pg of n.portgroups)
        if (pg.vlan?.tags.includes(tag))
          portgroups.push({ hypervisor: m.host.name, network: n.name, portgroup: pg.name, isDefault: pg.isDefault, trunk: pg.vlan.trunk });
    const ifaces = interfacesByHost?.get(m.host.name) ?? resolveInterfaces(m.state);
    interfaces.push(...ifaces.filter((i) => interfaceOn(i, tag)));
  }
  const hosts = fleet.map((m) => uplinkCarriage(m, tag));
  const drift = fleet.flatMap((m, i) => driftOnHost(m, tag, hosts[i]!, interfacesByHost?.get(m.host.name) ?? resolveInterfaces(m.state)));
  return { tag, hosts, portgroups, interfaces, drift };
}
