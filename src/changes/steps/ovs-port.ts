import { deletePortArgv, ensurePortArgv, setPortVlansArgv, type PortVlans } from '../../ovs/commands.ts';
import { parseOvsSnapshotOnce, snapshotArgv, type OvsSnapshot } from '../../ovs/snapshot.ts';
import { ABSENT, judged, type PlanStep, type StepAction, type StepHealth } from '../plan.ts';

export type PortType = 'internal' | 'system';

/**
 * A port as these steps see it: where it is, its interface type and VLANs, and what OVS says of
 * its interface (`error`, `ofport`: -1 when OVS could not open the device); null when absent.
 */
export type PortState = { bridge: string; type: PortType | string; vlans: PortVlans; error: string | null; ofport: number | null } | null;

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
      return {
        bridge: b.name,
        type: iface?.type || 'system',
        vlans: { tag: p.tag, trunks: p.trunks, vlanMode: vlanMode(p.vlanMode) },
        error: iface?.error ?? null,
        ofport: iface?.ofport ?? null,
      };
    }
  }
  return null;
}

export function portPresentStep(
  host: string,
  bridge: string,
  port: string,
  type: PortType,
  vlans: PortVlans,
  cached: PortState | undefined,
  deviceMayBeMissing = false,
): PlanStep {
  return judged(
    {
      host,
      subject: port,
      description: `ensure port ${port} on ${bridge} (${type}, ${vlansValue(vlans)}${deviceMayBeMissing ? ', device may be missing' : ''})`,
      probe: { kind: 'ovs-port', argv: snapshotArgv() },
      wanted: portValue({ bridge, type, vlans, error: null, ofport: null }),
      apply: { argv: ensurePortArgv(bridge, port, type, vlans) },
      ...(deviceMayBeMissing ? { deviceMayBeMissing: true } : {}),
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

/** What OVS says is wrong with the port's interface, as `name: OVS's message`; null when nothing is. */
export function interfaceProblem(state: PortState, name: string): string | null {
  if (state === null) return null;
  if (state.error) return `${name}: ${state.error}`;
  if (state.ofport === -1) return `${name}: OVS could not open the interface (ofport -1)`;
  return null;
}

/** OVS opens a system interface's device by name; ENODEV means there is no such device (yet). */
export function deviceMissing(state: PortState): boolean {
  return state?.error?.includes('(No such device)') === true;
}

/**
 * A port that reads as wanted may still not work: OVS accepts a port on a device that does not
 * exist (the transaction succeeds, the Interface row carries the error and ofport -1; docs/lab.md).
 * That fails the step, unless the plan says the device may appear later (then OVS attaches it
 * when it does): a warning. `before` is the port before this run changed it, undefined when the
 * step found it as wanted and changed nothing.
 */
export function portHealth(state: PortState, step: PlanStep, before: PortState | undefined): StepHealth {
  if (step.wanted === ABSENT) return null;
  const problem = interfaceProblem(state, step.subject);
  if (!problem) return null;
  const missing = deviceMissing(state);
  if (missing && step.deviceMayBeMissing) return { warning: `${problem}: the port is configured; OVS attaches the device when it appears` };
  const hint = missing ? ' (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true)' : '';
  const untouched = before === undefined ? ' (the port was already like this when the step began, so it is left in place)' : '';
  return { failure: `${problem}${hint}${untouched}` };
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
