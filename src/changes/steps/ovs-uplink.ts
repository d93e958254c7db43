import { snapshotArgv } from '../../ovs/snapshot.ts';
import { ABSENT, judged, type PlanStep, type StepAction, type StepHealth } from '../plan.ts';
import { interfaceProblem, portStateFromProbe, type PortState } from './ovs-port.ts';

/**
 * Whether a host's uplink carries one VLAN. Trunks are changed with `add`/`remove`, which touch
 * one value, never with `set`, which would replace the VLANs others rely on (docs/lab.md).
 */
const OVS = ['ovs-vsctl', '--timeout=10'];

export function splitUplinkSubject(subject: string): { uplink: string; tag: number } {
  const i = subject.lastIndexOf('/');
  return { uplink: subject.slice(0, i), tag: Number(subject.slice(i + 1)) };
}

/** carries: in its trunks, or an untagged port with no trunks (every VLAN), or its access VLAN. */
export function carries(state: NonNullable<PortState>, tag: number): boolean {
  const v = state.vlans;
  return v.trunks.includes(tag) || (v.tag === null && v.trunks.length === 0) || (v.tag === tag && v.trunks.length === 0);
}

export function uplinkValue(state: PortState, tag: number): string {
  if (state === null) return ABSENT;
  return carries(state, tag) ? `carries ${tag}` : `does not carry ${tag}`;
}

export function readUplink(stdout: string, step: PlanStep): { value: string; state: PortState } {
  const { uplink, tag } = splitUplinkSubject(step.subject);
  const state = portStateFromProbe(stdout, uplink);
  return { value: uplinkValue(state, tag), state };
}

export function uplinkCarriesStep(host: string, bridge: string, uplink: string, tag: number, cached: PortState | undefined): PlanStep {
  return judged(
    {
      host,
      subject: `${uplink}/${tag}`,
      description: `ensure uplink ${uplink} on ${bridge} trunks VLAN ${tag} (added to its trunks, others kept)`,
      probe: { kind: 'ovs-uplink-vlan', argv: snapshotArgv() },
      wanted: `carries ${tag}`,
      apply: { argv: [...OVS, '--may-exist', 'add-port', bridge, uplink, '--', 'add', 'Port', uplink, 'trunks', String(tag)] },
    },
    cached === undefined ? null : uplinkValue(cached, tag),
  );
}

export function uplinkDropsStep(host: string, uplink: string, tag: number, cached: PortState | undefined): PlanStep {
  return judged(
    {
      host,
      subject: `${uplink}/${tag}`,
      description: `ensure uplink ${uplink} no longer trunks VLAN ${tag} (others kept)`,
      probe: { kind: 'ovs-uplink-vlan', argv: snapshotArgv() },
      wanted: `does not carry ${tag}`,
      apply: { argv: [...OVS, 'remove', 'Port', uplink, 'trunks', String(tag)] },
    },
    cached === undefined ? null : uplinkValue(cached, tag),
  );
}

export function undoUplink(before: PortState, step: PlanStep): StepAction | null {
  const { uplink, tag } = splitUplinkSubject(step.subject);
  if (before === null) return { argv: [...OVS, '--if-exists', 'del-port', uplink] };
  if (step.wanted.startsWith('carries'))
    return before.vlans.trunks.length ? { argv: [...OVS, 'remove', 'Port', uplink, 'trunks', String(tag)] } : null;
  return { argv: [...OVS, 'add', 'Port', uplink, 'trunks', String(tag)] };
}

/**
 * An uplink whose device OVS cannot open carries no VLAN to the switch. When this step created
 * the port (`--may-exist add-port` of a name the host has no device for: a wrong uplink name,
 * most likely) the step fails and is rolled back (the port is deleted again). When the port was
 * there before (made on purpose, e.g. by addPort with deviceMayBeMissing) the trunk is kept and
 * the step warns.
 */
export function uplinkHealth(state: PortState, step: PlanStep, before: PortState | undefined): StepHealth {
  if (!step.wanted.startsWith('carries')) return null;
  const { uplink, tag } = splitUplinkSubject(step.subject);
  const problem = interfaceProblem(state, uplink);
  if (!problem) return null;
  if (before === null)
    return {
      failure: `${problem} (this step created uplink ${uplink}: check the uplink name, the input's uplink or the host's defaults.uplink; if the device will appear later, add the port first with addPort deviceMayBeMissing: true)`,
    };
  return { warning: `${problem}: VLAN ${tag} is in the uplink's trunks but reaches no switch until OVS can open the device` };
}
