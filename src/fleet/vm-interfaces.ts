import type { HostState } from '../hosts/host-state.ts';
import type { Domain, DomainInterface, Portgroup } from '../libvirt/types.ts';
import type { OvsPort } from '../ovs/snapshot.ts';

/** A VM NIC joined with what the host says about it: its OVS port and its portgroup. */
export interface ResolvedInterface {
  hypervisor: string;
  vm: string;
  vmUuid: string;
  vmState: string;
  index: number;
  iface: DomainInterface;
  /** The OVS port (target dev) while the VM runs. */
  port: OvsPort | null;
  portgroup: Portgroup | null;
  /** VLANs the portgroup (or the interface's own <vlan>) asks for. */
  configuredTags: number[];
  configuredTrunk: boolean;
  /** VLANs in effect on the OVS port: [tag] for access ports, trunks otherwise; null when not plugged. */
  liveTags: number[] | null;
  /** The port is a trunk of every VLAN (no tag, empty trunks). */
  liveTrunkAll: boolean;
}

export function portVlanTags(port: OvsPort): { tags: number[]; trunkAll: boolean } {
  if (port.tag !== null && (port.vlanMode === null || port.vlanMode === 'access')) return { tags: [port.tag], trunkAll: false };
  const tags = [...new Set([...(port.tag !== null ? [port.tag] : []), ...port.trunks])].sort((a, b) => a - b);
  return { tags, trunkAll: port.trunks.length === 0 && port.tag === null };
}

function findPortgroup(state: HostState, iface: DomainInterface): Portgroup | null {
  if (!iface.network) return null;
  const network = state.libvirt?.networks.find((n) => n.name === iface.network);
  if (!network) return null;
  return network.portgroups.find((p) => (iface.portgroup ? p.name === iface.portgroup : p.isDefault)) ?? null;
}

// Resolved once per HostState object: a query touching 50 VMs x their NICs x 100 ports must
// not rebuild the joins for every field (states are parsed per request, so this lives as long
// as the request does).
const resolved = new WeakMap<
  HostState,
  { all: ResolvedInterface[]; byVm: Map<string, ResolvedInterface[]>; byPort: Map<string, ResolvedInterface> }
>();

function index(state: HostState) {
  let r = resolved.get(state);
  if (!r) {
    const ports = new Map<string, OvsPort>();
    for (const b of state.ovs?.bridges ?? []) for (const p of b.ports) ports.set(p.name, p);
    const all: ResolvedInterface[] = [];
    const byVm = new Map<string, ResolvedInterface[]>();
    const byPort = new Map<string, ResolvedInterface>();
    for (const d of state.libvirt?.domains ?? []) {
      const nics = resolveDomainWith(state, d, ports);
      byVm.set(d.uuid, nics);
      for (const n of nics) {
        all.push(n);
        if (n.port) byPort.set(n.port.name, n);
      }
    }
    r = { all, byVm, byPort };
    resolved.set(state, r);
  }
  return r;
}

/** Every NIC of every VM of a host, joined with its OVS port and portgroup. */
export function resolveInterfaces(state: HostState): ResolvedInterface[] {
  return index(state).all;
}

/** The NICs of one VM of the host. */
export function resolveDomain(state: HostState, d: Domain): ResolvedInterface[] {
  return index(state).byVm.get(d.uuid) ?? resolveDomainWith(state, d, new Map());
}

/** The VM NIC plugged into an OVS port of the host, if any. */
export function interfaceOnPort(state: HostState, port: string): ResolvedInterface | null {
  return index(state).byPort.get(port) ?? null;
}

function resolveDomainWith(state: HostState, d: Domain, byName: Map<string, OvsPort>): ResolvedInterface[] {
  return d.interfaces.map((iface, index) => {
    const port = iface.target ? (byName.get(iface.target) ?? null) : null;
    const portgroup = findPortgroup(state, iface);
    // A NIC that names a portgroup is on what the portgroup says now: a running VM's XML keeps
    // the VLANs resolved when it was plugged, even after net-update changed the portgroup (and
    // the change retagged the port). A NIC's own <vlan> (no portgroup named) is its own.
    const vlan = (iface.portgroup ? portgroup?.vlan : null) ?? iface.vlan ?? portgroup?.vlan ?? null;
    const live = port ? portVlanTags(port) : null;
    return {
      hypervisor: state.host,
      vm: d.name,
      vmUuid: d.uuid,
      vmState: d.state,
      index,
      iface,
      port,
      portgroup,
      configuredTags: vlan?.tags ?? [],
      configuredTrunk: vlan?.trunk ?? false,
      liveTags: live?.tags ?? null,
      liveTrunkAll: live?.trunkAll ?? false,
    };
  });
}
