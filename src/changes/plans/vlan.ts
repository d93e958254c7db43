import type { Config } from '../../config/config.ts';
import { ErrorCode } from '../../errors/codes.ts';
import { vlanPortgroupName, vlanView } from '../../fleet/vlans.ts';
import type { HostState } from '../../hosts/host-state.ts';
import type { Host } from '../../inventory/host-registry.ts';
import type { Portgroup } from '../../libvirt/types.ts';
import type { EnsureVlanInput, RemoveVlanInput } from '../inputs.ts';
import type { Plan, PlanStep } from '../plan.ts';
import { networkPresentStep, networkRunningStep, portgroupStep } from '../steps/libvirt-network.ts';
import { bridgePresentStep, bridgeStateFromSnapshot } from '../steps/ovs-bridge.ts';
import { portStateFromSnapshot } from '../steps/ovs-port.ts';
import { uplinkCarriesStep, uplinkDropsStep } from '../steps/ovs-uplink.ts';
import { inputError as err, type UserError } from '../user-errors.ts';
import { cachedNetwork, portgroupChangeSteps } from './libvirt.ts';
import { newMarker } from '../../libvirt/virsh-batch.ts';

/** A fleet member as planners see it: registry entry and cached state (null if never read). */
export interface Member {
  host: Host;
  state: HostState | null;
}

const DEFAULT_NETWORK = 'ovs-network';

function names(m: Member, input: { bridge?: string | null; uplink?: string | null; network?: string | null }) {
  return {
    bridge: input.bridge ?? m.host.defaults.bridge,
    uplink: input.uplink ?? m.host.defaults.uplink ?? null,
    network: input.network ?? m.host.defaults.network ?? DEFAULT_NETWORK,
  };
}

const withTag = (pg: Portgroup, tag: number, add: boolean): Portgroup => {
  const tags = [...new Set(add ? [...(pg.vlan?.tags ?? []), tag] : (pg.vlan?.tags ?? []).filter((t) => t !== tag))].sort((a, b) => a - b);
  return { ...pg, vlan: tags.length ? { tags, trunk: true, nativeMode: pg.vlan?.nativeMode ?? null } : null };
};

/**
 * One host's part of "VLAN T here": the bridge exists; the uplink trunks T (added, never
 * replacing other VLANs); the libvirt network exists with portgroup vlan-T; every trunk
 * portgroup (vlan-all style) includes T, and running VMs on those are retagged.
 */
function ensureOnHost(m: Member, input: EnsureVlanInput, config: Config): { steps: PlanStep[]; errors: UserError[] } {
  const { bridge, uplink, network } = names(m, input);
  const host = m.host.name;
  if (!uplink) return { steps: [], errors: [err('uplink', ErrorCode.NO_UPLINK, `${host} has no uplink in the registry; give uplink`)] };
  const ovs = m.state?.ovs ?? null;
  const cachedUplink = portStateFromSnapshot(ovs, uplink);
  if (cachedUplink && cachedUplink.vlans.tag !== null && cachedUplink.vlans.trunks.length === 0 && cachedUplink.vlans.tag !== input.tag)
    return {
      steps: [],
      errors: [
        err('uplink', ErrorCode.UPLINK_IS_ACCESS, `${uplink} on ${host} is an access port of VLAN ${cachedUplink.vlans.tag}, not a trunk`),
      ],
    };
  if (cachedUplink && cachedUplink.bridge !== bridge)
    return {
      steps: [],
      errors: [err('uplink', ErrorCode.PORT_ON_OTHER_BRIDGE, `${uplink} on ${host} sits on bridge ${cachedUplink.bridge}, not ${bridge}`)],
    };
  const pgName = input.portgroup ?? vlanPortgroupName(input.tag);
  const pg: Portgroup = { name: pgName, isDefault: false, vlan: { tags: [input.tag], trunk: false, nativeMode: null } };
  const steps: PlanStep[] = [
    bridgePresentStep(host, bridge, m.host.defaults.datapathType ?? config.defaults.datapathType, bridgeStateFromSnapshot(ovs, bridge)),
    uplinkCarriesStep(host, bridge, uplink, input.tag, cachedUplink),
  ];
  const net = cachedNetwork(m.state, network);
  if (net === null || (net === undefined && !m.state)) {
    // No such network yet (or never read): define it with an untagged default and the VLAN, but
    // only if it is absent when the worker looks. One that exists (made since the last read) may
    // have portgroups others rely on, which a redefine would drop: it just gets the VLAN's.
    const spec = { name: network, bridge, portgroups: [{ name: 'vlan-0001', isDefault: true, vlan: null }, pg] };
    const marker = newMarker();
    steps.push(
      networkPresentStep(host, spec, net, marker),
      networkRunningStep(host, network, net),
      portgroupStep(host, network, pg, net, marker),
    );
  } else {
    // One marker for the network's portgroup steps: the worker then probes the network once.
    const marker = newMarker();
    steps.push(portgroupStep(host, network, pg, net, marker));
    for (const trunkPg of net?.portgroups.filter((p) => p.vlan?.trunk && p.name !== pgName) ?? [])
      steps.push(...portgroupChangeSteps(m.host, m.state, network, withTag(trunkPg, input.tag, true), marker));
  }
  return { steps, errors: [] };
}

export function planEnsureVlan(members: Member[], input: EnsureVlanInput, config: Config): { plan?: Plan; errors?: UserError[] } {
  const parts = members.map((m) => ensureOnHost(m, input, config));
  const errors = parts.flatMap((p) => p.errors);
  if (errors.length) return { errors };
  return { plan: { kind: 'ensureVlan', hypervisors: members.map((m) => m.host.name), steps: parts.flatMap((p) => p.steps) } };
}

/**
 * Takes VLAN T off hosts: its portgroup, T in trunk portgroups, T in the uplink's trunks.
 * Refused while VM NICs sit on it (unless forced) and where it would leave a trunk empty:
 * an empty trunks set means every VLAN.
 */
export function planRemoveVlan(members: Member[], input: RemoveVlanInput): { plan?: Plan; errors?: UserError[] } {
  const errors: UserError[] = [];
  const fleet = members.filter((m): m is { host: Host; state: HostState } => m.state !== null);
  const users = vlanView(fleet, input.tag).interfaces;
  if (users.length && !input.force)
    errors.push(
      err(
        'tag',
        ErrorCode.IN_USE,
        `VLAN ${input.tag} is used by ${users.map((i) => `${i.vm} on ${i.hypervisor} (${i.iface.mac ?? '?'})`).join(', ')}; move them first or set force: true`,
      ),
    );
  const steps: PlanStep[] = [];
  for (const m of members) {
    const { uplink, network } = names(m, input);
    const host = m.host.name;
    const net = cachedNetwork(m.state, network);
    const pgName = input.portgroup ?? vlanPortgroupName(input.tag);
    const marker = newMarker();
    if (net?.portgroups.some((p) => p.name === pgName))
      steps.push(portgroupStep(host, network, { name: pgName, isDefault: false, vlan: null }, net, marker, true));
    for (const trunkPg of net?.portgroups.filter((p) => p.vlan?.trunk && p.vlan.tags.includes(input.tag)) ?? []) {
      if (trunkPg.vlan!.tags.length === 1) {
        errors.push(
          err(
            'tag',
            ErrorCode.WOULD_EMPTY_TRUNK,
            `portgroup ${trunkPg.name} of ${network} on ${host} trunks only VLAN ${input.tag}; remove it instead`,
          ),
        );
        continue;
      }
      steps.push(...portgroupChangeSteps(m.host, m.state, network, withTag(trunkPg, input.tag, false), marker));
    }
    const cachedUplink = uplink ? portStateFromSnapshot(m.state?.ovs ?? null, uplink) : undefined;
    if (uplink && cachedUplink?.vlans.trunks.includes(input.tag)) {
      if (cachedUplink.vlans.trunks.length === 1)
        errors.push(
          err(
            'tag',
            ErrorCode.WOULD_TRUNK_ALL_VLANS,
            `VLAN ${input.tag} is the last VLAN on uplink ${uplink} of ${host}; an empty trunks set would carry every VLAN`,
          ),
        );
      else steps.push(uplinkDropsStep(host, uplink, input.tag, cachedUplink));
    }
  }
  if (errors.length) return { errors };
  return { plan: { kind: 'removeVlan', hypervisors: members.map((m) => m.host.name), steps } };
}
