import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import { okStdout } from '../ssh/command-output.ts';
import type { ExecResult } from '../ssh/runner.ts';
import type { PlanStep, ProbeKind, StepAction, StepHealth } from './plan.ts';
import { bridgeStateFromProbe, bridgeValue, undoBridge, type BridgeState } from './steps/ovs-bridge.ts';
import {
  applyNetworkDef,
  applyNetworkRun,
  applyPortgroup,
  networkDefMatches,
  portgroupMatches,
  readNetworkDef,
  readNetworkRun,
  readPortgroup,
  undoNetworkDef,
  undoNetworkRun,
  undoPortgroup,
  type NetworkDefState,
  type NetworkRunState,
  type PortgroupState,
} from './steps/libvirt-network.ts';
import {
  applyNic,
  applyNicPortgroup,
  applyVmDef,
  nicMatches,
  readNic,
  readNicConfig,
  readVmDef,
  readVmState,
  undoNic,
  undoNicPortgroup,
  undoVmDef,
  undoVmState,
  type NicState,
  type VmDefState,
} from './steps/libvirt-vm.ts';
import { readUplink, undoUplink, uplinkHealth } from './steps/ovs-uplink.ts';
import { portHealth, portStateFromProbe, portValue, portVlansValue, undoPort, undoPortVlans, type PortState } from './steps/ovs-port.ts';

/**
 * How the worker handles each kind of step: turn the probe's output into the observed value
 * (compared with `wanted`) and, from the state seen before acting, the command that undoes
 * the step if a later one fails.
 */
interface StepKind<S> {
  read(result: ExecResult, step: PlanStep): { value: string; state: S };
  undo(before: S, step: PlanStep): StepAction | null;
  /** The command for what the worker observed, when it depends on it (default: the planned one). */
  applyFor?(before: S, step: PlanStep): StepAction;
  /** Whether the observed state is as wanted (default: observed value === wanted). */
  matches?(state: S, step: PlanStep): boolean;
  /**
   * Once as wanted: whether it also works (default: yes). `before`: the state before this run
   * changed it; undefined when the step changed nothing.
   */
  health?(state: S, step: PlanStep, before: S | undefined): StepHealth;
}

const ok = (result: ExecResult): string => okStdout('probe', result);

const bridge: StepKind<BridgeState> = {
  read: (r, step) => {
    const state = bridgeStateFromProbe(ok(r), step.subject);
    return { value: bridgeValue(state), state };
  },
  undo: undoBridge,
};

const port: StepKind<PortState> = {
  read: (r, step) => {
    const state = portStateFromProbe(ok(r), step.subject);
    return { value: portValue(state), state };
  },
  undo: undoPort,
  health: portHealth,
};

const portVlans: StepKind<PortState> = {
  read: (r, step) => {
    const state = portStateFromProbe(ok(r), step.subject);
    return { value: portVlansValue(state), state };
  },
  undo: undoPortVlans,
};

const uplink: StepKind<PortState> = { read: (r, step) => readUplink(ok(r), step), undo: undoUplink, health: uplinkHealth };

const networkDef: StepKind<NetworkDefState> = {
  read: readNetworkDef,
  undo: undoNetworkDef,
  applyFor: applyNetworkDef,
  matches: (state, step) => networkDefMatches(state, step.wanted),
};
const networkRun: StepKind<NetworkRunState> = { read: readNetworkRun, undo: undoNetworkRun, applyFor: applyNetworkRun };
const portgroup: StepKind<PortgroupState> = {
  read: readPortgroup,
  undo: undoPortgroup,
  applyFor: applyPortgroup,
  matches: (state, step) => portgroupMatches(state, step.wanted),
};

const vmDef: StepKind<VmDefState> = { read: readVmDef, undo: undoVmDef, applyFor: applyVmDef };
const vmState: StepKind<string | null> = { read: readVmState, undo: undoVmState };
const vmNic: StepKind<NicState> = { read: readNic, undo: undoNic, applyFor: applyNic, matches: (s, step) => nicMatches(s, step.wanted) };
const vmNicPortgroup: StepKind<NicState> = { read: readNicConfig, undo: undoNicPortgroup, applyFor: applyNicPortgroup };

const KINDS: Record<Exclude<ProbeKind, 'host-state' | 'verify'>, StepKind<never>> = {
  'ovs-bridge': bridge as StepKind<never>,
  'ovs-port': port as StepKind<never>,
  'ovs-port-vlans': portVlans as StepKind<never>,
  'ovs-uplink-vlan': uplink as StepKind<never>,
  'libvirt-network-def': networkDef as StepKind<never>,
  'libvirt-network-run': networkRun as StepKind<never>,
  'libvirt-portgroup': portgroup as StepKind<never>,
  'libvirt-vm-def': vmDef as StepKind<never>,
  'libvirt-vm-state': vmState as StepKind<never>,
  'libvirt-vm-nic': vmNic as StepKind<never>,
  'libvirt-vm-nic-portgroup': vmNicPortgroup as StepKind<never>,
};

/** Whether a read state is as the step wants it. */
export function isAsWanted(kind: StepKind<unknown>, read: { value: string; state: unknown }, step: PlanStep): boolean {
  return kind.matches ? kind.matches(read.state, step) : read.value === step.wanted;
}

/**
 * Whether a step that reads as wanted works: a failure (code and message, to fail the step with)
 * or a warning to keep on its record. `before`: the read before this run changed the host, if it did.
 */
export function stepHealth(
  kind: StepKind<unknown>,
  read: { value: string; state: unknown },
  step: PlanStep,
  before?: { value: string; state: unknown },
): { failure: { code: ErrorCode; message: string } | null; warning: string | null } {
  const h = kind.health?.(read.state, step, before?.state);
  if (h?.failure) return { failure: { code: ErrorCode.OVS_INTERFACE_ERROR, message: h.failure }, warning: null };
  return { failure: null, warning: h?.warning ?? null };
}

export function stepKind(kind: ProbeKind): StepKind<unknown> {
  if (kind === 'host-state' || kind === 'verify')
    throw new TrunklineError(ErrorCode.JOB_INVALID, `${kind} steps are run by their own job kind`);
  return KINDS[kind] as StepKind<unknown>;
}
