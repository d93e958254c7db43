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

export interface VlanView {
  tag: number;
  hosts: VlanOnHost[];
  portgroups: VlanPortgroup[];
  interfaces: ResolvedInterface[];
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
        p.trunks.forEach((t) => tags.add(t));
      }
    for (const n of m.state.libvirt?.networks ?? []) for (const pg of n.portgroups) pg.vlan?.tags.forEach((t) => tags.add(t));
    const ifaces = resolveInterfaces(m.state);
    interfacesByHost.set(m.host.name, ifaces);
    for (const i of ifaces) i.configuredTags.forEach((t) => tags.add(t));
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
  return { tag, hosts: fleet.map((m) => uplinkCarriage(m, tag)), portgroups, interfaces };
}
