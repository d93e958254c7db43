import { deletePortArgv, ensurePortArgv, setPortVlansArgv, type PortVlans } from '../../ovs/commands.ts';
import { parseOvsSnapshotOnce, snapshotArgv, type OvsSnapshot } from '../../ovs/snapshot.ts';
import { judged, type PlanStep, type StepAction } from '../plan.ts';
import { ABSENT } from './ovs-bridge.ts';

export type PortType = 'internal' | 'system';

/** A port as these steps see it: where it is, its interface type and VLANs; null when absent. */
export type PortState = { bridge: string; type: PortType | string; vlans: PortVlans } | null;

const list = (xs: number[]) => `[${xs.join(',')}]`;

export function vlansValue(v: PortVlans): string {
  return `tag=${v.tag ?? '[]'} trunks=${list(v.trunks)} vlan_mode=${v.vlanMode ?? '[]'}`;
}

/** Full value, for addPort/removePort. */
export function portValue(state: PortState): string {
  return state === null ? ABSENT : `bridge=${state.bridge} type=${state.type} ${vlansValue(state.vlans)}`;
}

/** VLANs only, for setPortVlans (the port may sit on any bridge). */
export function portVlansValue(state: PortState): string {
  return state === null ? ABSENT : vlansValue(state.vlans);
}

function vlanMode(v: unknown): PortVlans['vlanMode'] {
  const s = v === null ? null : String(v);
  return s === 'access' || s === 'trunk' || s === 'native-tagged' || s === 'native-untagged' ? s : null;
}

/** A port as the host's OVS snapshot (the probe of every OVS step) shows it. */
export function portStateFromProbe(stdout: string, port: string): PortState {
  return portStateFromSnapshot(parseOvsSnapshotOnce(stdout), port)!;
}

export function portStateFromSnapshot(ovs: OvsSnapshot | null, port: string): PortState | undefined {
  if (!ovs) return undefined;
  for (const b of ovs.bridges) {
    const p = b.ports.find((x) => x.name === port);
    if (p) {
      const iface = p.interfaces.find((i) => i.name === port);
      return { bridge: b.name, type: iface?.type || 'system', vlans: { tag: p.tag, trunks: p.trunks, vlanMode: vlanMode(p.vlanMode) } };
    }
  }
  return null;
}

export function portPresentStep(host: string, bridge: string, port: string, type: PortType, vlans: PortVlans, cached: PortState | undefined): PlanStep {
  return judged(
    {
      host,
      subject: port,
      description: `ensure port ${port} on ${bridge} (${type}, ${vlansValue(vlans)})`,
      probe: { kind: 'ovs-port', argv: snapshotArgv() },
      wanted: portValue({ bridge, type, vlans }),
      apply: { argv: ensurePortArgv(bridge, port, type, vlans) },
    },
    cached === undefined ? null : portValue(cached),
  );
}

export function portAbsentStep(host: string, port: string, cached: PortState | undefined): PlanStep {
  return judged(
    {
      host,
      subject: port,
      description: `ensure port ${port} is removed`,
      probe: { kind: 'ovs-port', argv: snapshotArgv() },
      wanted: ABSENT,
      apply: { argv: deletePortArgv(port) },
    },
    cached === undefined ? null : portValue(cached),
  );
}

export function portVlansStep(host: string, port: string, vlans: PortVlans, cached: PortState | undefined): PlanStep {
  return judged(
    {
      host,
      subject: port,
      description: `set VLANs of port ${port} to ${vlansValue(vlans)}`,
      probe: { kind: 'ovs-port-vlans', argv: snapshotArgv() },
      wanted: vlansValue(vlans),
      apply: { argv: setPortVlansArgv(port, vlans) },
    },
    cached === undefined ? null : portVlansValue(cached),
  );
}

/** What restores the port as observed before the step ran. */
export function undoPort(before: PortState, step: PlanStep): StepAction | null {
  if (before === null) return step.wanted === ABSENT ? null : { argv: deletePortArgv(step.subject) };
  const type: PortType = before.type === 'internal' ? 'internal' : 'system';
  return { argv: ensurePortArgv(before.bridge, step.subject, type, before.vlans) };
}

export function undoPortVlans(before: PortState, step: PlanStep): StepAction | null {
  return before === null ? null : { argv: setPortVlansArgv(step.subject, before.vlans) };
}
