import { ErrorCode, TrunklineError } from '../../errors/codes.ts';
import { deletePortArgv, ensurePortArgv, portProbeArgv, setPortVlansArgv, type PortVlans } from '../../ovs/commands.ts';
import { cellSet, cellString, parseOvsTables } from '../../ovs/ovsdb-json.ts';
import type { OvsSnapshot } from '../../ovs/snapshot.ts';
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

/** Parses the output of portProbeArgv(). */
export function portStateFromProbe(stdout: string, port: string): PortState {
  const tables = parseOvsTables(stdout);
  if (tables.length !== 3) throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `port probe: expected 3 tables, got ${tables.length}`);
  const [ports, ifaces, bridges] = tables as [(typeof tables)[0], (typeof tables)[0], (typeof tables)[0]];
  const row = ports.rows.find((r) => cellString(r.name) === port);
  if (!row) return null;
  const uuid = cellString(row._uuid);
  const bridge = bridges.rows.find((b) => cellSet(b.ports).map(String).includes(uuid));
  const iface = ifaces.rows.find((r) => cellString(r.name) === port);
  const tag = cellSet(row.tag)[0];
  return {
    bridge: bridge ? cellString(bridge.name) : '?',
    type: iface ? cellString(iface.type) || 'system' : 'system',
    vlans: {
      tag: typeof tag === 'number' ? tag : null,
      trunks: cellSet(row.trunks).map(Number).sort((a, b) => a - b),
      vlanMode: vlanMode(cellSet(row.vlan_mode)[0] ?? null),
    },
  };
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
      probe: { kind: 'ovs-port', argv: portProbeArgv(port) },
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
      probe: { kind: 'ovs-port', argv: portProbeArgv(port) },
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
      probe: { kind: 'ovs-port-vlans', argv: portProbeArgv(port) },
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
