import { ErrorCode } from '../../errors/codes.ts';
import { resolveInterfaces } from '../../fleet/vm-interfaces.ts';
import type { HostState } from '../../hosts/host-state.ts';
import type { Host } from '../../inventory/host-registry.ts';
import type { Portgroup } from '../../libvirt/types.ts';
import { newMarker } from '../../libvirt/virsh-batch.ts';
import type { PortVlans } from '../../ovs/commands.ts';
import type { AddPortgroupInput, DefineNetworkInput, DeleteNetworkInput, PortgroupSpec, RemovePortgroupInput } from '../inputs.ts';
import { networkAbsentStep, networkDefinedStep, networkRunningStep, portgroupStep, restartNeeded } from '../steps/libvirt-network.ts';
import { bridgeStateFromSnapshot } from '../steps/ovs-bridge.ts';
import { portStateFromSnapshot, portVlansStep } from '../steps/ovs-port.ts';
import type { PlanStep } from '../plan.ts';
import type { UserError } from '../user-errors.ts';
import type { Planned } from './ovs.ts';

const DEFAULT_NETWORK = 'ovs-network';

export function toPortgroup(spec: PortgroupSpec): Portgroup {
  return {
    name: spec.name,
    isDefault: spec.isDefault,
    vlan: spec.vlanTags.length ? { tags: [...spec.vlanTags], trunk: spec.trunk, nativeMode: spec.nativeMode ?? null } : null,
  };
}

/** The OVS port settings libvirt gives a NIC of this portgroup (seen on real hosts). */
export function portVlansOf(pg: Portgroup): PortVlans {
  const v = pg.vlan;
  if (!v || v.tags.length === 0) return { tag: null, trunks: [], vlanMode: null };
  if (!v.trunk) return { tag: v.tags[0]!, trunks: [], vlanMode: null };
  if (v.nativeMode)
    return {
      tag: v.tags[0]!,
      trunks: [...v.tags].sort((a, b) => a - b),
      vlanMode: v.nativeMode === 'tagged' ? 'native-tagged' : 'native-untagged',
    };
  return { tag: null, trunks: [...v.tags].sort((a, b) => a - b), vlanMode: null };
}

export const cachedNetwork = (state: HostState | null, name: string) =>
  state?.libvirt ? (state.libvirt.networks.find((n) => n.name === name) ?? null) : undefined;

/** VM NICs (defined or running) whose configuration names the network (and portgroup). */
export function nicsUsing(state: HostState | null, network: string, portgroup?: string) {
  if (!state) return [];
  return resolveInterfaces(state).filter(
    (i) => i.iface.network === network && (portgroup === undefined || (i.iface.portgroup ?? i.portgroup?.name) === portgroup),
  );
}

function inUse(field: string, what: string, nics: ReturnType<typeof nicsUsing>): UserError {
  const list = nics.map((n) => `${n.vm} (${n.iface.mac ?? 'no mac'})`).join(', ');
  return {
    field: ['input', field],
    code: ErrorCode.IN_USE,
    message: `${field}: ${what} is used by ${list}; detach or move them first, or set force: true`,
  };
}

/**
 * A network that looks like this: defined if absent; an existing one converges (its UUID kept,
 * portgroups changed live and persistently), and running VMs on its portgroups are retagged
 * like addPortgroup does. Refused when the running network would need a restart (another
 * bridge, forward mode or virtualport) and when a portgroup it drops is named by VM NICs.
 */
export function planDefineNetwork(
  host: Host,
  state: HostState | null,
  input: Omit<DefineNetworkInput, 'hypervisor' | 'dryRun' | 'ticketRef'>,
): Planned {
  const name = input.name ?? host.defaults.network ?? DEFAULT_NETWORK;
  const bridge = input.bridge ?? host.defaults.bridge;
  if (bridgeStateFromSnapshot(state?.ovs ?? null, bridge) === null)
    return {
      errors: [
        {
          field: ['input', 'bridge'],
          code: ErrorCode.NOT_FOUND,
          message: `bridge: ${host.name} has no OVS bridge ${bridge} (create it first)`,
        },
      ],
    };
  const spec = { name, bridge, portgroups: input.portgroups.map(toPortgroup) };
  const cached = cachedNetwork(state, name);
  // The cache holds the live definition of a running network.
  const restart = cached?.active ? restartNeeded(name, cached, { forwardMode: 'bridge', bridge, virtualportType: 'openvswitch' }) : null;
  if (restart) return { errors: [{ field: ['input', 'bridge'], code: ErrorCode.NETWORK_RESTART_REQUIRED, message: `bridge: ${restart}` }] };
  const kept = new Set(spec.portgroups.map((p) => p.name));
  const orphans = cached ? nicsUsing(state, name).filter((n) => n.iface.portgroup !== null && !kept.has(n.iface.portgroup)) : [];
  if (orphans.length) {
    const list = orphans.map((n) => `${n.vm} (${n.iface.mac ?? 'no mac'}) on ${n.iface.portgroup}`).join(', ');
    return {
      errors: [
        {
          field: ['input', 'portgroups'],
          code: ErrorCode.IN_USE,
          message: `portgroups: the definition drops portgroups used by ${list}; move them first (setVmInterfaceVlan) or remove those portgroups with removePortgroup(force: true)`,
        },
      ],
    };
  }
  const marker = newMarker();
  const retags = spec.portgroups.flatMap((pg) =>
    nicsUsing(state, name, pg.name)
      .filter((n) => n.port !== null && n.iface.target)
      .map((n) => portVlansStep(host.name, n.iface.target!, portVlansOf(pg), portStateFromSnapshot(state?.ovs ?? null, n.iface.target!))),
  );
  return {
    plan: {
      kind: 'defineNetwork',
      hypervisors: [host.name],
      steps: [networkDefinedStep(host.name, spec, cached, marker), networkRunningStep(host.name, name, cached), ...retags],
    },
  };
}

export function planDeleteNetwork(
  host: Host,
  state: HostState | null,
  input: Omit<DeleteNetworkInput, 'hypervisor' | 'dryRun' | 'ticketRef'>,
): Planned {
  const users = nicsUsing(state, input.name);
  if (users.length && !input.force) return { errors: [inUse('name', `network ${input.name}`, users)] };
  return {
    plan: {
      kind: 'deleteNetwork',
      hypervisors: [host.name],
      steps: [networkAbsentStep(host.name, input.name, cachedNetwork(state, input.name))],
    },
  };
}

/**
 * Adds or changes a portgroup live and persistently, then retags the OVS ports of running
 * VMs on it: libvirt does not touch ports that are already plugged.
 */
export function planAddPortgroup(
  host: Host,
  state: HostState | null,
  input: Omit<AddPortgroupInput, 'hypervisor' | 'dryRun' | 'ticketRef'>,
): Planned {
  const network = input.network ?? host.defaults.network ?? DEFAULT_NETWORK;
  const cached = cachedNetwork(state, network);
  if (cached === null)
    return {
      errors: [
        { field: ['input', 'network'], code: ErrorCode.NOT_FOUND, message: `network: ${host.name} has no libvirt network ${network}` },
      ],
    };
  return {
    plan: {
      kind: 'addPortgroup',
      hypervisors: [host.name],
      steps: portgroupChangeSteps(host, state, network, toPortgroup(input.portgroup)),
    },
  };
}

/**
 * A portgroup set live and persistent, then the OVS ports of running VMs on it retagged.
 * Steps on one network may share a probe `marker`: identical probes then run once per round.
 */
export function portgroupChangeSteps(
  host: Host,
  state: HostState | null,
  network: string,
  pg: Portgroup,
  marker = newMarker(),
): PlanStep[] {
  const vlans = portVlansOf(pg);
  const retags = nicsUsing(state, network, pg.name)
    .filter((n) => n.port !== null && n.iface.target)
    .map((n) => portVlansStep(host.name, n.iface.target!, vlans, portStateFromSnapshot(state?.ovs ?? null, n.iface.target!)));
  return [portgroupStep(host.name, network, pg, cachedNetwork(state, network), marker), ...retags];
}

export function planRemovePortgroup(
  host: Host,
  state: HostState | null,
  input: Omit<RemovePortgroupInput, 'hypervisor' | 'dryRun' | 'ticketRef'>,
): Planned {
  const network = input.network ?? host.defaults.network ?? DEFAULT_NETWORK;
  const cached = cachedNetwork(state, network);
  if (cached === null)
    return {
      errors: [
        { field: ['input', 'network'], code: ErrorCode.NOT_FOUND, message: `network: ${host.name} has no libvirt network ${network}` },
      ],
    };
  const users = nicsUsing(state, network, input.name);
  if (users.length && !input.force) return { errors: [inUse('name', `portgroup ${input.name}`, users)] };
  const pg: Portgroup = { name: input.name, isDefault: false, vlan: null };
  return {
    plan: { kind: 'removePortgroup', hypervisors: [host.name], steps: [portgroupStep(host.name, network, pg, cached, newMarker(), true)] },
  };
}
